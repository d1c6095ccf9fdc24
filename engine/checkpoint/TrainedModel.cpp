#include "checkpoint/TrainedModel.hpp"

#include <torch/cuda.h>
#include <torch/nn/module.h>

#include <nlohmann/json.hpp>

#include "checkpoint/Checkpoint.hpp"
#include "core/Error.hpp"
#include "core/torch/Device.hpp"
#include "model/TorchvisionWeights.hpp"
#include "settings/TrainSettingsJson.hpp"

namespace taxon::checkpoint {

namespace fs = std::filesystem;

model::InceptionSettings modelSettings(const settings::TrainSettings& settings,
                                       std::int64_t numClasses) {
  model::InceptionSettings out;
  out.numClasses = numClasses;
  out.auxLogits = settings.auxLogits;
  out.depthMultiplier = settings.depthMultiplier;
  out.imageSize = settings.imageSize;
  out.dropout = settings.dropout;
  return out;
}

TrainedModel exportTorchvision(const fs::path& checkpointDir, const fs::path& output) {
  auto trained = loadTrainedModel(checkpointDir, "cpu");
  if (trained.settings.depthMultiplier != 1.0) {
    core::throwFileError(trained.checkpoint,
                         "the model has depth multiplier " +
                             std::to_string(trained.settings.depthMultiplier) +
                             "; torchvision's inception_v3 has only the full-width network (1.0)");
  }
  model::saveTorchvisionStateDict(*trained.model, output);
  return trained;
}

TrainedModel loadTrainedModel(const fs::path& checkpointDir, const std::string& device) {
  TrainedModel out;
  std::error_code error;
  if (!fs::exists(checkpointDir, error)) {
    core::throwFileError(checkpointDir,
                         "does not exist (expected a train dir or a checkpoint "
                         "file, model.ckpt-STEP.taxon)");
  }
  auto data = readLatestCheckpoint(checkpointDir, &out.warnings, &out.checkpoint);
  if (!data) {
    core::throwFileError(checkpointDir, "holds no checkpoint (model.ckpt-*.taxon)");
  }
  out.settings = settings::trainSettingsFromJson(nlohmann::json::parse(data->settingsJson));
  out.categories = data->categories;
  out.step = data->step;
  out.model = model::InceptionV3(
      modelSettings(out.settings, static_cast<std::int64_t>(out.categories.size())),
      /*initialize=*/false);  // every weight comes from the checkpoint (checked below)
  try {
    const auto missing = copyInto(*out.model, data->model);
    if (!missing.empty()) {
      throw core::Error("the checkpoint lacks '" + missing.front() + "'");
    }
    copyInto(*out.model, data->average);
  } catch (const core::Error& e) {
    core::throwFileError(out.checkpoint, e.what());
  }
  out.model->to(core::parseDevice(device));
  out.model->eval();
  return out;
}

}  // namespace taxon::checkpoint
