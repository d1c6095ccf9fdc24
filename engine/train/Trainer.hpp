// One training run: the loop that feeds batches from the loader to Inception-v3, applies the
// recipe's update, keeps the weight average, logs metrics, evaluates on the validation split now
// and then, and checkpoints so that the run can stop at any moment and continue exactly. See
// TrainSettings.hpp for the recipe and Checkpoint.hpp for what a checkpoint holds. The parts:
// TrainLoop (set-up and loop), ReplicaSync (what keeps replicas identical), AveragedModel (the
// evaluated network), RunDirectory (the train dir's rules), MetricsLog (metrics.jsonl).
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
// Distillation (settings.teacherDir, Teacher.hpp): every replica holds the teacher in evaluation
// form on its device and computes its logits on the replica's batch; the step's loss mixes the
// labels' cross-entropy and T^2 x KL to the teacher (TrainStep.hpp). A new run records the
// teacher's checkpoint step and weights checksum in its settings; a resumed run loads that one.
//
// Files in the train dir:
//   settings.json               the settings the run started with (also inside each checkpoint)
//   labels.txt                  category names, class 0 first
//   model.ckpt-STEP.taxon       checkpoints, the newest K
//   metrics.jsonl               one JSON object per line, append-only: every step's figures
//                               and each evaluation's (see MetricsLog.hpp). A resumed run first
//                               drops the lines of steps after its checkpoint, so the file reads
//                               as one run.
//   events.out.tfevents.*       the same scalars for TensorBoard
//   run-state.json              running, stopped, finished or failed (RunState.hpp)
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>

#include "core/Progress.hpp"
#include "settings/TrainSettings.hpp"
#include "train/MetricsLog.hpp"
#include "train/RunDirectory.hpp"

namespace taxon::train {

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
