#include "checkpoint/TrainedModel.hpp"

#include <algorithm>
#include <future>

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
  // Only what a prediction needs: the weight average and the batch-norm statistics. The network
  // is built (its modules initialize every weight, about a tenth of a second at full width) on
  // another thread while its weights are read.
  std::future<model::InceptionV3> building;
  std::string buildingFor;
  const auto build = [](const settings::TrainSettings& settings, std::size_t categories) {
    return model::InceptionV3(modelSettings(settings, static_cast<std::int64_t>(categories)),
                              /*initialize=*/false);  // every weight comes from the checkpoint
  };
  const auto identity = [](const CheckpointData& meta) {
    return meta.settingsJson + "\n" + std::to_string(meta.categories.size());
  };
  auto data = readLatestCheckpoint(
      checkpointDir, &out.warnings, &out.checkpoint, CheckpointParts::Inference,
      [&](const CheckpointData& meta) {
        if (building.valid()) {
          return;  // a damaged newer checkpoint's meta came first; its network is checked below
        }
        buildingFor = identity(meta);
        building =
            std::async(std::launch::async, build,
                       settings::trainSettingsFromJson(nlohmann::json::parse(meta.settingsJson)),
                       meta.categories.size());
      });
  if (!data) {
    core::throwFileError(checkpointDir, "holds no checkpoint (model.ckpt-*.taxon)");
  }
  out.settings = settings::trainSettingsFromJson(nlohmann::json::parse(data->settingsJson));
  out.categories = data->categories;
  out.step = data->step;
  out.model = building.valid() ? building.get() : nullptr;
  if (!out.model || buildingFor != identity(*data)) {
    out.model = build(out.settings, out.categories.size());
  }
  try {
    // The average's entries, and the model's own for the others (its buffers).
    const auto notInModel = copyInto(*out.model, data->model);
    const auto notAveraged = copyInto(*out.model, data->average);
    for (const auto& name : notInModel) {
      if (std::find(notAveraged.begin(), notAveraged.end(), name) != notAveraged.end()) {
        throw core::Error("the checkpoint lacks '" + name + "'");
      }
    }
  } catch (const core::Error& e) {
    core::throwFileError(out.checkpoint, e.what());
  }
  out.model->to(core::parseDevice(device));
  out.model->eval();
  return out;
}

}  // namespace taxon::checkpoint
