// The CUDA side of scaleToUnitRange, callable from host code compiled without nvcc.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

namespace taxon::data {

// src: n x h x w x c uint8 on the device; dst: n x c x h x w float on the device. Asynchronous
// on `stream`; throws core::Error when the launch fails.
void launchScaleToUnitRange(const std::uint8_t* src, float* dst, std::int64_t n, std::int64_t h,
                            std::int64_t w, std::int64_t c, cudaStream_t stream);

}  // namespace taxon::data
