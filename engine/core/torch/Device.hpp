// Where tensors live, as users name it on the command line and in settings.
#pragma once

#include <c10/core/Device.h>

#include <string>

namespace taxon::core {

// "cpu", "cuda", "cuda:N" as a device; core::Error when CUDA is asked for and not available.
c10::Device parseDevice(const std::string& device);

// Whether bf16 is native on `device`: a CUDA device of compute capability 8.0 or newer, or a CPU
// with AVX512-BF16 or AMX that oneDNN may use (ONEDNN_MAX_CPU_ISA not set below it).
bool nativeBf16(const c10::Device& device);

}  // namespace taxon::core
