// `taxon train`, `eval`, `classify` and `export`: the seed's flags and output lines on top of the
// engine's trainer, evaluator and classifier.
#include <unistd.h>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "Commands.hpp"
#include "Interrupt.hpp"
#include "checkpoint/Checkpoint.hpp"
#include "checkpoint/TrainedModel.hpp"
#include "core/Error.hpp"
#include "core/Files.hpp"
#include "core/Progress.hpp"
#include "eval/torch/Evaluator.hpp"
#include "infer/Classifier.hpp"
#include "train/Trainer.hpp"

namespace taxon::app {

namespace fs = std::filesystem;

namespace {

// A progress bar only where someone watches: on a terminal. In logs the seed's lines are enough.
std::unique_ptr<core::TerminalProgress> barIfTerminal() {
  if (isatty(fileno(stderr)) != 0) {
    return std::make_unique<core::TerminalProgress>(stderr);
  }
  return nullptr;
}

void printLine(const std::unique_ptr<core::TerminalProgress>& bar, std::FILE* to,
               const std::string& line) {
  if (bar) {
    bar->print(to, line);
  } else {
    std::fprintf(to, "%s\n", line.c_str());
    std::fflush(to);
  }
}

// `taxon train` options: each flag the user gives is copied onto the settings of the run, which
// are the recipe's defaults for a new run and the saved ones for --resume.
struct TrainFlags {
  settings::TrainSettings given;
  std::string trainDir, dataDir, initFrom, optimizer, schedule, recipe = "inception";
  int numGpus = 1;
  CLI::Option* numGpusOption = nullptr;
  CLI::Option* deviceOption = nullptr;
  bool syncBatchNorm = false;
  bool resume = false;
  bool noAux = false;
  bool noDistort = false;
  bool colour = true;
  // Each given flag's copy into the settings. The copies hold a plain pointer to these flags,
  // never the shared_ptr that owns them: that would be a cycle, never freed.
  std::vector<std::pair<CLI::Option*, std::function<void(settings::TrainSettings&)>>> copies;
};

template <typename T>
CLI::Option* addSetting(CLI::App& cli, TrainFlags& f, const std::string& flag,
                        T settings::TrainSettings::*member, const std::string& help) {
  auto* option = cli.add_option(flag, f.given.*member, help);
  f.copies.emplace_back(option,
                        [&f, member](settings::TrainSettings& s) { s.*member = f.given.*member; });
  return option;
}

int runTrain(TrainFlags& f) {
  if (f.trainDir.empty() || (f.dataDir.empty() && !f.resume)) {
    throw core::UsageError("--train_dir and --data_dir are required");
  }
  settings::TrainSettings settings;
  if (f.resume) {
    settings = train::readRunSettings(f.trainDir);
    if (!f.recipe.empty() && f.copies.front().first->count() > 0) {
      settings.applyRecipe(f.recipe);
    }
  } else {
    settings.applyRecipe(f.recipe);
  }
  settings.trainDir = f.trainDir;
  if (!f.dataDir.empty()) {
    settings.dataDir = f.dataDir;
  }
  for (auto& [option, copy] : f.copies) {
    if (option->count() > 0 && copy) {
      copy(settings);
    }
  }
  // The seed's `--num_gpus 8` alone means CUDA.
  if (f.numGpusOption->count() > 0) {
    if (f.deviceOption->count() == 0) {
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
                 "Stopped at step %lld; checkpoint %s. Continue with: taxon train --train_dir %s "
                 "--resume\n",
                 static_cast<long long>(result.step), result.lastCheckpoint.c_str(),
                 settings.trainDir.c_str());
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

}  // namespace

Command addTrainCommand(CLI::App& app) {
  auto* cli = app.add_subcommand("train", "Train Inception-v3 (the seed's recipe by default)");
  auto f = std::make_shared<TrainFlags>();
  // First: --recipe (runTrain looks it up as copies.front()).
  f->copies.emplace_back(
      cli->add_option("--recipe", f->recipe,
                      "inception (the seed's: RMSProp, staircase decay) or small-data (SGD, "
                      "warm-up and cosine decay; for short runs on small data)")
          ->check(CLI::IsMember({"inception", "small-data"}))
          ->capture_default_str(),
      nullptr);
  cli->add_option("--train_dir", f->trainDir, "Where checkpoints, metrics and event files go")
      ->required();
  cli->add_option("--data_dir", f->dataDir, "Folder of TFRecord shards (taxon build-records)");
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
             "CUDA: bf16 (autocast) or fp32")
      ->check(CLI::IsMember({"bf16", "fp32"}))
      ->default_str("bf16");
  addSetting(*cli, *f, "--channels_last", &settings::TrainSettings::channelsLast,
             "CUDA: NHWC memory layout")
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
  addSetting(*cli, *f, "--dropout", &settings::TrainSettings::dropout,
             "Before the classifier (default 0.2: the seed's keep probability 0.8)");
  addSetting(*cli, *f, "--image_size", &settings::TrainSettings::imageSize, "Input side in pixels")
      ->check(CLI::Range(75, 1024))
      ->default_str("299");
  addSetting(*cli, *f, "--depth_multiplier", &settings::TrainSettings::depthMultiplier,
             "TF-slim's channel multiplier (minimum depth 16)")
      ->default_str("1.0");
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
  cli->add_flag("--resume", f->resume,
                "Continue the run in --train_dir from its newest checkpoint (flags given now "
                "override its length, intervals, device and threads)");
  return {cli, [f]() -> int { return runTrain(*f); }};
}

Command addEvalCommand(CLI::App& app) {
  auto* cli = app.add_subcommand(
      "eval", "Evaluate a checkpoint: precision@1, recall@5, confusions, likely mislabeled images");
  auto s = std::make_shared<eval::EvalSettings>();
  s->model.batchSize = 64;
  cli->add_option("--checkpoint_dir", s->checkpoint, "Train dir (its newest checkpoint) or file")
      ->required();
  cli->add_option("--eval_dir", s->evalDir,
                  "Where the report files go (default: eval/ in the train dir)");
  cli->add_option("--data_dir", s->dataDir, "Record shards (default: the ones trained on)");
  cli->add_option("--subset", s->model.subset, "Split to evaluate")
      ->check(CLI::IsMember({"validation", "test", "train"}))
      ->capture_default_str();
  cli->add_option("--device", s->device, "cpu, cuda or cuda:N")->capture_default_str();
  cli->add_option("--batch_size", s->model.batchSize, "Images per forward pass")
      ->check(atLeast(1))
      ->capture_default_str();
  cli->add_option("--num_examples", s->model.maxExamples, "Evaluate the first N only (0: all)")
      ->capture_default_str();
  cli->add_option("--num_preprocess_threads", s->model.loaderThreads, "0: one per core");
  cli->add_option("--recalibrate_batch_norm", s->recalibrateExamples,
                  "First recompute batch-norm statistics for the averaged weights from N training "
                  "images (checkpoints that carry none of their own; 0: off)")
      ->capture_default_str();
  cli->add_option("--top_k", s->model.metrics.topK, "K of recall@K")
      ->check(atLeast(1))
      ->capture_default_str();
  cli->add_flag("--skip_corrupt", s->model.skipCorrupt,
                "Evaluate past damaged records (failing their checksums, or a shard cut short) "
                "instead of failing; what was skipped and lost is reported");
  cli->add_option("--max_mislabeled", s->model.metrics.maxMislabeled,
                  "Images most likely mislabeled to list in the report")
      ->capture_default_str();
  cli->add_option("--max_confused_pairs", s->model.metrics.maxConfusedPairs,
                  "Most-confused category pairs to list in the report")
      ->capture_default_str();
  return {cli, [s]() -> int {
            // The report goes to the run's eval/ unless told otherwise.
            if (s->evalDir.empty()) {
              std::error_code error;
              s->evalDir = fs::is_directory(s->checkpoint, error)
                               ? s->checkpoint / "eval"
                               : s->checkpoint.parent_path() / "eval";
            }
            const auto bar = barIfTerminal();
            const auto outcome = eval::evaluateCheckpoint(
                *s, interruptToken(), bar ? bar->callback() : core::ProgressFn{});
            if (bar) {
              bar->finish();
            }
            for (const auto& warning : outcome.warnings) {
              std::fprintf(stderr, "warning: %s\n", warning.c_str());
            }
            if (outcome.stopped) {
              std::fprintf(stderr, "Evaluation cancelled; no report written.\n");
              return 1;
            }
            const auto& r = outcome.report;
            constexpr std::size_t kListed = 20;
            for (std::size_t i = 0; i < r.skipped.size() && i < kListed; ++i) {
              std::fprintf(stderr, "warning: skipped %s: %s\n", r.skipped[i].key.c_str(),
                           r.skipped[i].reason.c_str());
            }
            if (r.skipped.size() > kListed) {
              std::fprintf(stderr, "warning: and %zu more skipped (all in summary.json)\n",
                           r.skipped.size() - kListed);
            }
            std::fprintf(stderr, "%s (step %lld), %s of the %s of %s\n", outcome.checkpoint.c_str(),
                         static_cast<long long>(outcome.step), withThousands(r.examples).c_str(),
                         countOf(r.expectedExamples, "image").c_str(), s->model.subset.c_str());
            if (r.lostExamples > 0) {
              std::fprintf(stderr,
                           "warning: %s images were lost to damaged records or images that do "
                           "not decode; the figures are of the %s evaluated\n",
                           withThousands(r.lostExamples).c_str(),
                           withThousands(r.examples).c_str());
            }
            std::printf("%s\n", eval::seedLine(r).c_str());
            if (!r.mostConfused.empty()) {
              std::printf("most confused:\n");
              for (std::size_t i = 0; i < r.mostConfused.size() && i < 5; ++i) {
                const auto& p = r.mostConfused[i];
                std::printf("  %5lld  %s <-> %s\n", static_cast<long long>(p.total()),
                            r.categoryNames[static_cast<std::size_t>(p.a)].c_str(),
                            r.categoryNames[static_cast<std::size_t>(p.b)].c_str());
              }
            }
            if (!s->evalDir.empty()) {
              std::fprintf(stderr, "Report in %s\n", s->evalDir.c_str());
            }
            return 0;
          }};
}

Command addClassifyCommand(CLI::App& app) {
  auto* cli = app.add_subcommand("classify", "Rank categories for image files");
  struct Options {
    std::string checkpointDir, csv;
    int topK = 5;
    infer::ClassifierSettings settings;
    std::vector<std::string> images;
  };
  auto o = std::make_shared<Options>();
  cli->add_option("--checkpoint_dir", o->checkpointDir, "Train dir (its newest checkpoint) or file")
      ->required();
  cli->add_option("--top_k", o->topK, "Categories to print per image")
      ->check(atLeast(1))
      ->capture_default_str();
  cli->add_option("--csv", o->csv, "Also write a CSV table (path,rank,class,category,score)");
  cli->add_option("--device", o->settings.device, "cpu, cuda or cuda:N")->capture_default_str();
  cli->add_option("--batch_size", o->settings.batchSize, "Images per forward pass")
      ->check(atLeast(1))
      ->capture_default_str();
  cli->add_option("images", o->images,
                  "Image files, or folders: the files below them, in path order")
      ->required();
  return {cli, [o]() -> int {
            // The output is checked before anything is classified: an unwritable --csv must not
            // fail after the whole batch.
            if (!o->csv.empty()) {
              core::checkWritableFile(o->csv);
            }
            std::vector<fs::path> files;
            for (const auto& image : o->images) {
              std::error_code error;
              if (!fs::is_directory(image, error)) {
                files.emplace_back(image);
                continue;
              }
              std::vector<fs::path> inside;
              for (auto it = fs::recursive_directory_iterator(
                       image, fs::directory_options::skip_permission_denied, error);
                   !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
                if (it->is_regular_file(error)) {
                  inside.push_back(it->path());
                }
              }
              if (error) {
                core::throwFileError(image, "cannot be read: " + error.message());
              }
              if (inside.empty()) {
                core::throwFileError(image, "is a folder with no files");
              }
              std::sort(inside.begin(), inside.end());
              files.insert(files.end(), inside.begin(), inside.end());
            }
            infer::Classifier classifier(o->checkpointDir, o->settings);
            for (const auto& warning : classifier.warnings()) {
              std::fprintf(stderr, "warning: %s\n", warning.c_str());
            }
            const auto bar = files.size() > 64 ? barIfTerminal() : nullptr;
            const auto results = classifier.classifyFiles(
                files, o->topK, interruptToken(), bar ? bar->callback() : core::ProgressFn{});
            if (bar) {
              bar->finish();
            }
            std::string csv = "path,rank,class,category,score\n";
            const auto quote = [](const std::string& text) {
              if (text.find_first_of(",\"\n\r") == std::string::npos) {
                return text;
              }
              std::string out = "\"";
              for (char c : text) {
                out += c == '"' ? std::string("\"\"") : std::string(1, c);
              }
              return out + "\"";
            };
            int failed = 0;
            for (const auto& r : results) {
              if (!r.error.empty()) {
                ++failed;
                std::fprintf(stderr, "error: %s\n", r.error.c_str());
                continue;
              }
              std::printf("%s\n", r.path.c_str());
              for (std::size_t i = 0; i < r.top.size(); ++i) {
                std::printf("%.3f - %s\n", r.top[i].score, r.top[i].name.c_str());
                char score[32];
                std::snprintf(score, sizeof score, "%.6f", r.top[i].score);
                csv += quote(r.path.string()) + "," + std::to_string(i + 1) + "," +
                       std::to_string(r.top[i].index) + "," + quote(r.top[i].name) + "," + score +
                       "\n";
              }
            }
            std::fflush(stdout);
            if (!o->csv.empty()) {
              core::writeFileAtomic(o->csv, csv);
            }
            if (failed > 0) {
              std::fprintf(stderr, "%d of %zu images could not be classified\n", failed,
                           results.size());
              return 1;
            }
            return 0;
          }};
}

Command addExportCommand(CLI::App& app) {
  auto* cli = app.add_subcommand(
      "export", "Export the averaged weights as a torchvision inception_v3 state_dict");
  auto o = std::make_shared<std::vector<std::string>>(3);
  (*o)[1] = "torchvision";
  cli->add_option("--checkpoint_dir", (*o)[0], "Train dir (its newest checkpoint) or file")
      ->required();
  cli->add_option("--format", (*o)[1], "Export format")
      ->check(CLI::IsMember({"torchvision"}))
      ->capture_default_str();
  cli->add_option("--output", (*o)[2], "The .pth file to write")->required();
  return {cli, [o]() -> int {
            core::checkWritableFile((*o)[2]);  // before loading anything
            const auto trained = checkpoint::exportTorchvision((*o)[0], (*o)[2]);
            std::fprintf(stderr,
                         "Wrote %s (step %lld, averaged weights). In Python:\n"
                         "  m = torchvision.models.inception_v3(num_classes=%zu, aux_logits=%s, "
                         "init_weights=False)\n  m.load_state_dict(torch.load('%s'))\n",
                         (*o)[2].c_str(), static_cast<long long>(trained.step),
                         trained.categories.size(), trained.settings.auxLogits ? "True" : "False",
                         (*o)[2].c_str());
            return 0;
          }};
}

}  // namespace taxon::app
