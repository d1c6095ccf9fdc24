// The size of a Taxon model: parameters and the multiply-adds of classifying one image, counted
// on a forward pass of the network itself (every convolution and the classifier: what costs time;
// batch norm, pooling and activations add under 1 %). FLOPs are twice the multiply-adds (the
// convention of papers that count a multiply and an add as two operations; torchvision's
// "GFLOPS" column, 5.71 for Inception-v3, counts multiply-adds).
#pragma once

#include <cstdint>

#include "model/InceptionV3.hpp"

namespace taxon::model {

struct ModelSize {
  std::int64_t parameters = 0;           // all of them, the auxiliary head's included
  std::int64_t inferenceParameters = 0;  // those a prediction uses (no auxiliary head)
  std::int64_t multiplyAdds = 0;         // per image at the network's input side
  std::int64_t flops() const { return 2 * multiplyAdds; }
};

// Measures `net` at its settings' input side; its training mode and batch-norm statistics are left
// as they were. Uses the device the network is on.
ModelSize measureModel(InceptionV3& net);
// The network `settings` describe (built without initializing its weights, on the CPU).
ModelSize measureModel(const InceptionSettings& settings);

}  // namespace taxon::model
