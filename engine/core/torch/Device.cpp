#include "core/torch/Device.hpp"

#include <torch/cuda.h>

#include "core/Error.hpp"

namespace taxon::core {

c10::Device parseDevice(const std::string& device) {
  c10::Device parsed(c10::kCPU);
  try {
    parsed = c10::Device(device);
  } catch (const std::exception&) {
    throw core::UsageError("unknown device '" + device + "' (use cpu, cuda or cuda:N)");
  }
  if (parsed.is_cuda()) {
    if (!torch::cuda::is_available()) {
      throw core::Error("device '" + device +
                        "' asked for, but no usable CUDA GPU was found (see `taxon info`)");
    }
    if (parsed.has_index() && parsed.index() >= static_cast<int>(torch::cuda::device_count())) {
      throw core::Error("device '" + device + "' asked for, but there are only " +
                        std::to_string(torch::cuda::device_count()) + " GPUs");
    }
  } else if (!parsed.is_cpu()) {
    throw core::UsageError("unsupported device '" + device + "' (use cpu, cuda or cuda:N)");
  }
  return parsed;
}

}  // namespace taxon::core
