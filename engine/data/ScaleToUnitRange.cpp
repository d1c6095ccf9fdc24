#include "data/ScaleToUnitRange.hpp"

#include <ATen/ATen.h>

#include "core/Error.hpp"

#ifdef TAXON_HAVE_CUDA
#include <c10/cuda/CUDAStream.h>

#include "data/ScaleToUnitRangeKernel.hpp"
#endif

namespace taxon::data {

at::Tensor scaleToUnitRange(const at::Tensor& images) {
  if (images.scalar_type() != at::kByte || images.dim() != 4) {
    throw core::Error("scaleToUnitRange: expected a uint8 N x H x W x C tensor, got " +
                      std::string(c10::toString(images.scalar_type())) + " with " +
                      std::to_string(images.dim()) + " dimensions");
  }
  if (images.is_cuda()) {
#ifdef TAXON_HAVE_CUDA
    const auto input = images.contiguous();
    auto output = at::empty({input.size(0), input.size(3), input.size(1), input.size(2)},
                            input.options().dtype(at::kFloat));
    const auto stream = c10::cuda::getCurrentCUDAStream(input.device().index());
    launchScaleToUnitRange(input.data_ptr<std::uint8_t>(), output.data_ptr<float>(), input.size(0),
                           input.size(1), input.size(2), input.size(3), stream.stream());
    return output;
#else
    throw core::Error("scaleToUnitRange: this build has no CUDA kernels (TAXON_WITH_CUDA=OFF)");
#endif
  }
  return images.permute({0, 3, 1, 2}).to(at::kFloat).div_(127.5).sub_(1.0).contiguous();
}

}  // namespace taxon::data
