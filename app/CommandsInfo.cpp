// `taxon info` and `taxon demo`.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "Cli.hpp"
#include "Commands.hpp"
#include "core/Error.hpp"
#include "core/Text.hpp"
#include "core/torch/Runtime.hpp"
#include "project/Catalog.hpp"
#include "records/RecordFile.hpp"
#include "train/Trainer.hpp"

namespace taxon::app {

namespace fs = std::filesystem;

namespace {

struct InfoOptions {
  std::string format = "text";
  std::string path;  // a project or TFRecord shards; empty: the runtime
  bool skipCorrupt = false;
};

// A project: categories with their images per split.
int describeProject(const fs::path& dir) {
  project::Catalog catalog(dir, /*create=*/false);
  const auto counts = catalog.countsByCategory();
  std::int64_t train = 0, validation = 0, test = 0, unassigned = 0;
  std::printf("Project %s\n", catalog.projectDir().c_str());
  // Columns by display width, not bytes: wide characters take two columns.
  std::size_t nameColumns = core::displayWidth("category");
  for (const auto& c : counts) {
    nameColumns = std::max(nameColumns, core::displayWidth(c.path));
  }
  const auto row = [&](const std::string& name, const std::string& a, const std::string& b,
                       const std::string& c, const std::string& d) {
    std::printf("  %s %9s %10s %9s %10s\n", core::padRight(name, nameColumns).c_str(), a.c_str(),
                b.c_str(), c.c_str(), d.c_str());
  };
  row("category", "train", "validation", "test", "unassigned");
  for (const auto& c : counts) {
    row(c.path, withThousands(c.train), withThousands(c.validation), withThousands(c.test),
        withThousands(c.unassigned));
    train += c.train;
    validation += c.validation;
    test += c.test;
    unassigned += c.unassigned;
  }
  row("all", withThousands(train), withThousands(validation), withThousands(test),
      withThousands(unassigned));
  const auto uncategorized = catalog.imageCount() - train - validation - test - unassigned;
  std::printf("%zu categories, %s images%s; %zu import problems on record.\n", counts.size(),
              withThousands(catalog.imageCount()).c_str(),
              uncategorized > 0
                  ? (" (" + withThousands(uncategorized) + " without a category)").c_str()
                  : "",
              catalog.importIssues(1000000).size());
  return 0;
}

// TFRecord shards: every record's two checksums are verified.
int verifyShards(const fs::path& path, bool skipCorrupt) {
  std::vector<fs::path> shards;
  if (fs::is_directory(path)) {
    for (const auto& entry : fs::directory_iterator(path)) {
      const auto name = entry.path().filename().string();
      if (entry.is_regular_file() &&
          (name.find("-of-") != std::string::npos || name.ends_with(".tfrecord") ||
           name.ends_with(".tfrecords"))) {
        shards.push_back(entry.path());
      }
    }
    std::sort(shards.begin(), shards.end());
  } else {
    shards.push_back(path);
  }
  if (shards.empty()) {
    core::throwFileError(path, "no TFRecord shards here and not a project (no taxon.sqlite)");
  }
  std::int64_t records = 0;
  std::int64_t damaged = 0;
  for (const auto& shard : shards) {
    records::RecordReader::Options options;
    options.skipCorrupt = skipCorrupt;
    options.onDamage = [](const records::RecordDamage& d) {
      std::fprintf(stderr, "  %s: byte %lld: %s (skipped)\n", d.file.c_str(),
                   static_cast<long long>(d.offset), d.what.c_str());
    };
    records::RecordReader reader(shard, options);
    std::string payload;
    std::int64_t count = 0;
    while (reader.next(payload)) {
      ++count;
    }
    std::printf("  %-40s %9s records\n", shard.filename().c_str(), withThousands(count).c_str());
    records += count;
    damaged += reader.damagedRecords();
  }
  std::printf("%zu shards, %s records with valid checksums, %s damaged.\n", shards.size(),
              withThousands(records).c_str(), withThousands(damaged).c_str());
  return damaged > 0 ? 1 : 0;
}

int runInfo(const InfoOptions& options) {
  if (!options.path.empty()) {
    const fs::path path = options.path;
    if (!fs::exists(path)) {
      core::throwFileError(path, "does not exist");
    }
    if (fs::exists(path / project::Catalog::kFileName)) {
      return describeProject(path);
    }
    return verifyShards(path, options.skipCorrupt);
  }
  const std::string& format = options.format;
  const core::RuntimeInfo info = core::queryRuntime();
  if (format == "json") {
    nlohmann::json devices = nlohmann::json::array();
    for (const auto& d : info.cudaDevices) {
      devices.push_back({{"index", d.index},
                         {"name", d.name},
                         {"memory_gib", d.memoryGiB},
                         {"compute_capability",
                          std::to_string(d.computeMajor) + "." + std::to_string(d.computeMinor)}});
    }
    const nlohmann::json out = {
        {"taxon", info.taxonVersion},           {"git_revision", info.gitRevision},
        {"libtorch", info.torchVersion},        {"libtorch_cuda", info.torchCudaVersion},
        {"cudnn", info.cudnnVersion},           {"nccl_compiled", info.ncclCompiled},
        {"cuda_available", info.cudaAvailable}, {"cuda_devices", devices},
        {"cpu_threads", info.cpuThreads},       {"opencv", info.opencvVersion},
        {"protobuf", info.protobufVersion},     {"sqlite", info.sqliteVersion}};
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::printf("Taxon %s (%s)\n", info.taxonVersion.c_str(), info.gitRevision.c_str());
  std::printf(
      "  LibTorch   %s, %s\n", info.torchVersion.c_str(),
      info.torchCudaVersion.empty() ? "CPU only" : ("CUDA " + info.torchCudaVersion).c_str());
  std::printf("  cuDNN      %s\n", info.cudnnVersion.empty() ? "-" : info.cudnnVersion.c_str());
  std::printf("  NCCL       %s\n", info.ncclCompiled ? "compiled in" : "not compiled in");
  std::printf("  OpenCV     %s\n", info.opencvVersion.c_str());
  std::printf("  protobuf   %s\n", info.protobufVersion.c_str());
  std::printf("  SQLite     %s\n", info.sqliteVersion.c_str());
  std::printf("  CPU        %d threads\n", info.cpuThreads);
  if (info.cudaDevices.empty()) {
    std::printf("  GPUs       none found (training runs on the CPU)\n");
  }
  for (const auto& d : info.cudaDevices) {
    std::printf("  GPU %d      %s, %.0f GiB, compute %d.%d\n", d.index, d.name.c_str(), d.memoryGiB,
                d.computeMajor, d.computeMinor);
  }
  return 0;
}

struct DemoOptions {
  std::string project;
  std::string fashionMnistDir = "/usr/share/datasets/fashion-mnist";
  std::int64_t limit = 0;
  int threads = 0;
  double epochs = 1.0;
  int imageSize = 75;
  double depthMultiplier = 0.25;
  int batchSize = 64;
};

// Runs one `taxon` step in this process, printing it first like a shell would.
int step(const std::string& title, const std::vector<std::string>& args) {
  std::printf("\n$ taxon");
  for (const auto& a : args) {
    std::printf(" %s", a.find(' ') == std::string::npos ? a.c_str() : ("'" + a + "'").c_str());
  }
  std::printf("    # %s\n", title.c_str());
  std::fflush(stdout);
  std::vector<std::string> argv = {"taxon"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> pointers;
  for (auto& a : argv) {
    pointers.push_back(a.data());
  }
  return runCli(static_cast<int>(pointers.size()), pointers.data());
}

int runDemo(const DemoOptions& options) {
  const fs::path data = options.fashionMnistDir;
  for (const char* name : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                           "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}) {
    if (!fs::exists(data / name)) {
      core::throwFileError(
          data / name,
          "missing; install Debian's dataset-fashion-mnist (packaging/setup-deps.sh "
          "does) or pass --fashion_mnist_dir");
    }
  }
  std::printf("%s\n", core::versionLine(core::queryRuntime()).c_str());
  std::printf("Demo: the built-in Fashion-MNIST project in %s\n", options.project.c_str());
  std::vector<std::string> import = {"import", options.project, data.string()};
  if (options.limit > 0) {
    import.push_back("--limit=" + std::to_string(options.limit));
  }
  if (options.threads > 0) {
    import.push_back("--num_threads=" + std::to_string(options.threads));
  }
  if (const int rc = step("Fashion-MNIST as PNG files, two-level categories", import); rc != 0) {
    return rc;
  }
  if (const int rc = step("TFRecord shards of the train, validation and test splits",
                          {"build-records", options.project, "--train_shards=4"});
      rc != 0) {
    return rc;
  }
  // A reduced Inception-v3 (a quarter of the channels, 75 x 75 inputs) trains on two CPU cores
  // at a few hundred images a second; the full model is `taxon train`'s default.
  const fs::path project = options.project;
  const fs::path trainDir = project / "train";
  std::vector<std::string> trainArgs = {"train",
                                        "--train_dir",
                                        trainDir.string(),
                                        "--data_dir",
                                        (project / "records").string(),
                                        "--recipe",
                                        "small-data",
                                        "--image_size",
                                        std::to_string(options.imageSize),
                                        "--depth_multiplier",
                                        std::to_string(options.depthMultiplier),
                                        "--batch_size",
                                        std::to_string(options.batchSize),
                                        "--num_epochs",
                                        std::to_string(options.epochs),
                                        "--log_every_n_steps",
                                        "50",
                                        "--eval_examples",
                                        "2000"};
  if (train::findRunFiles(trainDir).checkpoints > 0) {
    trainArgs.push_back("--resume");  // a demo run again goes on from where it was
  }
  if (const int rc = step("a reduced Inception-v3 on the train split", trainArgs); rc != 0) {
    return rc;
  }
  if (const int rc = step("the averaged weights on the test split",
                          {"eval", "--checkpoint_dir", trainDir.string(), "--eval_dir",
                           (project / "eval").string(), "--subset", "test"});
      rc != 0) {
    return rc;
  }
  // One test image of each of the first three categories' folders.
  std::vector<std::string> classify = {"classify", "--checkpoint_dir", trainDir.string(), "--top_k",
                                       "3"};
  std::vector<fs::path> folders;
  std::error_code error;
  for (fs::directory_iterator it(project / "images" / "fashion-mnist" / "test", error), end;
       !error && it != end; it.increment(error)) {
    folders.push_back(it->path());
  }
  std::sort(folders.begin(), folders.end());
  for (std::size_t i = 0; i < folders.size() && i < 3; ++i) {
    std::vector<fs::path> files;
    for (fs::directory_iterator it(folders[i], error), end; !error && it != end;
         it.increment(error)) {
      files.push_back(it->path());
    }
    if (!files.empty()) {
      classify.push_back(std::min_element(files.begin(), files.end())->string());
    }
  }
  if (classify.size() > 5) {
    if (const int rc = step("ranked categories for three test images", classify); rc != 0) {
      return rc;
    }
  }
  std::printf("\nDone. Checkpoints and metrics: %s; evaluation report: %s\n", trainDir.c_str(),
              (project / "eval").c_str());
  return 0;
}

}  // namespace

Command addInfoCommand(CLI::App& app) {
  auto* cli = app.add_subcommand(
      "info",
      "Show versions and devices; or a project's categories and splits; or verify TFRecord shards");
  auto options = std::make_shared<InfoOptions>();
  cli->add_option("path", options->path,
                  "A project folder, or TFRecord shards (a file or a folder) to verify");
  cli->add_option("--format", options->format, "For the runtime summary")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cli->add_flag("--skip_corrupt", options->skipCorrupt,
                "Shards: report damaged records and read on (default: stop at the first)");
  return {cli, [options] { return runInfo(*options); }};
}

Command addDemoCommand(CLI::App& app) {
  auto* cli = app.add_subcommand(
      "demo", "Run the built-in Fashion-MNIST project end to end (import, train, eval, classify)");
  auto options = std::make_shared<DemoOptions>();
  const char* home = std::getenv("HOME");
  options->project = (fs::path(home ? home : ".") / "taxon-projects" / "fashion-mnist").string();
  cli->add_option("--project", options->project, "Project folder")->capture_default_str();
  cli->add_option("--fashion_mnist_dir", options->fashionMnistDir, "Fashion-MNIST IDX files")
      ->capture_default_str();
  cli->add_option("--limit", options->limit,
                  "Use only the first N images of each IDX file (0: all)")
      ->check(atLeast(0))
      ->capture_default_str();
  cli->add_option("--epochs", options->epochs, "Training epochs")->capture_default_str();
  cli->add_option("--image_size", options->imageSize, "--model: input side in pixels")
      ->capture_default_str();
  cli->add_option("--depth_multiplier", options->depthMultiplier, "--model: channel multiplier")
      ->capture_default_str();
  cli->add_option("--batch_size", options->batchSize, "--model: batch for the memory estimate")
      ->capture_default_str();
  cli->add_option("--num_threads", options->threads, "Threads for image checks (0: all cores)")
      ->check(atLeast(0));
  return {cli, [options] { return runDemo(*options); }};
}

}  // namespace taxon::app
