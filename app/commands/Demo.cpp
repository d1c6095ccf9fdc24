#include "commands/Demo.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <vector>

#include "Cli.hpp"
#include "core/Error.hpp"
#include "core/torch/Runtime.hpp"
#include "project/ProjectLayout.hpp"
#include "train/Trainer.hpp"

namespace taxon::app {

namespace fs = std::filesystem;

namespace {

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

// One test image (the first by name) of each of the first `count` category folders of the
// extracted Fashion-MNIST test split.
std::vector<fs::path> firstTestImages(const project::ProjectLayout& layout, std::size_t count) {
  std::vector<fs::path> folders;
  std::error_code error;
  for (fs::directory_iterator it(layout.imagesDir() / "fashion-mnist" / "test", error), end;
       !error && it != end; it.increment(error)) {
    folders.push_back(it->path());
  }
  std::sort(folders.begin(), folders.end());
  std::vector<fs::path> images;
  for (std::size_t i = 0; i < folders.size() && i < count; ++i) {
    std::vector<fs::path> files;
    for (fs::directory_iterator it(folders[i], error), end; !error && it != end;
         it.increment(error)) {
      files.push_back(it->path());
    }
    if (!files.empty()) {
      images.push_back(*std::min_element(files.begin(), files.end()));
    }
  }
  return images;
}

}  // namespace

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
  const project::ProjectLayout layout(options.project);
  const fs::path trainDir = layout.demoRunDir();
  std::vector<std::string> trainArgs = {"train",
                                        "--train_dir",
                                        trainDir.string(),
                                        "--data_dir",
                                        layout.recordsDir().string(),
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
                           layout.demoEvalDir().string(), "--subset", "test"});
      rc != 0) {
    return rc;
  }
  std::vector<std::string> classify = {"classify", "--checkpoint_dir", trainDir.string(), "--top_k",
                                       "3"};
  for (const auto& image : firstTestImages(layout, 3)) {
    classify.push_back(image.string());
  }
  if (classify.size() > 5) {
    if (const int rc = step("ranked categories for three test images", classify); rc != 0) {
      return rc;
    }
  }
  std::printf("\nDone. Checkpoints and metrics: %s; evaluation report: %s\n", trainDir.c_str(),
              layout.demoEvalDir().c_str());
  return 0;
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
