// The CUDA side of scaleToUnitRange, callable from host code compiled without nvcc.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

namespace taxon::data {

// src: n x h x w x c uint8 on the device; dst: n x c x h x w float on the device, contiguous
// (channelsLast false) or in channels-last memory order (true: the same order as src). Launched
// asynchronously on `stream`, which must belong to the calling thread's current device; throws
// c10::Error when the launch fails.
void launchScaleToUnitRange(const std::uint8_t* src, float* dst, std::int64_t n, std::int64_t h,
                            std::int64_t w, std::int64_t c, bool channelsLast, cudaStream_t stream);

}  // namespace taxon::data
