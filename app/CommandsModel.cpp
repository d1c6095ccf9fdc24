// `taxon train`, `eval`, `classify` and `export`: their flags are in place; the engine parts
// arrive with the training issue, and until then each says so and fails.
#include <memory>

#include "Commands.hpp"
#include "core/Error.hpp"

namespace taxon::app {

namespace {

[[noreturn]] void notYet(const std::string& what) {
  throw core::Error("not available in this version yet: " + what);
}

struct TrainOptions {
  std::string trainDir, dataDir, device = "cpu";
  int numGpus = 1, batchSize = 32, imageSize = 299, logEvery = 10, saveEvery = 5000, replicas = 1;
  std::int64_t maxSteps = 10000000;
  double initialLearningRate = 0.1, depthMultiplier = 1.0;
  bool resume = false;
};

}  // namespace

Command addTrainCommand(CLI::App& app) {
  auto* cli = app.add_subcommand("train", "Train Inception-v3 (the seed's recipe by default)");
  auto o = std::make_shared<TrainOptions>();
  cli->add_option("--train_dir", o->trainDir, "Where checkpoints and logs go");
  cli->add_option("--data_dir", o->dataDir, "Folder of TFRecord shards");
  cli->add_option("--num_gpus", o->numGpus)->check(CLI::PositiveNumber)->capture_default_str();
  cli->add_option("--batch_size", o->batchSize, "Global batch size")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cli->add_option("--max_steps", o->maxSteps)->check(CLI::PositiveNumber)->capture_default_str();
  cli->add_option("--initial_learning_rate", o->initialLearningRate)->capture_default_str();
  cli->add_option("--device", o->device)
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
  cli->add_option("--replicas", o->replicas, "CPU ranks with --device cpu")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cli->add_option("--image_size", o->imageSize)->check(CLI::Range(75, 1024))->capture_default_str();
  cli->add_option("--depth_multiplier", o->depthMultiplier)->capture_default_str();
  cli->add_option("--log_every_n_steps", o->logEvery)->capture_default_str();
  cli->add_option("--save_every_n_steps", o->saveEvery)->capture_default_str();
  cli->add_flag("--resume", o->resume, "Continue the run in --train_dir");
  return {cli, [o]() -> int { notYet("Inception-v3 training arrives with the training issue"); }};
}

Command addEvalCommand(CLI::App& app) {
  auto* cli = app.add_subcommand(
      "eval", "Evaluate a checkpoint: precision@1, recall@5, confusions, likely mislabeled images");
  auto o = std::make_shared<std::vector<std::string>>(4);
  (*o)[3] = "validation";
  cli->add_option("--checkpoint_dir", (*o)[0]);
  cli->add_option("--eval_dir", (*o)[1]);
  cli->add_option("--data_dir", (*o)[2]);
  cli->add_option("--subset", (*o)[3])
      ->check(CLI::IsMember({"validation", "test", "train"}))
      ->capture_default_str();
  return {cli, [o]() -> int { notYet("evaluation arrives with the training issue"); }};
}

Command addClassifyCommand(CLI::App& app) {
  auto* cli = app.add_subcommand("classify", "Rank categories for image files");
  struct Options {
    std::string checkpointDir, csv;
    int topK = 5;
    std::vector<std::string> images;
  };
  auto o = std::make_shared<Options>();
  cli->add_option("--checkpoint_dir", o->checkpointDir)->required();
  cli->add_option("--top_k", o->topK)->check(CLI::PositiveNumber)->capture_default_str();
  cli->add_option("--csv", o->csv, "Also write a CSV table");
  cli->add_option("images", o->images, "Image files")->required();
  return {cli, [o]() -> int { notYet("classification arrives with the training issue"); }};
}

Command addExportCommand(CLI::App& app) {
  auto* cli = app.add_subcommand("export", "Export weights (torchvision state_dict)");
  auto o = std::make_shared<std::vector<std::string>>(3);
  (*o)[1] = "torchvision";
  cli->add_option("--checkpoint_dir", (*o)[0])->required();
  cli->add_option("--format", (*o)[1])
      ->check(CLI::IsMember({"torchvision"}))
      ->capture_default_str();
  cli->add_option("--output", (*o)[2])->required();
  return {cli, [o]() -> int { notYet("weight export arrives with the training issue"); }};
}

}  // namespace taxon::app
