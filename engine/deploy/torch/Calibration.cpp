#include "deploy/torch/Calibration.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "core/Error.hpp"
#include "data/Loader.hpp"
#include "data/torch/BatchTensors.hpp"
#include "deploy/torch/GraphRunner.hpp"

namespace taxon::deploy {

namespace {

// The k-th smallest of at most 2^22 values spread evenly over `values` (a strided subsample of
// larger tensors: a percentile does not need every value).
double orderStatistic(const torch::Tensor& flat, double fraction) {
  constexpr std::int64_t kMaxValues = std::int64_t{1} << 22;
  const auto sample =
      flat.numel() > kMaxValues ? flat.slice(0, 0, flat.numel(), flat.numel() / kMaxValues) : flat;
  const auto n = sample.numel();
  const auto k = std::clamp<std::int64_t>(
      static_cast<std::int64_t>(std::ceil(fraction * static_cast<double>(n))), 1, n);
  return std::get<0>(sample.kthvalue(k)).item<double>();
}

struct Observed {
  double min = 0.0;
  double max = 0.0;
  double lowSum = 0.0;  // percentile: per-batch values, summed
  double highSum = 0.0;
  std::int64_t batches = 0;
};

}  // namespace

CalibrationMethod parseCalibrationMethod(const std::string& text) {
  if (text == "minmax") {
    return CalibrationMethod::MinMax;
  }
  if (text == "percentile") {
    return CalibrationMethod::Percentile;
  }
  throw core::Error("unknown calibration method '" + text + "': minmax or percentile");
}

Calibration calibrate(const OnnxModel& model, const records::RecordSet& records,
                      const CalibrationSettings& settings, std::stop_token stop,
                      const core::ProgressFn& progress) {
  const auto found = records.splits.find("train");
  if (found == records.splits.end() || found->second.records == 0) {
    core::throwFileError(records.directory,
                         "holds no training images to calibrate the int8 model on (" +
                             records.emptySplitReason("train") + ")");
  }
  const records::RecordSplit& split = found->second;
  const std::int64_t total = std::min(settings.images, split.records);
  const int side = static_cast<int>(model.inputs.at(0).dims.at(2));
  data::Loader loader(data::shuffledEvaluationCrops(split.shards, side, settings.batchSize,
                                                    settings.seed, total, settings.loaderThreads),
                      stop);

  const GraphRunner runner(model, {});
  const auto names = quantizedActivations(model);
  std::map<std::string, Observed> observed;
  const double low = (100.0 - settings.percentile) / 100.0;
  const double high = settings.percentile / 100.0;
  Calibration out;
  while (out.images < total && !stop.stop_requested()) {
    auto batch = loader.next();
    if (!batch) {
      break;
    }
    const std::int64_t keep = std::min<std::int64_t>(batch->size, total - out.images);
    const auto images = data::toTensors(*batch, c10::Device(c10::kCPU)).images.narrow(0, 0, keep);
    runner.run(images, names, [&](const std::string& name, const at::Tensor& value) {
      const auto flat = value.to(torch::kFloat).reshape({-1});
      auto& o = observed[name];
      const double lo = flat.min().item<double>();
      const double hi = flat.max().item<double>();
      o.min = o.batches == 0 ? lo : std::min(o.min, lo);
      o.max = o.batches == 0 ? hi : std::max(o.max, hi);
      if (settings.method == CalibrationMethod::Percentile) {
        o.lowSum += lo >= 0.0 ? lo : orderStatistic(flat, low);  // a ReLU's output: 0
        o.highSum += orderStatistic(flat, high);
      }
      ++o.batches;
    });
    out.images += keep;
    if (progress) {
      progress({"calibrate int8", out.images, total, "images"});
    }
  }
  for (const auto& [name, o] : observed) {
    ActivationRange r{static_cast<float>(o.min), static_cast<float>(o.max)};
    if (settings.method == CalibrationMethod::Percentile) {
      r.min = static_cast<float>(o.lowSum / static_cast<double>(o.batches));
      r.max = static_cast<float>(o.highSum / static_cast<double>(o.batches));
    }
    out.ranges[name] = r;
  }
  return out;
}

}  // namespace taxon::deploy
