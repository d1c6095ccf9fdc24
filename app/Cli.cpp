#include "Cli.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "core/Error.hpp"
#include "core/Runtime.hpp"

namespace taxon::app {

namespace fs = std::filesystem;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// Thrown by a subcommand whose engine part has not landed yet.
[[noreturn]] void notYet(const std::string& command, const std::string& what) {
  throw core::Error("taxon " + command + ": not available in this version yet: " + what);
}

// --- info ---------------------------------------------------------------------------------

struct InfoOptions {
  std::string format = "text";
};

int runInfo(const InfoOptions& options) {
  const core::RuntimeInfo info = core::queryRuntime();
  if (options.format == "json") {
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
    return kExitOk;
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
  return kExitOk;
}

// --- demo ---------------------------------------------------------------------------------

struct DemoOptions {
  std::string project;  // where the demo project goes
  std::string fashionMnistDir = "/usr/share/datasets/fashion-mnist";
};

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
  std::printf("Demo project: Fashion-MNIST from %s\n", data.string().c_str());
  std::printf("  project folder: %s\n", options.project.c_str());
  std::printf("  1. import          not in this version yet (the data issue adds it)\n");
  std::printf("  2. build-records   not in this version yet (the data issue adds it)\n");
  std::printf("  3. train           not in this version yet (the training issue adds it)\n");
  std::printf("  4. eval            not in this version yet (the training issue adds it)\n");
  std::printf("  5. classify        not in this version yet (the training issue adds it)\n");
  std::printf("The demo stops here: the engine in this version has no importer or trainer yet.\n");
  return kExitOk;
}

std::string defaultDemoProject() {
  const char* home = std::getenv("HOME");
  return (fs::path(home ? home : ".") / "taxon-projects" / "fashion-mnist").string();
}

}  // namespace

