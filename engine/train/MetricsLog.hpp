// metrics.jsonl, a run's figures: one JSON object per line, append-only, flushed line by line so
// that a run killed at any moment leaves at most its last line cut short. Every step's
//   {"step","epoch","loss","cross_entropy","learning_rate","examples_per_sec","sec_per_batch",
//    "batch_precision_at_1","batch_recall_at_5","time"}
// (and "distill_loss" in a distillation run) and each evaluation's
//   {"step","time","eval":{"subset","examples","precision_at_1","recall_at_5","loss"}}
// or, when there was nothing to evaluate, {"step","time","eval":{"subset","examples":0,"skipped"}}.
// A resumed run first drops the lines of steps after its checkpoint (truncateMetricsLog), so that
// the file reads as one run. No torch here: the UI reads the file through readMetricsLog.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace taxon::train {

inline constexpr const char* kMetricsFileName = "metrics.jsonl";

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
  // A distillation run's temperature^2 x KL to its teacher (the loss mixes it with crossEntropy).
  std::optional<double> distillLoss;
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

// A step's line, without the newline (also what a checkpoint keeps as its last metrics).
std::string metricsLine(const StepMetrics& step);
// An evaluation's line, stamped with `wallTime` (seconds since the Unix epoch).
std::string metricsLine(const EvalPoint& eval, double wallTime);

// Appends lines to a metrics.jsonl (created when missing). One thread at a time.
class MetricsLog {
 public:
  // Throws core::Error naming the file when it cannot be opened.
  explicit MetricsLog(const std::filesystem::path& path);
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;

  // Writes the line and flushes it. Throws core::Error naming the file when it cannot.
  void write(const std::string& line);
  void write(const StepMetrics& step) { write(metricsLine(step)); }
  void write(const EvalPoint& eval);  // stamped with the current time

 private:
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
};

// Keeps the lines of `path` up to `step` (a run killed after its last checkpoint logged steps
// that the resumed run repeats) and drops lines that are not JSON objects with a step (a last
// line cut short). A missing file stays missing. Rewrites the file atomically.
void truncateMetricsLog(const std::filesystem::path& path, std::int64_t step);

// One line that was read: a step's or an evaluation's figures.
struct MetricsRecord {
  std::int64_t line = 0;  // 1-based line number in the file
  std::optional<StepMetrics> step;
  std::optional<EvalPoint> eval;
  double time = 0.0;  // the line's "time": when it was written (seconds since the Unix epoch)
};

// A line that is not a JSON object.
struct UnreadMetricsLine {
  std::int64_t line = 0;  // 1-based
  bool last = false;      // no line with text follows: cut short by a kill during its write
  std::string reason;
};

struct MetricsLogContents {
  std::vector<MetricsRecord> records;  // in file order; objects that are neither are left out
  std::vector<UnreadMetricsLine> unread;
  // A damaged line before the last one: the file was changed by something else than a run.
  const UnreadMetricsLine* firstDamaged() const;
};

// One line of a metrics.jsonl (`line` of the record left 0). nullopt with `reason` set when the
// line is not a JSON object or a field has the wrong type; nullopt with `reason` untouched for a
// blank line or an object that is neither a step nor an evaluation.
std::optional<MetricsRecord> parseMetricsLine(std::string_view line, std::string* reason);

// Reads a metrics.jsonl. Blank lines are skipped; lines that cannot be read are reported in
// `unread` and the rest returned. Throws core::Error naming the file when it cannot be read.
MetricsLogContents readMetricsLog(const std::filesystem::path& path);

}  // namespace taxon::train
