// Checkpoints of a training run: TRAIN_DIR/model.ckpt-STEP.taxon, one file per save holding
// everything a run needs to continue exactly where it was: the model's parameters and buffers,
// the weight average, the optimizer's slots, step, epoch and position in the epoch, the random
// generators' states, the settings and the category names.
//
// Safety: a checkpoint is written to a temporary file, flushed to disk and renamed into place, so
// a run killed at any moment leaves only complete checkpoints; each file ends with a CRC-32C of
// its contents, so one damaged later is detected (and the previous one used, with a warning)
// instead of being loaded. The newest `keep` are kept.
//
// Layout (version 2): sections one after another (the meta JSON, then LibTorch archives of the
// weight average, the model's entries without an average, those with one, the optimizer's slots
// and the generators), an index of them in JSON (name, offset, size and CRC-32C of each), and a
// 16-byte trailer: "TXC2", the index's CRC-32C (LE 32 bits) and its size (LE 64 bits). A
// prediction needs only the meta, the average and the model's other entries (batch-norm
// statistics): about a third of a full-width checkpoint, read without the rest. Version 1 (one
// archive of everything, trailer "TXCK", the archive's CRC-32C and size) is still read.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "checkpoint/CheckpointFiles.hpp"
#include "checkpoint/StateDict.hpp"

namespace taxon::checkpoint {

struct CheckpointData {
  std::int64_t step = 0;             // optimizer steps done
  std::int64_t epoch = 0;            // the epoch the next batch comes from
  std::int64_t positionRecords = 0;  // data::LoaderPosition in that epoch
  std::int64_t positionBatches = 0;
  // Data-parallel runs: every replica's position (records, batches), rank 0 first. Empty for a
  // single replica (the position above is its).
  std::vector<std::int64_t> replicaPositions;
  std::string settingsJson;  // TrainSettings as JSON
  std::vector<std::string> categories;
  std::string metricsJson = "{}";  // the last logged metrics (for people and the app)
  NamedTensors model;              // parameters and buffers, torchvision names
  NamedTensors average;            // the weight average of the parameters
  NamedTensors optimizer;
  NamedTensors generators;  // "cpu", "cuda:N": random generator states
};

// Writes DIR/model.ckpt-STEP.taxon atomically (see above), then deletes all but the newest `keep`.
// Tensors may live on any device; they are saved from the CPU. Returns the path.
std::filesystem::path saveCheckpoint(const std::filesystem::path& directory,
                                     const CheckpointData& data, int keep);

// Deletes the temporary files of checkpoints whose writing was interrupted (a run killed while
// saving leaves "model.ckpt-STEP.taxon.tmp-PID"); returns how many. Only for a train dir no other
// process is training in.
int removeUnfinishedCheckpoints(const std::filesystem::path& directory);

enum class CheckpointParts {
  Everything,  // all of it, to continue training
  Inference,   // meta, average, and in `model` only the entries without an average; no optimizer
               // or generators (a version-1 file is read whole)
};

// Called with the fields read so far (step, settings, categories: no tensors yet) once a file's
// meta section has been read, before its tensors are: a caller can prepare for them meanwhile
// (loadTrainedModel builds the network). A version-1 file calls it after everything is read.
using MetaRead = std::function<void(const CheckpointData&)>;

// Reads one checkpoint (tensors on the CPU): the parts asked for, each checked against its
// checksum. Throws core::Error naming the file when it is cut short, damaged or not a checkpoint.
CheckpointData readCheckpoint(const std::filesystem::path& path,
                              CheckpointParts parts = CheckpointParts::Everything,
                              const MetaRead& onMeta = {});

// The newest checkpoint of `directory` that reads; damaged newer ones are passed over and each
// adds a sentence to `warnings`. Nothing when the directory holds no checkpoint; core::Error when
// it holds some and none reads. `directory` may also be a checkpoint file itself.
std::optional<CheckpointData> readLatestCheckpoint(
    const std::filesystem::path& directory, std::vector<std::string>* warnings = nullptr,
    std::filesystem::path* chosen = nullptr, CheckpointParts parts = CheckpointParts::Everything,
    const MetaRead& onMeta = {});

}  // namespace taxon::checkpoint
