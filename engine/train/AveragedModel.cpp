#include "train/AveragedModel.hpp"

#include <torch/torch.h>

#include <algorithm>

#include "checkpoint/StateDict.hpp"
#include "eval/torch/Evaluator.hpp"
#include "train/ReplicaSync.hpp"

namespace taxon::train {

AveragedModel::AveragedModel(const model::InceptionSettings& netSettings, const c10::Device& device,
                             const records::RecordSet& records, const TrainSettings& settings)
    : netSettings_(netSettings), device_(device), records_(records), settings_(settings) {}

model::InceptionV3Impl& AveragedModel::prepare(torch::nn::Module& trained,
                                               const WeightAverage& average, std::int64_t step,
                                               std::stop_token stop,
                                               const core::ProgressFn& progress) {
  // Its initial weights are overwritten at once. Drawing them moves the global CPU generator,
  // which no longer matters: dropout draws from each replica's own generator (ReplicaSync.hpp).
  if (net_.is_empty()) {
    net_ = model::InceptionV3(netSettings_);
    net_->to(device_);
  }
  checkpoint::copyInto(*net_, namedState(trained));  // batch-norm statistics
  checkpoint::copyInto(*net_, average.averages());   // averaged parameters
  if (settings_.recalibrateExamples <= 0) {
    return *net_;
  }
  if (statisticsStep_ == step) {
    checkpoint::copyInto(*net_, statistics_);
    return *net_;
  }
  eval::RecalibrationSettings recalibration;
  recalibration.examples = settings_.recalibrateExamples;
  recalibration.batchSize = static_cast<int>(std::min<std::int64_t>(settings_.batchSize, 256));
  recalibration.loaderThreads = settings_.loaderThreads;
  recalibration.seed = settings_.seed;
  const std::int64_t used =
      eval::recalibrateBatchNorm(*net_, records_, device_, recalibration, stop, progress);
  statistics_.clear();
  statisticsStep_ = -1;
  if (stop.stop_requested() &&
      used < std::min(settings_.recalibrateExamples, records_.split("train").records)) {
    return *net_;
  }
  for (const auto& [name, tensor] : namedState(*net_)) {
    if (name.ends_with(".running_mean") || name.ends_with(".running_var")) {
      statistics_.emplace_back(name, tensor.detach().clone());
    }
  }
  statisticsStep_ = step;
  return *net_;
}

}  // namespace taxon::train