int runCli(int argc, char** argv) {
  CLI::App app("Taxon: train, inspect and serve image classifiers.", "taxon");
  app.set_version_flag("--version", std::function<std::string()>(
                                        [] { return core::versionLine(core::queryRuntime()); }));
  app.require_subcommand(1);
  app.fallthrough(false);
  app.footer("Run 'taxon COMMAND --help' for a command's flags.");

  // import
  auto* importCmd = app.add_subcommand("import",
                                       "Import images into a project (folders, CSV, "
                                       "Fashion-MNIST IDX, TFRecord shards)");
  std::string importProject;
  std::vector<std::string> importSources;
  std::string importFormat = "auto";
  double importValidation = 0.1;
  std::uint64_t importSeed = 0;
  importCmd->add_option("project", importProject, "Project folder (created if missing)")
      ->required();
  importCmd->add_option("sources", importSources, "Folders, CSV manifests, IDX or TFRecord files")
      ->required();
  importCmd->add_option("--format", importFormat, "Source format")
      ->check(CLI::IsMember({"auto", "folders", "csv", "idx", "tfrecord"}))
      ->capture_default_str();
  importCmd
      ->add_option("--validation_fraction", importValidation,
                   "Share of each category held out for validation")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  importCmd->add_option("--seed", importSeed, "Seed of the stratified split")
      ->capture_default_str();

  // build-records
  auto* recordsCmd =
      app.add_subcommand("build-records",
                         "Write TFRecord shards (tf.train.Example) and labels.txt, like the seed's "
                         "build_image_data.py");
  std::string trainDirectory, validationDirectory, outputDirectory, labelsFile, recordsProject;
  int trainShards = 2, validationShards = 2, recordThreads = 2, maxSide = 0;
  recordsCmd->add_option("--train_directory", trainDirectory, "Training image folders");
  recordsCmd->add_option("--validation_directory", validationDirectory, "Validation image folders");
  recordsCmd->add_option("--output_directory", outputDirectory, "Where the shards go");
  recordsCmd->add_option("--labels_file", labelsFile, "One category per line");
  recordsCmd->add_option("--project", recordsProject, "Build from a project's catalog instead");
  recordsCmd->add_option("--train_shards", trainShards)
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  recordsCmd->add_option("--validation_shards", validationShards)
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  recordsCmd->add_option("--num_threads", recordThreads)
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  recordsCmd
      ->add_option("--max_side", maxSide, "Re-encode images whose longer side exceeds N (0: keep)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();

  // train
  auto* trainCmd = app.add_subcommand("train", "Train Inception-v3 (the seed's recipe by default)");
  std::string trainDir, dataDir, device = "cpu";
  int numGpus = 1, batchSize = 32, imageSize = 299, logEvery = 10, saveEvery = 5000, replicas = 1;
  std::int64_t maxSteps = 10000000;
  double initialLr = 0.1, depthMultiplier = 1.0;
  bool resume = false;
  trainCmd->add_option("--train_dir", trainDir, "Where checkpoints and logs go");
  trainCmd->add_option("--data_dir", dataDir, "Folder of TFRecord shards");
  trainCmd->add_option("--num_gpus", numGpus)->check(CLI::PositiveNumber)->capture_default_str();
  trainCmd->add_option("--batch_size", batchSize, "Global batch size")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  trainCmd->add_option("--max_steps", maxSteps)->check(CLI::PositiveNumber)->capture_default_str();
  trainCmd->add_option("--initial_learning_rate", initialLr)->capture_default_str();
  trainCmd->add_option("--device", device)
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
  trainCmd->add_option("--replicas", replicas, "CPU ranks with --device cpu")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  trainCmd->add_option("--image_size", imageSize)
      ->check(CLI::Range(75, 1024))
      ->capture_default_str();
  trainCmd->add_option("--depth_multiplier", depthMultiplier)->capture_default_str();
  trainCmd->add_option("--log_every_n_steps", logEvery)->capture_default_str();
  trainCmd->add_option("--save_every_n_steps", saveEvery)->capture_default_str();
  trainCmd->add_flag("--resume", resume, "Continue the run in --train_dir");

  // eval
  auto* evalCmd = app.add_subcommand("eval",
                                     "Evaluate a checkpoint: precision@1, recall@5, "
                                     "confusions, likely mislabeled images");
  std::string checkpointDir, evalDir, evalDataDir, subset = "validation";
  evalCmd->add_option("--checkpoint_dir", checkpointDir);
  evalCmd->add_option("--eval_dir", evalDir);
  evalCmd->add_option("--data_dir", evalDataDir);
  evalCmd->add_option("--subset", subset)
      ->check(CLI::IsMember({"validation", "test", "train"}))
      ->capture_default_str();

  // classify
  auto* classifyCmd = app.add_subcommand("classify", "Rank categories for image files");
  std::string classifyCheckpoint, csvFile;
  int topK = 5;
  std::vector<std::string> images;
  classifyCmd->add_option("--checkpoint_dir", classifyCheckpoint)->required();
  classifyCmd->add_option("--top_k", topK)->check(CLI::PositiveNumber)->capture_default_str();
  classifyCmd->add_option("--csv", csvFile, "Also write a CSV table");
  classifyCmd->add_option("images", images, "Image files")->required();

  // export
  auto* exportCmd = app.add_subcommand("export", "Export weights (torchvision state_dict)");
  std::string exportCheckpoint, exportFormat = "torchvision", exportOutput;
  exportCmd->add_option("--checkpoint_dir", exportCheckpoint)->required();
  exportCmd->add_option("--format", exportFormat)
      ->check(CLI::IsMember({"torchvision"}))
      ->capture_default_str();
  exportCmd->add_option("--output", exportOutput)->required();

  // info
  auto* infoCmd = app.add_subcommand("info", "Show versions, devices and build details");
  InfoOptions info;
  infoCmd->add_option("--format", info.format)
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();

  // demo
  auto* demoCmd = app.add_subcommand(
      "demo", "Run the built-in Fashion-MNIST project end to end (import, train, eval, classify)");
  DemoOptions demo;
  demo.project = defaultDemoProject();
  demoCmd->add_option("--project", demo.project, "Project folder")->capture_default_str();
  demoCmd->add_option("--fashion_mnist_dir", demo.fashionMnistDir, "Fashion-MNIST IDX files")
      ->capture_default_str();

  // CLI11 reports an unknown command as "A subcommand is required"; name it instead.
  if (argc > 1 && argv[1][0] != '-') {
    const std::string first = argv[1];
    bool found = false;
    std::string known;
    for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
      found = found || sub->check_name(first);
      known += (known.empty() ? "" : ", ") + sub->get_name();
    }
    if (!found) {
      std::fprintf(stderr, "taxon: error: unknown command '%s' (commands: %s)\n", first.c_str(),
                   known.c_str());
      return kExitUsage;
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string message = e.what();
    if (app.get_subcommands().empty() && argc <= 1) {
      message = "no command given";
    }
    std::fprintf(stderr, "taxon: error: %s\nRun 'taxon --help' for usage.\n", message.c_str());
    return kExitUsage;
  }

  try {
    if (*infoCmd) {
      return runInfo(info);
    }
    if (*demoCmd) {
      return runDemo(demo);
    }
    if (*importCmd) {
      notYet("import", "the project catalog and importers arrive with the data issue");
    }
    if (*recordsCmd) {
      notYet("build-records", "TFRecord shard writing arrives with the data issue");
    }
    if (*trainCmd) {
      notYet("train", "Inception-v3 training arrives with the training issue");
    }
    if (*evalCmd) {
      notYet("eval", "evaluation arrives with the training issue");
    }
    if (*classifyCmd) {
      notYet("classify", "classification arrives with the training issue");
    }
    if (*exportCmd) {
      notYet("export", "weight export arrives with the training issue");
    }
  } catch (const core::UsageError& e) {
    std::fprintf(stderr, "taxon: error: %s\n", e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "taxon: error: %s\n", e.what());
    return kExitFailure;
  }
  return kExitFailure;
}

}  // namespace taxon::app
