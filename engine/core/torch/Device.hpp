// Where tensors live, as users name it on the command line and in settings.
#pragma once

#include <c10/core/Device.h>

#include <string>

namespace taxon::core {

// "cpu", "cuda", "cuda:N" as a device; core::Error when CUDA is asked for and not available.
c10::Device parseDevice(const std::string& device);

}  // namespace taxon::core
