// Runs only on a machine with a CUDA GPU (label gpu; bench/gpu/run.sh runs it).
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "data/ScaleToUnitRange.hpp"

namespace taxon::data {
namespace {

TEST(CudaKernels, ScaleToUnitRangeMatchesTheCpuPath) {
  ASSERT_TRUE(torch::cuda::is_available()) << "the gpu tests need a CUDA GPU";
  torch::manual_seed(3);
  const auto images = torch::randint(0, 256, {4, 37, 53, 3}, torch::kByte);
  const auto cpu = scaleToUnitRange(images);
  const auto gpu = scaleToUnitRange(images.to(torch::kCUDA)).cpu();
  EXPECT_TRUE(torch::allclose(cpu, gpu, 0.0, 1e-6));
}

}  // namespace
}  // namespace taxon::data
