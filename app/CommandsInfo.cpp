// `taxon info` and `taxon demo`.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "Cli.hpp"
#include "Commands.hpp"
#include "core/Error.hpp"
#include "core/Runtime.hpp"

namespace taxon::app {

namespace fs = std::filesystem;

namespace {

int runInfo(const std::string& format) {
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
  std::printf(
      "\nThe demo stops here: training, evaluation and classification arrive with the "
      "training issue.\n");
  return 0;
}

}  // namespace

Command addInfoCommand(CLI::App& app) {
  auto* cli = app.add_subcommand("info", "Show versions, devices and build details");
  auto format = std::make_shared<std::string>("text");
  cli->add_option("--format", *format)
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  return {cli, [format] { return runInfo(*format); }};
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
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cli->add_option("--num_threads", options->threads, "Threads for image checks (0: all cores)")
      ->check(CLI::NonNegativeNumber);
  return {cli, [options] { return runDemo(*options); }};
}

}  // namespace taxon::app
