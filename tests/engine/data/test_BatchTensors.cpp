#include "data/torch/BatchTensors.hpp"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include "core/Error.hpp"
#include "data/torch/BatchStager.hpp"

namespace taxon::data {
namespace {

Batch makeBatch() {
  Batch batch;
  batch.size = 2;
  batch.height = 2;
  batch.width = 3;
  for (int i = 0; i < 2 * 2 * 3 * 3; ++i) {
    batch.images.push_back(static_cast<std::uint8_t>(i * 7));
  }
  batch.images[0] = 0;
  batch.images[1] = 255;
  batch.labels = {3, 1000};
  batch.keys = {"a.jpg", "b.jpg"};
  return batch;
}

TEST(BatchTensors, ImagesBecomeFloatNchwInMinusOneToOne) {
  auto batch = makeBatch();
  const auto tensors = toTensors(batch);
  const auto expectedImages = batch.images;
  batch = Batch{};  // the tensors own their memory
  ASSERT_EQ(tensors.images.sizes(), (std::vector<std::int64_t>{2, 3, 2, 3}));
  EXPECT_EQ(tensors.images.scalar_type(), torch::kFloat);
  EXPECT_TRUE(tensors.images.is_contiguous());
  EXPECT_GE(tensors.images.min().item<float>(), -1.0f);
  EXPECT_LE(tensors.images.max().item<float>(), 1.0f);
  for (int n = 0; n < 2; ++n) {
    for (int y = 0; y < 2; ++y) {
      for (int x = 0; x < 3; ++x) {
        for (int c = 0; c < 3; ++c) {
          const auto byte = expectedImages[static_cast<std::size_t>(((n * 2 + y) * 3 + x) * 3 + c)];
          EXPECT_FLOAT_EQ(tensors.images[n][c][y][x].item<float>(), byte / 127.5f - 1.0f);
        }
      }
    }
  }
  EXPECT_FLOAT_EQ(tensors.images[0][0][0][0].item<float>(), -1.0f);
  EXPECT_FLOAT_EQ(tensors.images[0][1][0][0].item<float>(), 1.0f);
  ASSERT_EQ(tensors.labels.sizes(), (std::vector<std::int64_t>{2}));
  EXPECT_EQ(tensors.labels.scalar_type(), torch::kLong);
  EXPECT_EQ(tensors.labels[0].item<std::int64_t>(), 3);
  EXPECT_EQ(tensors.labels[1].item<std::int64_t>(), 1000);
}

TEST(BatchTensors, InconsistentBatchIsAnError) {
  auto batch = makeBatch();
  batch.labels.pop_back();
  EXPECT_THROW(toTensors(batch), core::Error);
  batch = makeBatch();
  batch.images.pop_back();
  EXPECT_THROW(toTensors(batch), core::Error);
}

// On the CPU the stager is toTensors: staging does nothing and every batch is moved when taken.
TEST(BatchStager, OnTheCpuTakeIsToTensors) {
  BatchStager stager(c10::Device(c10::kCPU));
  auto first = makeBatch();
  auto second = makeBatch();
  second.index = 1;
  second.images[5] = 200;
  stager.stage(second);
  const auto a = stager.take(first);
  const auto b = stager.take(second);
  EXPECT_TRUE(torch::equal(a.images, toTensors(first).images));
  EXPECT_TRUE(torch::equal(b.images, toTensors(second).images));
  EXPECT_TRUE(torch::equal(b.labels, toTensors(second).labels));
  EXPECT_EQ(stager.stagedHits(), 0);
}

}  // namespace
}  // namespace taxon::data
