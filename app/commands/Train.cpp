#include "commands/Train.hpp"

#include <cstdio>
#include <filesystem>
#include <memory>

#include "Interrupt.hpp"
#include "TerminalProgress.hpp"
#include "core/Error.hpp"
#include "core/Progress.hpp"
#include "train/Teacher.hpp"
#include "train/Trainer.hpp"

namespace taxon::app {

namespace {

// Whether the flag was on the command line (an option never made counts as not given).
bool wasGiven(const CLI::Option* option) {
  return option != nullptr && option->count() > 0;
}

void printLine(const std::unique_ptr<TerminalProgress>& bar, std::FILE* to,
               const std::string& line) {
  if (bar) {
    bar->print(to, line);
  } else {
    std::fprintf(to, "%s\n", line.c_str());
    std::fflush(to);
  }
}

template <typename T>
CLI::Option* addSetting(CLI::App& cli, TrainOptions& f, const std::string& flag,
                        T settings::TrainSettings::*member, const std::string& help) {
  auto* option = cli.add_option(flag, f.given.*member, help);
  f.copies.emplace_back(option,
                        [&f, member](settings::TrainSettings& s) { s.*member = f.given.*member; });
  return option;
}

// Devices, replicas and how they share the work.
void addDeviceFlags(CLI::App* cli, const std::shared_ptr<TrainOptions>& f) {
  f->numGpusOption =
      cli->add_option("--num_gpus", f->numGpus,
                      "GPUs to train on, one replica each (implies --device cuda); the global "
                      "batch is split between them")
          ->check(atLeast(1))
          ->capture_default_str();
  f->copies.emplace_back(f->numGpusOption, [flags = f.get()](settings::TrainSettings& s) {
    s.replicas = flags->numGpus;
  });
  f->deviceOption =
      addSetting(*cli, *f, "--device", &settings::TrainSettings::device, "cpu, cuda or cuda:N")
          ->default_str("cpu");
  addSetting(*cli, *f, "--replicas", &settings::TrainSettings::replicas,
             "Data-parallel replicas in this process (CPU ranks, or GPUs like --num_gpus); "
             "torchrun or srun multiply them by the number of processes")
      ->check(atLeast(1))
      ->default_str("1");
  f->copies.emplace_back(
      cli->add_flag("--sync_batchnorm", f->syncBatchNorm,
                    "Batch-norm statistics over every replica's batch (default: each its own)"),
      [flags = f.get()](settings::TrainSettings& s) { s.syncBatchNorm = flags->syncBatchNorm; });
  addSetting(*cli, *f, "--precision", &settings::TrainSettings::precision,
             "bf16 (autocast, on a GPU or a CPU), fp32, or auto: bf16 on a GPU of compute "
             "capability 8.0 or newer, fp32 elsewhere")
      ->check(CLI::IsMember({"auto", "bf16", "fp32"}))
      ->default_str("auto");
  addSetting(*cli, *f, "--channels_last", &settings::TrainSettings::channelsLast,
             "NHWC memory layout (faster on GPUs and in oneDNN)")
      ->default_str("true");
  addSetting(*cli, *f, "--cudnn_benchmark", &settings::TrainSettings::cudnnBenchmark,
             "CUDA: let cuDNN pick the fastest algorithms")
      ->default_str("true");
  addSetting(*cli, *f, "--bucket_cap_mb", &settings::TrainSettings::bucketMiB,
             "Gradient all-reduce bucket size in MiB")
      ->default_str("25");
  addSetting(*cli, *f, "--collective_timeout", &settings::TrainSettings::collectiveTimeoutSeconds,
             "Seconds a replica may wait for the others before the run stops naming the silent "
             "rank")
      ->default_str("1800");
}

// Batch, length, learning rate and optimizer.
void addOptimizerFlags(CLI::App* cli, const std::shared_ptr<TrainOptions>& f) {
  addSetting(*cli, *f, "--batch_size", &settings::TrainSettings::batchSize, "Global batch size")
      ->check(atLeast(1))
      ->default_str("32");
  addSetting(*cli, *f, "--max_steps", &settings::TrainSettings::maxSteps,
             "Stop after this many steps")
      ->default_str("10000000");
  addSetting(*cli, *f, "--num_epochs", &settings::TrainSettings::maxEpochs,
             "Stop after this many epochs (whichever limit comes first)");
  addSetting(*cli, *f, "--initial_learning_rate", &settings::TrainSettings::learningRate,
             "Learning rate after warm-up (default: the recipe's rate per 256 x batch_size / 256)");
  addSetting(*cli, *f, "--learning_rate_per_256", &settings::TrainSettings::learningRatePer256,
             "Linear scaling rule: 0.1 inception, 0.4 small-data");
  addSetting(*cli, *f, "--num_epochs_per_decay", &settings::TrainSettings::decayEpochs,
             "Staircase schedule: epochs between decays")
      ->default_str("30");
  addSetting(*cli, *f, "--learning_rate_decay_factor", &settings::TrainSettings::decayFactor,
             "Staircase schedule: factor per decay")
      ->default_str("0.16");
  f->copies.emplace_back(
      cli->add_option("--optimizer", f->optimizer, "rmsprop or sgd (default: the recipe's)")
          ->check(CLI::IsMember({"rmsprop", "sgd"})),
      [flags = f.get()](settings::TrainSettings& s) {
        s.optimizer = settings::parseOptimizer(flags->optimizer);
      });
  f->copies.emplace_back(cli->add_option("--lr_schedule", f->schedule,
                                         "staircase, cosine or constant (default: the recipe's)")
                             ->check(CLI::IsMember({"staircase", "cosine", "constant"})),
                         [flags = f.get()](settings::TrainSettings& s) {
                           s.schedule = settings::parseSchedule(flags->schedule);
                         });
  addSetting(*cli, *f, "--warmup_epochs", &settings::TrainSettings::warmupEpochs,
             "Linear learning-rate warm-up (default: the recipe's)");
  addSetting(*cli, *f, "--momentum", &settings::TrainSettings::momentum, "Default 0.9");
  addSetting(*cli, *f, "--rmsprop_decay", &settings::TrainSettings::rmsDecay, "Default 0.9");
  addSetting(*cli, *f, "--rmsprop_epsilon", &settings::TrainSettings::rmsEpsilon, "Default 1.0");
  addSetting(*cli, *f, "--label_smoothing", &settings::TrainSettings::labelSmoothing,
             "Default 0.1");
  addSetting(*cli, *f, "--aux_loss_weight", &settings::TrainSettings::auxWeight, "Default 0.4");
  addSetting(*cli, *f, "--weight_decay", &settings::TrainSettings::weightDecay, "Default 4e-5");
  addSetting(*cli, *f, "--batchnorm_decay", &settings::TrainSettings::batchNormDecay,
             "Default: the recipe's (0.9997 inception, 0.99 small-data)");
  addSetting(*cli, *f, "--moving_average_decay", &settings::TrainSettings::emaDecay,
             "Weight average used by eval and classify (0.9999 inception, 0.999 small-data)");
}

// The network, the image distortions and where the weights start.
void addModelFlags(CLI::App* cli, const std::shared_ptr<TrainOptions>& f) {
  addSetting(*cli, *f, "--dropout", &settings::TrainSettings::dropout,
             "Before the classifier (default 0.2: the seed's keep probability 0.8)");
  f->imageSizeOption = addSetting(*cli, *f, "--image_size", &settings::TrainSettings::imageSize,
                                  "Input side in pixels")
                           ->check(CLI::Range(75, 1024))
                           ->default_str(f->distill ? "the teacher's" : "299");
  f->depthOption =
      addSetting(*cli, *f, "--depth_multiplier", &settings::TrainSettings::depthMultiplier,
                 "TF-slim's channel multiplier (minimum depth 16)")
          ->default_str(f->distill ? "half the teacher's" : "1.0");
  addSetting(*cli, *f, "--min_crop_area", &settings::TrainSettings::minCropArea,
             "Smallest random crop, fraction of the area (0.05 inception, 0.8 small-data)");
  f->copies.emplace_back(
      cli->add_option("--colour_distort", f->colour,
                      "Random brightness, saturation, hue and contrast (default: the recipe's)"),
      [flags = f.get()](settings::TrainSettings& s) { s.colourDistort = flags->colour; });
  f->copies.emplace_back(
      cli->add_flag("--no_distort", f->noDistort,
                    "Train on whole images: no random crop, flip or colour change"),
      [flags = f.get()](settings::TrainSettings& s) { s.distort = !flags->noDistort; });
  f->copies.emplace_back(
      cli->add_flag("--no_aux_logits", f->noAux, "Leave out the auxiliary head"),
      [flags = f.get()](settings::TrainSettings& s) { s.auxLogits = !flags->noAux; });
  auto* initFrom = addSetting(*cli, *f, "--init_from", &settings::TrainSettings::initFrom,
                              "Start from a torchvision state_dict (transfer learning)");
  f->copies.emplace_back(
      cli->add_option("--pretrained_model_checkpoint_path", f->initFrom, "Same as --init_from")
          ->excludes(initFrom),
      [flags = f.get()](settings::TrainSettings& s) { s.initFrom = flags->initFrom; });
  addSetting(*cli, *f, "--seed", &settings::TrainSettings::seed, "Seed of weights and data order")
      ->default_str("1");
}

// Loading, logging, checkpoints and evaluation during training.
void addLoopFlags(CLI::App* cli, const std::shared_ptr<TrainOptions>& f) {
  addSetting(*cli, *f, "--num_preprocess_threads", &settings::TrainSettings::loaderThreads,
             "Image decoding threads (0: one per core)");
  addSetting(*cli, *f, "--num_threads", &settings::TrainSettings::torchThreads,
             "LibTorch threads on the CPU (0: its default)");
  addSetting(*cli, *f, "--shuffle_buffer", &settings::TrainSettings::shuffleBuffer, "Records")
      ->default_str("8192");
  addSetting(*cli, *f, "--log_every_n_steps", &settings::TrainSettings::logEverySteps,
             "The seed's line and event-file scalars")
      ->default_str("10");
  addSetting(*cli, *f, "--save_every_n_steps", &settings::TrainSettings::saveEverySteps,
             "Checkpoint interval (and one at the end, or when stopped)")
      ->default_str("5000");
  addSetting(*cli, *f, "--keep_checkpoints", &settings::TrainSettings::keepCheckpoints, "Newest K")
      ->default_str("5");
  addSetting(*cli, *f, "--eval_every_n_steps", &settings::TrainSettings::evalEverySteps,
             "Validation during training (0: only at the end)");
  addSetting(*cli, *f, "--eval_subset", &settings::TrainSettings::evalSubset,
             "Split evaluated during training")
      ->default_str("validation");
  addSetting(*cli, *f, "--eval_examples", &settings::TrainSettings::evalExamples,
             "Validation images per evaluation (0: all)")
      ->default_str("10000");
  addSetting(*cli, *f, "--recalibrate_batch_norm", &settings::TrainSettings::recalibrateExamples,
             "Training images from which batch-norm statistics are recomputed for the averaged "
             "weights at each evaluation and checkpoint (0: the training network's)")
      ->default_str("4096");
}

}  // namespace

int runTrain(TrainOptions& f) {
  if (f.trainDir.empty() || (f.dataDir.empty() && !f.resume)) {
    throw core::UsageError("--train_dir and --data_dir are required");
  }
  settings::TrainSettings settings;
  if (f.resume) {
    settings = train::readRunSettings(f.trainDir);
    // Resuming keeps the run's saved settings; a recipe given now replaces them first, so that
    // the other flags given now still override it.
    if (!f.recipe.empty() && wasGiven(f.recipeOption)) {
      settings.applyRecipe(f.recipe);
    }
  } else if (f.distill) {
    // The student is trained as its teacher was, at the teacher's input size and half its width
    // (a quarter of its multiply-adds); flags given below override each.
    if (f.teacherDir.empty()) {
      throw core::UsageError("--teacher_dir is required: the train dir of the run to learn from");
    }
    const auto teacher = train::readTeacherSettings(f.teacherDir);
    settings.applyRecipe(wasGiven(f.recipeOption) ? f.recipe : teacher.recipe);
    settings.imageSize = teacher.imageSize;
    settings.depthMultiplier = teacher.depthMultiplier / 2.0;
  } else {
    settings.applyRecipe(f.recipe);
  }
  settings.trainDir = f.trainDir;
  if (!f.dataDir.empty()) {
    settings.dataDir = f.dataDir;
  }
  for (auto& [option, copy] : f.copies) {
    if (wasGiven(option) && copy) {
      copy(settings);
    }
  }
  // The run records where its teacher is: absolute, so that a resume from elsewhere finds it.
  if (settings.distilling()) {
    settings.teacherDir = std::filesystem::absolute(settings.teacherDir).lexically_normal();
  }
  // The seed's `--num_gpus 8` alone means CUDA.
  if (wasGiven(f.numGpusOption)) {
    if (!wasGiven(f.deviceOption)) {
      settings.device = "cuda";
    } else if (settings.device == "cpu" && f.numGpus > 1) {
      throw core::UsageError("--num_gpus " + std::to_string(f.numGpus) +
                             " with --device cpu: for several CPU replicas use --replicas");
    }
  }
  const auto bar = barIfTerminal();
  train::TrainCallbacks callbacks;
  callbacks.onLog = [&](const std::string& line) {
    const bool notice = line.rfind("warning", 0) == 0 || line.rfind("skipped", 0) == 0;
    printLine(bar, notice ? stderr : stdout, line);
  };
  if (bar) {
    callbacks.progress = bar->callback();
  }
  const auto result = train::train(settings, f.resume, callbacks, interruptToken());
  if (bar) {
    bar->finish();
  }
  if (result.stopped) {
    std::fprintf(stderr,
                 "Stopped at step %lld; checkpoint %s. Continue with: taxon %s --train_dir %s "
                 "--resume\n",
                 static_cast<long long>(result.step), result.lastCheckpoint.c_str(),
                 f.distill ? "distill" : "train", settings.trainDir.c_str());
    return 1;
  }
  if (f.resume && result.stepsThisRun == 0 && result.step >= result.totalSteps) {
    std::fprintf(stderr,
                 "taxon train: error: nothing to train: the run in %s is at step %s, the end set "
                 "by %s (%s steps). To train on, resume with a larger %s.\n",
                 settings.trainDir.c_str(), withThousands(result.step).c_str(),
                 result.limit.c_str(), withThousands(result.totalSteps).c_str(),
                 result.limit.c_str());
    return 1;
  }
  std::fprintf(stderr, "Trained %s in %s (step %s); checkpoint %s\n",
               countOf(result.stepsThisRun, "step").c_str(),
               core::formatDuration(result.seconds).c_str(), withThousands(result.step).c_str(),
               result.lastCheckpoint.empty() ? "written by rank 0" : result.lastCheckpoint.c_str());
  return 0;
}

namespace {

// The flags of `taxon train` (and of `taxon distill`, which adds its own).
void addRunFlags(CLI::App* cli, const std::shared_ptr<TrainOptions>& f) {
  // --recipe is not copied like the other flags: runTrain applies it before them.
  f->recipeOption =
      cli->add_option("--recipe", f->recipe,
                      "inception (the seed's: RMSProp, staircase decay) or small-data (SGD, "
                      "warm-up and cosine decay; for short runs on small data)")
          ->check(CLI::IsMember({"inception", "small-data"}))
          ->default_str(f->distill ? "the teacher's" : "inception");
  cli->add_option("--train_dir", f->trainDir, "Where checkpoints, metrics and event files go")
      ->required();
  cli->add_option("--data_dir", f->dataDir, "Folder of TFRecord shards (taxon build-records)");
  // In the order of `taxon train --help`.
  addDeviceFlags(cli, f);
  addOptimizerFlags(cli, f);
  addModelFlags(cli, f);
  addLoopFlags(cli, f);
  cli->add_flag("--resume", f->resume,
                "Continue the run in --train_dir from its newest checkpoint (flags given now "
                "override its length, intervals, device and threads)");
}

}  // namespace

Command addTrainCommand(CLI::App& app) {
  auto* cli = app.add_subcommand("train", "Train Inception-v3 (the seed's recipe by default)");
  auto f = std::make_shared<TrainOptions>();
  addRunFlags(cli, f);
  return {cli, [f]() -> int { return runTrain(*f); }};
}

Command addDistillCommand(CLI::App& app) {
  auto* cli = app.add_subcommand(
      "distill",
      "Train a smaller Inception-v3 to imitate a trained one (knowledge distillation): the "
      "teacher's softened outputs on each batch as targets, with the labels");
  auto f = std::make_shared<TrainOptions>();
  f->distill = true;
  addRunFlags(cli, f);
  f->copies.emplace_back(
      cli->add_option("--teacher_dir", f->teacherDir,
                      "The teacher: a train dir (its newest checkpoint) or one checkpoint file, "
                      "trained on the same categories. Recorded with the run; when resuming, "
                      "only to say where the same teacher has moved"),
      [flags = f.get()](settings::TrainSettings& s) { s.teacherDir = flags->teacherDir; });
  addSetting(*cli, *f, "--temperature", &settings::TrainSettings::temperature,
             "Softens both networks' outputs: softmax(logits / T)")
      ->check(CLI::PositiveNumber)
      ->default_str("4");
  addSetting(*cli, *f, "--distill_weight", &settings::TrainSettings::distillWeight,
             "Loss = (1 - A) x cross-entropy on the labels + A x T^2 x KL(teacher || student)")
      ->check(CLI::Range(0.0, 1.0))
      ->default_str("0.9");
  return {cli, [f]() -> int { return runTrain(*f); }};
}

}  // namespace taxon::app
