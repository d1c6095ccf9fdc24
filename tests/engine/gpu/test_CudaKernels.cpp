// Runs only on a machine with a CUDA GPU: `ctest --preset dev -L gpu` in a full build there.
// (bench/gpu/run.sh builds no tests; taxon-gpu-bench runs the same checks in its own way.)
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "data/torch/BatchStager.hpp"
#include "data/torch/ScaleToUnitRange.hpp"

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

// The channels-last kernel, and on a GPU other than the calling thread's current device (the
// kernel must run on the images' GPU: a data-parallel replica's thread drives cuda:k).
TEST(CudaKernels, ChannelsLastAndAnyGpuMatchTheCpuPath) {
  ASSERT_TRUE(torch::cuda::is_available()) << "the gpu tests need a CUDA GPU";
  torch::manual_seed(5);
  const auto images = torch::randint(0, 256, {3, 29, 31, 3}, torch::kByte);
  const auto cpu = scaleToUnitRange(images);
  const auto last = scaleToUnitRange(images.to(torch::kCUDA), at::MemoryFormat::ChannelsLast);
  EXPECT_TRUE(last.is_contiguous(at::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(torch::allclose(cpu, last.cpu(), 0.0, 1e-6));
  const auto gpus = static_cast<int>(torch::cuda::device_count());
  if (gpus > 1) {
    const c10::Device other(c10::kCUDA, static_cast<c10::DeviceIndex>(gpus - 1));
    const auto there = scaleToUnitRange(images.to(other));
    EXPECT_EQ(there.device(), other);
    EXPECT_TRUE(torch::allclose(cpu, there.cpu(), 0.0, 1e-6));
  }
}

// Batches staged through pinned memory and the side stream arrive on the GPU exactly as the
// synchronous copy makes them, in the trainer's order: take k, stage k + 1, take k + 1, ...
TEST(CudaKernels, StagedBatchesEqualTheSynchronousCopy) {
  ASSERT_TRUE(torch::cuda::is_available()) << "the gpu tests need a CUDA GPU";
  const c10::Device cuda(c10::kCUDA, 0);
  std::vector<Batch> batches(5);
  torch::manual_seed(4);
  for (std::size_t k = 0; k < batches.size(); ++k) {
    Batch& b = batches[k];
    b.index = static_cast<std::int64_t>(k);
    b.size = 8;
    b.height = 75;
    b.width = 75 + static_cast<std::int64_t>(k % 2);  // sizes change: the buffers regrow
    const auto pixels = torch::randint(0, 256, {8 * b.height * b.width * 3}, torch::kByte);
    b.images.assign(pixels.data_ptr<std::uint8_t>(),
                    pixels.data_ptr<std::uint8_t>() + pixels.numel());
    for (int i = 0; i < 8; ++i) {
      b.labels.push_back(static_cast<std::int64_t>(k * 8 + i));
      b.keys.push_back(std::to_string(i));
    }
  }
  BatchStager stager(cuda);
  for (std::size_t k = 0; k < batches.size(); ++k) {
    const auto staged = stager.take(batches[k]);
    if (k + 1 < batches.size()) {
      stager.stage(batches[k + 1]);
    }
    const auto direct = toTensors(batches[k], cuda);
    EXPECT_TRUE(torch::equal(staged.images.cpu(), direct.images.cpu())) << "batch " << k;
    EXPECT_TRUE(torch::equal(staged.labels.cpu(), direct.labels.cpu())) << "batch " << k;
  }
  EXPECT_EQ(stager.stagedHits(), static_cast<std::int64_t>(batches.size()) - 1);
}

}  // namespace
}  // namespace taxon::data
