// Which checkpoints a train dir holds (TRAIN_DIR/model.ckpt-STEP.taxon; see Checkpoint.hpp for
// what is in them), without torch: the app's views poll train dirs for the newest one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace taxon::checkpoint {

struct CheckpointInfo {
  std::filesystem::path path;
  std::int64_t step = 0;
};

// "model.ckpt-STEP.taxon": the name of step STEP's checkpoint.
std::string checkpointFileName(std::int64_t step);

// Whether `fileName` is a save that never finished ("model.ckpt-STEP.taxon.tmp-PID").
bool isUnfinishedCheckpoint(const std::string& fileName);

// STEP of a file named "model.ckpt-STEP.taxon"; nullopt for any other name (the temporary
// "model.ckpt-STEP.taxon.tmp-PID" of a save in progress included).
std::optional<std::int64_t> checkpointStep(const std::string& fileName);

// Checkpoints in `directory`, oldest first (by step). Temporary files are ignored.
std::vector<CheckpointInfo> listCheckpoints(const std::filesystem::path& directory);

// The newest checkpoint of the train dir `path`, or `path` itself when it is a file (its step from
// its name, 0 when the name has none); nullopt when there is none.
std::optional<CheckpointInfo> newestCheckpoint(const std::filesystem::path& path);

}  // namespace taxon::checkpoint
