// The network that evaluation and checkpoints see: the moving average of the weights on a second
// network, so that the training network's state is untouched (rank 0 alone; the other replicas
// wait for it in their next collective). Its batch-norm statistics are recomputed
// (eval::recalibrateBatchNorm) at most once per step, for validation and for the checkpoint,
// whose average then carries them: the training network's running statistics were gathered with
// other weights, and with them the averaged weights scored up to 9 points lower (Fashion-MNIST,
// mid-run). Cut short by a stop, the statistics are not kept, and readers of the checkpoint fall
// back to the training network's. Used from the training thread only.
#pragma once

#include <c10/core/Device.h>

#include <cstdint>
#include <stop_token>

#include "core/Progress.hpp"
#include "model/InceptionV3.hpp"
#include "records/RecordSet.hpp"
#include "train/Optimizer.hpp"

namespace taxon::train {

class AveragedModel {
 public:
  // `records` and `settings` must outlive this object. The network is built on first use.
  AveragedModel(const model::InceptionSettings& netSettings, const c10::Device& device,
                const records::RecordSet& records, const TrainSettings& settings);

  // The averaged network after `step`: the training network's buffers, the average's
  // parameters and, with settings.recalibrateExamples, recalibrated batch-norm statistics
  // (unless `stop` cut the recalibration short).
  model::InceptionV3Impl& prepare(torch::nn::Module& trained, const WeightAverage& average,
                                  std::int64_t step, std::stop_token stop,
                                  const core::ProgressFn& progress);

  // The recalibrated batch-norm statistics of `step`; null when prepare did not complete them
  // for that step.
  const NamedTensors* statisticsOf(std::int64_t step) const {
    return statisticsStep_ == step ? &statistics_ : nullptr;
  }

 private:
  model::InceptionSettings netSettings_;
  c10::Device device_;
  const records::RecordSet& records_;
  const TrainSettings& settings_;
  model::InceptionV3 net_{nullptr};
  NamedTensors statistics_;
  std::int64_t statisticsStep_ = -1;
};

}  // namespace taxon::train
