// One training run: the loop that feeds batches from the loader to Inception-v3, applies the
// recipe's update, keeps the weight average, logs metrics, evaluates on the validation split now
// and then, and checkpoints so that the run can stop at any moment and continue exactly. See
// TrainSettings.hpp for the recipe and Checkpoint.hpp for what a checkpoint holds.
//
// Data parallel (settings.replicas, or a torchrun/Slurm launch; see dist/Distributed.hpp): every
// replica runs this loop on its share of each global batch (each reads a disjoint part of every
// epoch); c10d's Reducer averages the gradients during the backward pass, so all replicas apply
// the same update. Rank 0 alone writes the train dir and evaluates; the replicas' weights are
// compared at each checkpoint. Batch norm uses each replica's batch, or all of them with
// syncBatchNorm. The replicas stop together after the step in which any was asked to stop. A
// run continues on another replica count from the same global position in its epoch.
// On CUDA: bf16 autocast (or fp32), channels-last and cuDNN autotuning, as the settings say.
//
// Files in the train dir:
//   settings.json               the settings the run started with (also inside each checkpoint)
//   labels.txt                  category names, class 0 first
//   model.ckpt-STEP.taxon       checkpoints, the newest K
//   metrics.jsonl               one JSON object per line, append-only: every step's
//                               {"step","epoch","loss","cross_entropy","learning_rate",
//                               "examples_per_sec","sec_per_batch","batch_precision_at_1",
//                               "batch_recall_at_5","time"} and each evaluation's
//                               {"step","time","eval":{"subset","examples","precision_at_1",
//                               "recall_at_5","loss"}}. A resumed run first drops the lines of
//                               steps after its checkpoint, so the file reads as one run.
//   events.out.tfevents.*       the same scalars for TensorBoard
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>

#include "core/Progress.hpp"
#include "settings/TrainSettings.hpp"

namespace taxon::train {

struct StepMetrics {
  std::int64_t step = 0;  // steps done, this one included (the seed's global_step)
  std::int64_t epoch = 0;
  double loss = 0.0;          // total: cross-entropy + auxiliary + weight decay
  double crossEntropy = 0.0;  // of the main head, with label smoothing
  double learningRate = 0.0;
  double examplesPerSec = 0.0;
  double secPerBatch = 0.0;
  double batchPrecisionAt1 = 0.0;  // on this training batch, before the update
  double batchRecallAt5 = 0.0;
  double wallTime = 0.0;  // seconds since the Unix epoch
};

struct EvalPoint {
  std::int64_t step = 0;
  std::string subset;
  std::int64_t examples = 0;
  double precisionAt1 = 0.0;
  double recallAt5 = 0.0;
  double loss = 0.0;  // mean cross-entropy without smoothing
  // Non-empty: nothing was evaluated, and why ("the 'validation' split of DIR is empty (...)").
  // Sent once when the run starts instead of figures of 0 at every evaluation.
  std::string skipped;
};

struct TrainCallbacks {
  std::function<void(const StepMetrics&)> onStep;  // every step, on the training thread
  std::function<void(const EvalPoint&)> onEval;    // each evaluation
  std::function<void(const std::string&)> onLog;   // the seed's lines and notices, one per call
  core::ProgressFn progress;                       // stage "train" (steps) and "eval" (images)
  // Pausing. Every replica asks pauseRequested() once a step, in the step's figures message, so
  // that all replicas agree; when any asked, every replica calls holdWhilePaused(stop) after the
  // same step, outside any collective, so a pause of any length cannot run into the collective
  // timeout. Both are called from every replica's thread at once: they must be thread-safe.
  // holdWhilePaused returns when the pause is released or `stop` is requested.
  std::function<bool()> pauseRequested;
  std::function<void(const std::stop_token&)> holdWhilePaused;
};

struct TrainResult {
  std::int64_t step = 0;  // steps done in all (a resumed run counts the earlier ones)
  std::int64_t stepsThisRun = 0;
  std::int64_t totalSteps = 0;  // the run's length
  std::string limit;            // the setting that set it: "--max_steps" or "--num_epochs"
  bool stopped = false;         // cancelled before the end; a checkpoint was written
  std::filesystem::path lastCheckpoint;
  std::optional<EvalPoint> lastEval;
  std::optional<StepMetrics> lastStep;
  double seconds = 0.0;
};

// What a train dir holds, to tell a new run from an existing one.
struct RunFiles {
  bool settings = false;  // settings.json
  int checkpoints = 0;
  bool metrics = false;  // metrics.jsonl
  bool any() const { return settings || checkpoints > 0 || metrics; }
};
RunFiles findRunFiles(const std::filesystem::path& trainDir);

// The settings a run in `trainDir` was started with (settings.json). Throws core::Error.
settings::TrainSettings readRunSettings(const std::filesystem::path& trainDir);

// Trains. With `resume`, continues the run in settings.trainDir from its newest readable
// checkpoint (the model, data order and schedule must match the checkpoint's; the length,
// intervals, device and threads may change); without it, refuses (core::Error, touching nothing)
// when the train dir already holds a run. A non-finite loss stops the run with core::Error and no
// checkpoint of the broken state. Cancelling through `stop` writes a checkpoint and returns.
TrainResult train(const settings::TrainSettings& settings, bool resume,
                  const TrainCallbacks& callbacks, std::stop_token stop = {});

// The seed's log line: "2016-12-21 07:40:47.901352: step 89910, loss = 5.92 (141.0
// examples/sec; 1.816 sec/batch)" (local time).
std::string seedLogLine(const StepMetrics& metrics);

}  // namespace taxon::train
