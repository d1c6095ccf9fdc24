#include "data/torch/ScaleToUnitRangeKernel.hpp"

#include <c10/cuda/CUDAException.h>

namespace taxon::data {

namespace {

// One thread per output element; reads are strided by c, writes are coalesced along w.
__global__ void scaleToUnitRangeKernel(const std::uint8_t* __restrict__ src,
                                       float* __restrict__ dst, std::int64_t total, std::int64_t h,
                                       std::int64_t w, std::int64_t c) {
  const std::int64_t index = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (index >= total) {
    return;
  }
  // index walks dst in N x C x H x W order.
  const std::int64_t x = index % w;
  const std::int64_t y = (index / w) % h;
  const std::int64_t channel = (index / (w * h)) % c;
  const std::int64_t image = index / (w * h * c);
  const std::uint8_t value = src[((image * h + y) * w + x) * c + channel];
  dst[index] = static_cast<float>(value) * (1.0f / 127.5f) - 1.0f;
}

// Channels-last output has the input's order: element-wise, both sides coalesced.
__global__ void scaleToUnitRangeSameOrderKernel(const std::uint8_t* __restrict__ src,
                                                float* __restrict__ dst, std::int64_t total) {
  const std::int64_t index = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (index < total) {
    dst[index] = static_cast<float>(src[index]) * (1.0f / 127.5f) - 1.0f;
  }
}

}  // namespace

void launchScaleToUnitRange(const std::uint8_t* src, float* dst, std::int64_t n, std::int64_t h,
                            std::int64_t w, std::int64_t c, bool channelsLast,
                            cudaStream_t stream) {
  const std::int64_t total = n * h * w * c;
  if (total == 0) {
    return;
  }
  constexpr int kThreads = 256;
  const auto blocks = static_cast<unsigned>((total + kThreads - 1) / kThreads);
  if (channelsLast) {
    scaleToUnitRangeSameOrderKernel<<<blocks, kThreads, 0, stream>>>(src, dst, total);
  } else {
    scaleToUnitRangeKernel<<<blocks, kThreads, 0, stream>>>(src, dst, total, h, w, c);
  }
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

}  // namespace taxon::data
