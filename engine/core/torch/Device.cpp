#include "core/torch/Device.hpp"

#include <ATen/Context.h>
#include <ATen/cpu/Utils.h>
#include <torch/cuda.h>

#include <cctype>
#include <cstdlib>

#include "core/Error.hpp"
#include "core/torch/Runtime.hpp"

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

bool nativeBf16(const c10::Device& device) {
  if (device.is_cuda()) {
    const auto runtime = queryRuntime();
    const int index = device.index() < 0 ? 0 : device.index();
    for (const auto& gpu : runtime.cudaDevices) {
      if (gpu.index == index) {
        return gpu.computeMajor >= 8;
      }
    }
    return false;
  }
  if (!device.is_cpu() || !at::hasMKLDNN()) {
    return false;
  }
  // oneDNN's ISA cap, as the tests set it to run under a second instruction set.
  if (const char* cap = std::getenv("ONEDNN_MAX_CPU_ISA"); cap != nullptr && *cap != '\0') {
    std::string isa(cap);
    for (char& c : isa) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (isa.find("bf16") == std::string::npos && isa.find("amx") == std::string::npos &&
        isa != "all") {
      return false;
    }
  }
  const auto capabilities = at::cpu::get_cpu_capabilities();
  for (const char* feature : {"avx512_bf16", "amx_bf16"}) {
    const auto it = capabilities.find(feature);
    if (it != capabilities.end() && it->second.isBool() && it->second.toBool()) {
      return true;
    }
  }
  return false;
}

}  // namespace taxon::core
