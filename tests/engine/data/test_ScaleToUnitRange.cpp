#include "data/torch/ScaleToUnitRange.hpp"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include "core/Error.hpp"

namespace taxon::data {
namespace {

TEST(ScaleToUnitRange, MapsBytesToMinusOneToOneInNchw) {
  // 1 image, 2 x 3 pixels, 3 channels; pixel (y, x) channel k holds 10 * (y * 3 + x) + k.
  auto images = torch::empty({1, 2, 3, 3}, torch::kByte);
  for (int y = 0; y < 2; ++y) {
    for (int x = 0; x < 3; ++x) {
      for (int k = 0; k < 3; ++k) {
        images[0][y][x][k] = 10 * (y * 3 + x) + k;
      }
    }
  }
  const auto out = scaleToUnitRange(images);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{1, 3, 2, 3}));
  EXPECT_EQ(out.scalar_type(), torch::kFloat);
  EXPECT_TRUE(out.is_contiguous());
  for (int y = 0; y < 2; ++y) {
    for (int x = 0; x < 3; ++x) {
      for (int k = 0; k < 3; ++k) {
        const float expected = static_cast<float>(10 * (y * 3 + x) + k) / 127.5f - 1.0f;
        EXPECT_FLOAT_EQ(out[0][k][y][x].item<float>(), expected);
      }
    }
  }
}

// Channels-last output: the same values, in the memory order tensor cores prefer (N x H x W x C,
// the input's own order).
TEST(ScaleToUnitRange, ChannelsLastOutputHasTheSameValuesInTheInputsOrder) {
  torch::manual_seed(2);
  const auto images = torch::randint(0, 256, {2, 5, 7, 3}, torch::kByte);
  const auto plain = scaleToUnitRange(images);
  const auto last = scaleToUnitRange(images, at::MemoryFormat::ChannelsLast);
  EXPECT_TRUE(last.is_contiguous(at::MemoryFormat::ChannelsLast));
  EXPECT_FALSE(last.is_contiguous());
  EXPECT_TRUE(torch::equal(plain, last));
  // Element i of the output's memory is byte i of the input, scaled.
  const auto memory = last.permute({0, 2, 3, 1}).contiguous().reshape(-1);
  EXPECT_TRUE(torch::equal(memory, images.reshape(-1).to(torch::kFloat) / 127.5f - 1.0f));
}

TEST(ScaleToUnitRange, EndpointsAreExact) {
  auto images = torch::tensor({0, 255}, torch::kByte).reshape({1, 1, 2, 1});
  const auto out = scaleToUnitRange(images);
  EXPECT_FLOAT_EQ(out[0][0][0][0].item<float>(), -1.0f);
  EXPECT_FLOAT_EQ(out[0][0][0][1].item<float>(), 1.0f);
}

TEST(ScaleToUnitRange, RejectsWrongTypesAndShapesWithAClearMessage) {
  try {
    scaleToUnitRange(torch::zeros({1, 2, 2, 3}, torch::kFloat));
    FAIL() << "float input accepted";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("uint8"), std::string::npos) << e.what();
  }
  EXPECT_THROW(scaleToUnitRange(torch::zeros({2, 2, 3}, torch::kByte)), core::Error);
}

}  // namespace
}  // namespace taxon::data
