// run-state.json: whether a run is going and how it ended, for the views that list runs (the
// app's Runs page, whoever reads a train dir). Rank 0 writes it atomically: "running" (with its
// host, process id, length and steps per epoch) once the run's files are open, then "finished",
// "stopped" (cancelled, with a checkpoint to continue from) or "failed" (with the error). A
// process killed outside Taxon's control leaves "running" behind; observeRunState tells that
// from a live run by the process id when the run was on this host. No torch in this header.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace taxon::train {

inline constexpr const char* kRunStateFileName = "run-state.json";

enum class RunStatus { Running, Stopped, Finished, Failed };
// "running", "stopped", "finished", "failed".
const char* runStatusName(RunStatus status);

struct RunState {
  RunStatus status = RunStatus::Running;
  std::string host;  // the machine the run's rank 0 ran on
  std::int64_t pid = 0;
  double started = 0.0;            // seconds since the Unix epoch: this start (or resume)
  double ended = 0.0;              // 0 while running
  std::int64_t step = 0;           // steps done when written
  std::int64_t totalSteps = 0;     // the run's length in steps
  std::int64_t stepsPerEpoch = 0;  // of the training split at the run's global batch
  std::string message;             // failed: the error; stopped or finished: the checkpoint
};

// This machine's host name.
std::string hostName();

// Writes TRAIN_DIR/run-state.json atomically. Throws core::Error naming the file.
void writeRunState(const std::filesystem::path& trainDir, const RunState& state);
// nullopt when the file is missing. Throws core::Error naming the file when it cannot be read
// or is not a run state.
std::optional<RunState> readRunState(const std::filesystem::path& trainDir);

// Records a failure with `message` when the run state in `trainDir` is a "running" one written by
// this process since `since` (a failed start must not touch another run's folder). Never throws.
void recordRunFailure(const std::filesystem::path& trainDir, double since,
                      const std::string& message);

// A run's state as a reader should show it.
struct ObservedRunState {
  RunStatus status = RunStatus::Stopped;
  // Why, when the file does not say it plainly: "interrupted: process 1234 on HOST has ended",
  // "no run-state.json: metrics written 12 s ago". Empty otherwise.
  std::string detail;
  std::optional<RunState> recorded;
};
// From run-state.json: "running" stays running when its process lives on this host (or the run
// was on another host and its metrics.jsonl changed in the last 10 minutes); otherwise the run
// was interrupted and counts as stopped. A train dir without the file (older runs, or a damaged
// file) is judged by its files: metrics written in the last minute are a running run, a newest
// checkpoint at the settings' --max_steps a finished one, anything else stopped. Never throws.
ObservedRunState observeRunState(const std::filesystem::path& trainDir);

}  // namespace taxon::train
