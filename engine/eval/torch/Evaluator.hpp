// `taxon eval`: a trained model over a split of the record set, with the evaluation
// preprocessing (central crop), into the metrics of eval/Metrics.hpp. Also what training runs for
// its periodic validation.
#pragma once

#include <c10/core/Device.h>

#include <cstdint>
#include <filesystem>
#include <stop_token>
#include <string>
#include <vector>

#include "core/Progress.hpp"
#include "eval/Metrics.hpp"
#include "model/InceptionV3.hpp"
#include "records/RecordSet.hpp"

namespace taxon::eval {

struct ModelEvalSettings {
  std::string subset = "validation";
  int batchSize = 64;
  std::int64_t maxExamples = 0;  // 0: the whole split; else its first N records in file order
  int loaderThreads = 0;         // decode threads; 0: one per core
  // false: a damaged record (failing its checksums, or a shard cut short) fails the evaluation
  // with core::Error naming the shard and byte; true: it is skipped, and the report says so.
  bool skipCorrupt = false;
  MetricsSettings metrics;
  // Empty: the module tree as it is (training's validation, on the live weights). "fp32",
  // "bf16" or "auto": the inference form of deploy/torch/GraphRunner.hpp, as `taxon classify`.
  std::string precision;
};

// Runs `model` (switched to eval mode and left so) on the split. Images that cannot be decoded are
// skipped; they, the damaged records skipped (skipCorrupt) and the examples lost with them are in
// the report (skipped, lostExamples). Cancelled: returns the metrics of what was evaluated so far.
MetricsReport evaluateModel(model::InceptionV3Impl& model, const records::RecordSet& records,
                            const c10::Device& device, const ModelEvalSettings& settings,
                            std::stop_token stop = {}, const core::ProgressFn& progress = {});

struct RecalibrationSettings {
  std::string subset = "train";
  std::int64_t examples = 4096;  // images; the last batch may be cut short
  int batchSize = 64;
  int loaderThreads = 0;  // decode threads; 0: one per core
  std::uint64_t seed = 1;
};

// Recomputes every batch-norm layer's running mean and variance for the model's present weights:
// the equal-weight average over the batches of `examples` shuffled images of the split, centrally
// cropped as for evaluation. A weight average (the EMA that evaluation uses) meets activations
// that the training network's running statistics, gathered with other weights, do not describe;
// after this they are its own. Only the batch-norm layers run in training mode (dropout does not
// draw from the global random generator). Leaves the model in eval mode, and returns the images
// used (fewer when the split is smaller or the stop is requested; a last batch of a single image
// is left out, as batch norm cannot measure one image's 1 x 1 maps).
std::int64_t recalibrateBatchNorm(model::InceptionV3Impl& model, const records::RecordSet& records,
                                  const c10::Device& device, const RecalibrationSettings& settings,
                                  std::stop_token stop = {}, const core::ProgressFn& progress = {});

struct EvalSettings {
  std::filesystem::path checkpoint;  // a train dir (its newest checkpoint) or a checkpoint file
  std::filesystem::path dataDir;     // empty: the data dir the run trained on
  std::filesystem::path evalDir;     // where the report files go (see writeReport); empty: none
  std::string device = "cpu";
  ModelEvalSettings model;
  // > 0: batch-norm statistics are first recomputed from this many training images (see
  // recalibrateBatchNorm), for checkpoints whose average carries none of its own.
  std::int64_t recalibrateExamples = 0;
  // Which shuffled images the recalibration reads (RecalibrationSettings::seed); the figures of a
  // small recalibration depend on the draw, and other seeds show by how much.
  std::uint64_t recalibrateSeed = 1;
};

struct EvalOutcome {
  MetricsReport report;
  std::int64_t step = 0;
  std::filesystem::path checkpoint;
  std::vector<std::string> warnings;
  bool stopped = false;
};

// Loads the checkpoint's averaged weights, checks that the data's categories are the model's and
// evaluates; writes the report and summary.json (with the checkpoint and step) when evalDir is
// set. Throws core::Error naming the file or folder at fault.
EvalOutcome evaluateCheckpoint(const EvalSettings& settings, std::stop_token stop = {},
                               const core::ProgressFn& progress = {});

}  // namespace taxon::eval
