// Taxon's inference form (the folded graph run with torch's operators) against the module tree it
// was written from: the same logits in float32 for a small and a full-width network, for any
// batch size, its probabilities their softmax; bf16 as close as bf16 gets; and a
// graph it cannot run refused by name.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "TestFiles.hpp"
#include "TinyModel.hpp"
#include "core/Error.hpp"
#include "core/torch/Device.hpp"
#include "deploy/torch/GraphRunner.hpp"
#include "deploy/torch/InceptionOnnx.hpp"

namespace {

using namespace taxon;

struct Network {
  model::InceptionV3 net{nullptr};
  deploy::OnnxModel graph;
  torch::Tensor inputs;  // real pictures after the evaluation preprocessing
};

// A network of that size with batch-norm statistics measured on pictures, and its folded graph.
Network makeNetwork(double depth, std::int64_t side, std::int64_t categories, int images) {
  std::vector<std::string> encoded, calibration;
  for (int i = 0; i < images; ++i) {
    encoded.push_back(i % 3 == 2 ? test::makePng(90 + 37 * i, 120 + 23 * (i % 4), 100 + i)
                                 : test::makeJpeg(90 + 37 * i, 120 + 23 * (i % 4), 100 + i));
  }
  for (int i = 0; i < 16; ++i) {
    calibration.push_back(test::makeJpeg(100 + 7 * i, 110 + 5 * i, 1000 + i));
  }
  model::InceptionSettings s;
  s.depthMultiplier = depth;
  s.imageSize = side;
  s.numClasses = categories;
  s.auxLogits = false;
  torch::manual_seed(5);
  Network n;
  n.net = model::InceptionV3(s);
  test::setTrainedBatchNorm(*n.net, test::evalInputs(calibration, static_cast<int>(side)));
  deploy::OnnxProvenance provenance;
  for (std::int64_t c = 0; c < categories; ++c) {
    provenance.categories.push_back("Category " + std::to_string(c));
  }
  n.graph = deploy::inceptionToOnnx(*n.net, provenance);
  n.inputs = test::evalInputs(encoded, static_cast<int>(side));
  return n;
}

torch::Tensor moduleLogits(Network& n) {
  torch::NoGradGuard noGrad;
  return n.net->forward(n.inputs).logits;
}

// max |a - b| over the largest |b|: differences in units of the logits' scale.
double relativeError(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>() / b.abs().max().item<double>();
}

TEST(GraphRunner, Float32IsTheModuleTreeForAnyBatch) {
  torch::set_num_threads(2);
  auto n = makeNetwork(0.25, 75, 7, 9);
  const auto expected = moduleLogits(n);
  const deploy::GraphRunner runner(n.graph, {});
  const auto outputs = runner.run(n.inputs);
  ASSERT_EQ(outputs.size(), 2u);
  EXPECT_EQ(outputs[0].sizes(), expected.sizes());
  // Float32 summed in another order (oneDNN's blocked kernels, the folded batch norm): measured up
  // to 4.4e-5 of the logits' scale, as ONNX Runtime on the same graph (onnx_runtime.py).
  EXPECT_LT(relativeError(outputs[0], expected), 1e-4);
  EXPECT_LT(relativeError(outputs[1], torch::softmax(outputs[0], 1)), 1e-6);
  // One image, then three, then all again: the weights prepared for one shape serve no other.
  for (const std::int64_t count : {1, 3, 9}) {
    const auto part = runner.run(n.inputs.narrow(0, 0, count))[0];
    EXPECT_LT(relativeError(part, expected.narrow(0, 0, count)), 1e-4) << count << " images";
  }
}

TEST(GraphRunner, FullWidthAt299MatchesTheModuleTree) {
  torch::set_num_threads(2);
  auto n = makeNetwork(1.0, 299, 1000, 2);
  const auto expected = moduleLogits(n);
  const auto got = deploy::GraphRunner(n.graph, {}).run(n.inputs)[0];
  // Measured: 2.1e-5 (AMX machine).
  EXPECT_LT(relativeError(got, expected), 1e-4);
  EXPECT_TRUE(torch::equal(std::get<1>(got.topk(5, 1)), std::get<1>(expected.topk(5, 1))));
}

TEST(GraphRunner, BFloat16StaysCloseAndKeepsTheTopCategory) {
  torch::set_num_threads(2);
  auto n = makeNetwork(0.25, 75, 7, 9);
  const auto expected = moduleLogits(n);
  deploy::RunnerSettings settings;
  settings.precision = deploy::Precision::BFloat16;
  const auto got = deploy::GraphRunner(n.graph, settings).run(n.inputs)[0];
  EXPECT_EQ(got.scalar_type(), torch::kFloat);
  // bf16 keeps 8 bits of mantissa: about 0.4% per rounding, a few percent through the network.
  // The module tree itself in bf16 shows what bf16 costs this (random, so touchy) network: the
  // graph in bf16 must be no further from float32 than that, give or take a rounding.
  n.net->to(torch::kBFloat16);
  torch::Tensor moduleBf16;
  {
    torch::NoGradGuard noGrad;
    moduleBf16 = n.net->forward(n.inputs.to(torch::kBFloat16)).logits.to(torch::kFloat);
  }
  const double cost = relativeError(moduleBf16, expected);
  EXPECT_LT(relativeError(got, expected), 1.5 * cost + 0.01) << "bf16 module tree: " << cost;
  EXPECT_GT(relativeError(got, expected), 1e-4) << "not computed in bf16";
}

TEST(GraphRunner, PrecisionNames) {
  const c10::Device cpu(c10::kCPU);
  EXPECT_EQ(deploy::parsePrecision("fp32", cpu), deploy::Precision::Float32);
  EXPECT_EQ(deploy::parsePrecision("bf16", cpu), deploy::Precision::BFloat16);
  EXPECT_EQ(deploy::parsePrecision("auto", cpu),
            core::nativeBf16(cpu) ? deploy::Precision::BFloat16 : deploy::Precision::Float32);
  EXPECT_THROW(deploy::parsePrecision("fp16", cpu), core::Error);
}

TEST(GraphRunner, RefusesAnOperatorItDoesNotKnow) {
  deploy::OnnxModel graph;
  graph.inputs = {{"image", {-1, 3, 8, 8}, ""}};
  graph.outputs = {{"y", {-1, 3, 8, 8}, ""}};
  graph.nodes = {{"Tanh", {"image"}, {"y"}, {}, {}}};
  try {
    deploy::GraphRunner runner(graph, {});
    FAIL() << "a Tanh node was accepted";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("Tanh"), std::string::npos) << e.what();
  }
}

}  // namespace
