// A run's trained model as evaluation, classification and export use it: the network its
// settings describe, with the newest readable checkpoint's averaged weights.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "model/InceptionV3.hpp"
#include "settings/TrainSettings.hpp"

namespace taxon::checkpoint {

// The network a run's settings describe, for `numClasses` categories.
model::InceptionSettings modelSettings(const settings::TrainSettings& settings,
                                       std::int64_t numClasses);

struct TrainedModel {
  model::InceptionV3 model{nullptr};  // in eval mode, on the device asked for
  settings::TrainSettings settings;
  std::vector<std::string> categories;
  std::int64_t step = 0;
  std::filesystem::path checkpoint;
  std::vector<std::string> warnings;  // damaged newer checkpoints passed over
};

// The model of the newest readable checkpoint in `checkpointDir` (or of that checkpoint file)
// with the weight average's parameters (what the seed evaluates) and the run's batch-norm
// statistics. Throws core::Error naming the folder when it holds no checkpoint.
TrainedModel loadTrainedModel(const std::filesystem::path& checkpointDir,
                              const std::string& device);

// `taxon export --format torchvision`: the checkpoint's model with its averaged weights as a
// torchvision inception_v3 state_dict (see model::saveTorchvisionStateDict). Throws core::Error
// when the model is not one torchvision can build (a depth multiplier other than 1). Returns the
// model that was written.
TrainedModel exportTorchvision(const std::filesystem::path& checkpointDir,
                               const std::filesystem::path& output);

}  // namespace taxon::checkpoint
