// The int8 (QDQ) form of a graph, on a hand-made one: ONNX's checker and shape inference accept
// it; weights are int8 per output channel and dequantize to within half a step of the float ones;
// biases are int32 at input scale x weight scale; a ReLU's output gets zero point 0; a max pool
// keeps its input's scale; every activation needs a calibrated range.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "core/Error.hpp"
#include "deploy/OnnxModel.hpp"
#include "deploy/Quantize.hpp"

namespace taxon::deploy {
namespace {

// image (batch x 2 x 6 x 6) -> 1x1 Conv (3 filters) -> Relu "a" -> MaxPool 3x3/2 "p"; Concat of
// a 1x1 Conv + Relu "b" on p with p -> "c"; GlobalAveragePool -> Flatten -> Gemm "logits".
OnnxModel graph() {
  OnnxModel m;
  m.graphName = "qdq";
  m.inputs = {{"image", {-1, 2, 6, 6}, ""}};
  m.outputs = {{"logits", {-1, 2}, ""}};
  m.constants = {floatConstant("w1", {3, 2, 1, 1}, {0.5f, -1.0f, 0.25f, 0.125f, -2.0f, 3.0f}),
                 floatConstant("b1", {3}, {0.1f, -0.2f, 0.3f}),
                 floatConstant("w2", {1, 3, 1, 1}, {0.3f, 0.2f, -0.1f}),
                 floatConstant("b2", {1}, {0.05f}),
                 floatConstant("fc.w", {2, 4}, {1, 2, 3, 4, 5, 6, 7, 8}),
                 floatConstant("fc.b", {2}, {0, 1})};
  const auto k1 = OnnxAttribute{"kernel_shape", std::vector<std::int64_t>{1, 1}};
  m.nodes = {
      {"Conv", {"image", "w1", "b1"}, {"a.conv"}, {k1}, {}},
      {"Relu", {"a.conv"}, {"a"}, {}, {}},
      {"MaxPool",
       {"a"},
       {"p"},
       {{"kernel_shape", std::vector<std::int64_t>{3, 3}},
        {"strides", std::vector<std::int64_t>{2, 2}}},
       {}},
      {"Conv", {"p", "w2", "b2"}, {"b.conv"}, {k1}, {}},
      {"Relu", {"b.conv"}, {"b"}, {}, {}},
      {"Concat", {"b", "p"}, {"c"}, {{"axis", std::int64_t{1}}}, {}},
      {"GlobalAveragePool", {"c"}, {"g"}, {}, {}},
      {"Flatten", {"g"}, {"f"}, {{"axis", std::int64_t{1}}}, {}},
      {"Gemm", {"f", "fc.w", "fc.b"}, {"logits"}, {{"transB", std::int64_t{1}}}, {}},
  };
  return m;
}

ActivationRanges ranges() {
  return {{"image", {-1.0f, 1.0f}},
          {"a", {0.0f, 4.0f}},
          {"p", {0.0f, 3.5f}},
          {"b", {0.0f, 1.0f}},
          {"c", {0.0f, 4.0f}}};
}

const OnnxConstant& find(const OnnxModel& m, const std::string& name) {
  const auto it = std::find_if(m.constants.begin(), m.constants.end(),
                               [&](const OnnxConstant& c) { return c.name == name; });
  if (it == m.constants.end()) {
    throw std::runtime_error("no constant " + name);
  }
  return *it;
}

template <typename T>
std::vector<T> values(const OnnxConstant& c) {
  std::vector<T> out(c.bytes.size() / sizeof(T));
  std::memcpy(out.data(), c.bytes.data(), c.bytes.size());
  return out;
}

TEST(Quantize, ParamsHoldZeroAndARelusRangeGetsZeroPointZero) {
  auto p = uint8Params({0.0f, 6.0f});
  EXPECT_EQ(p.zeroPoint, 0);
  EXPECT_FLOAT_EQ(p.scale, 6.0f / 255.0f);
  p = uint8Params({-1.0f, 1.0f});  // 0 is exact; both ends within a step
  EXPECT_FLOAT_EQ(p.scale, 2.0f / 255.0f);
  EXPECT_NEAR((0 - p.zeroPoint) * p.scale, -1.0f, p.scale);
  EXPECT_NEAR((255 - p.zeroPoint) * p.scale, 1.0f, p.scale);
  p = uint8Params({2.0f, 5.0f});  // widened to [0, 5]
  EXPECT_EQ(p.zeroPoint, 0);
  EXPECT_FLOAT_EQ(p.scale, 5.0f / 255.0f);
  p = uint8Params({0.0f, 0.0f});  // nothing but zeros
  EXPECT_EQ(p.zeroPoint, 0);
  EXPECT_GT(p.scale, 0.0f);
}

TEST(Quantize, QdqGraphPassesTheCheckerWithPerChannelWeights) {
  const auto q = quantizeInt8(graph(), ranges());
  EXPECT_NO_THROW(serializeOnnx(q));
  EXPECT_EQ(quantizedActivations(graph()), (std::vector<std::string>{"image", "a", "p", "b", "c"}));
  std::map<std::string, int> ops;
  for (const auto& n : q.nodes) {
    ++ops[n.op];
  }
  EXPECT_EQ(ops["QuantizeLinear"], 5);
  EXPECT_EQ(ops["DequantizeLinear"], 5 + 2 * 2);  // activations, then weight and bias per conv
  EXPECT_EQ(ops["Gemm"], 1);

  // Weights: symmetric int8, one scale per output channel, the largest at +-127.
  const auto w = values<std::int8_t>(find(q, "w1_q"));
  const auto scales = values<float>(find(q, "w1_scale"));
  const auto original = floatValues(find(graph(), "w1"));
  ASSERT_EQ(scales.size(), 3u);
  for (std::size_t c = 0; c < 3; ++c) {
    EXPECT_EQ(std::max(std::abs(w[2 * c]), std::abs(w[2 * c + 1])), 127) << c;
    for (std::size_t k = 0; k < 2; ++k) {
      EXPECT_LE(std::abs(w[2 * c + k] * scales[c] - original[2 * c + k]), scales[c] / 2 + 1e-7);
    }
  }
  EXPECT_TRUE(values<std::int8_t>(find(q, "w1_zero_point")) == std::vector<std::int8_t>(3, 0));
  // Bias: int32 at the image's scale times each channel's weight scale.
  const auto biasScales = values<float>(find(q, "b1_scale"));
  const auto bias = values<std::int32_t>(find(q, "b1_q"));
  const float imageScale = uint8Params({-1.0f, 1.0f}).scale;
  for (std::size_t c = 0; c < 3; ++c) {
    EXPECT_FLOAT_EQ(biasScales[c], imageScale * scales[c]);
    EXPECT_NEAR(bias[c] * biasScales[c], floatValues(find(graph(), "b1"))[c], biasScales[c]);
  }
  // The max pool's output keeps the ReLU's scale (its own range, 3.5, is not used); ReLU zero
  // points are 0; the Gemm keeps its float weights.
  EXPECT_EQ(values<float>(find(q, "p_scale")), values<float>(find(q, "a_scale")));
  EXPECT_EQ(values<std::uint8_t>(find(q, "a_zero_point")), std::vector<std::uint8_t>{0});
  EXPECT_EQ(find(q, "fc.w").type, ElementType::Float32);
  EXPECT_THROW(find(q, "w1"), std::runtime_error);  // the float weights are gone
}

TEST(Quantize, AConvolutionCanStayInFloat) {
  QuantizeSettings settings;
  settings.floatConvolutions = {"a"};
  const auto q = quantizeInt8(graph(), ranges(), settings);
  EXPECT_NO_THROW(serializeOnnx(q));
  EXPECT_EQ(find(q, "w1").type, ElementType::Float32);
  EXPECT_EQ(find(q, "w2_q").type, ElementType::Int8);
}

TEST(Quantize, AnActivationWithoutARangeIsNamed) {
  auto r = ranges();
  r.erase("b");
  try {
    quantizeInt8(graph(), r);
    FAIL() << "a missing range was accepted";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'b'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace taxon::deploy
