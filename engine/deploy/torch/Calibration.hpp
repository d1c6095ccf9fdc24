// int8 calibration: the ranges of the activations an int8 export quantizes (deploy/Quantize.hpp),
// observed by running the float graph (GraphRunner, float32) over shuffled training images seen
// as evaluation sees them (crops of the central crop's size).
//   minmax      the smallest and largest value seen anywhere
//   percentile  per batch, the values at the given percentile from each end, averaged over the
//               batches: a few outlying activations no longer stretch the scale of all others
#pragma once

#include <cstdint>
#include <stop_token>
#include <string>

#include "core/Progress.hpp"
#include "deploy/Quantize.hpp"
#include "records/RecordSet.hpp"

namespace taxon::deploy {

enum class CalibrationMethod { MinMax, Percentile };

// "minmax", "percentile"; throws core::Error for anything else.
CalibrationMethod parseCalibrationMethod(const std::string& text);

struct CalibrationSettings {
  std::int64_t images = 512;
  int batchSize = 32;
  CalibrationMethod method = CalibrationMethod::Percentile;
  double percentile = 99.99;  // percentile: from each end
  int loaderThreads = 0;      // decode threads; 0: one per core
  std::uint64_t seed = 1;
};

struct Calibration {
  ActivationRanges ranges;
  std::int64_t images = 0;  // used: fewer when the split is smaller or the stop was requested
};

// Throws core::Error naming the data dir when its training split holds no images.
Calibration calibrate(const OnnxModel& model, const records::RecordSet& records,
                      const CalibrationSettings& settings, std::stop_token stop = {},
                      const core::ProgressFn& progress = {});

}  // namespace taxon::deploy
