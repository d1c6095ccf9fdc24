// A batch of decoded, preprocessed images as the loader delivers it (Loader.hpp) and the tensor
// side takes it (BatchTensors.hpp, BatchStager.hpp). Plain data: no OpenCV, no torch, so the
// GPU benchmark builds without them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace taxon::data {

// One batch of preprocessed images, all of the same size.
struct Batch {
  std::int64_t epoch = 0;
  std::int64_t index = 0;  // 0, 1, ... within the epoch and rank
  int size = 0;            // images in this batch: batchSize, except perhaps the epoch's last
  int height = 0;
  int width = 0;
  std::vector<std::uint8_t> images;  // size x height x width x 3 (R, G, B), contiguous
  std::vector<std::int64_t> labels;  // image/class/label as stored (the seed's: 1-based)
  std::vector<std::string> keys;     // image/filename, or "SHARD@OFFSET" when it has none
  // Records of this rank's epoch stream consumed through this batch (delivered images and those
  // skipped on the way): startEpoch(epoch, {streamEnd, index + 1}) resumes right after it.
  std::int64_t streamEnd = 0;
};

}  // namespace taxon::data
