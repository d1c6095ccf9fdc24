#include "model/InceptionV3.hpp"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include "core/Error.hpp"
#include "model/ModelSize.hpp"

namespace taxon::model {
namespace {

std::int64_t parameterCount(torch::nn::Module& module) {
  std::int64_t count = 0;
  for (const auto& p : module.parameters()) {
    count += p.numel();
  }
  return count;
}

InceptionSettings small(std::int64_t numClasses = 5) {
  InceptionSettings settings;
  settings.numClasses = numClasses;
  settings.depthMultiplier = 0.25;
  settings.imageSize = 75;
  return settings;
}

TEST(InceptionV3, FullModelHasThePapersParameterCount) {
  InceptionV3 model;
  EXPECT_EQ(parameterCount(*model), 27'161'264);  // torchvision: 1000 classes with aux logits
  EXPECT_EQ(model->numFeatures(), 2048);
  InceptionSettings noAux;
  noAux.auxLogits = false;
  InceptionV3 withoutAux(noAux);
  // AuxLogits: conv0 (768*128 + 2*128), conv1 (128*768*25 + 2*768), fc (768*1000 + 1000).
  EXPECT_EQ(parameterCount(*withoutAux),
            27'161'264 - (768 * 128 + 256) - (128 * 768 * 25 + 2 * 768) - (768 * 1000 + 1000));
}

// The multiply-adds of one image, counted on the network's own forward pass: torchvision
// publishes 5.71 G for inception_v3 at 299 px (its "GFLOPS" column counts multiply-adds), and
// 27.2 M parameters, of which the auxiliary head's 3.3 M do not classify. Halving the depth
// multiplier about quarters the cost; the count depends on the input side, not on training mode.
TEST(InceptionV3, SizeCountsParametersAndMultiplyAddsAsPublished) {
  const auto full = measureModel(InceptionSettings{});
  EXPECT_EQ(full.parameters, 27'161'264);
  EXPECT_EQ(full.parameters - full.inferenceParameters, 3'326'696);  // AuxLogits.*
  EXPECT_NEAR(static_cast<double>(full.multiplyAdds) / 1e9, 5.71, 0.03);
  EXPECT_EQ(full.flops(), 2 * full.multiplyAdds);

  InceptionSettings half;
  half.depthMultiplier = 0.5;
  const auto halfSize = measureModel(half);
  const double ratio =
      static_cast<double>(halfSize.multiplyAdds) / static_cast<double>(full.multiplyAdds);
  EXPECT_GT(ratio, 0.22);
  EXPECT_LT(ratio, 0.30);

  auto settings = small();
  InceptionV3 net(settings);
  net->train();
  const auto before = net->named_buffers()["Conv2d_1a_3x3.bn.running_mean"].clone();
  const auto size = measureModel(net);
  EXPECT_TRUE(net->is_training());
  EXPECT_TRUE(net->named_buffers()["Conv2d_1a_3x3.bn.running_mean"].equal(before));
  EXPECT_EQ(size.multiplyAdds, measureModel(settings).multiplyAdds);
  settings.imageSize = 150;
  EXPECT_GT(measureModel(settings).multiplyAdds, 3 * size.multiplyAdds);
}

TEST(InceptionV3, ForwardAt299GivesAuxLogitsOnlyInTraining) {
  InceptionSettings settings;
  settings.numClasses = 7;
  InceptionV3 model(settings);
  torch::NoGradGuard noGrad;
  const auto x = torch::rand({2, 3, 299, 299}) * 2 - 1;
  model->train();
  auto out = model->forward(x);
  EXPECT_EQ(out.logits.sizes(), (std::vector<std::int64_t>{2, 7}));
  ASSERT_TRUE(out.aux.defined());
  EXPECT_EQ(out.aux.sizes(), (std::vector<std::int64_t>{2, 7}));
  model->eval();
  out = model->forward(x);
  EXPECT_EQ(out.logits.sizes(), (std::vector<std::int64_t>{2, 7}));
  EXPECT_FALSE(out.aux.defined());
  EXPECT_TRUE(torch::isfinite(out.logits).all().item<bool>());
}

TEST(InceptionV3, SmallModelRunsAt75InTrainingAndEval) {
  // torchvision fails here in training mode (its aux head pools 5x5 over a 3x3 map).
  InceptionV3 model(small());
  EXPECT_EQ(model->numFeatures(), 512);  // 80 + 4 * 96 + 48
  const auto x = torch::rand({2, 3, 75, 75}) * 2 - 1;
  model->train();
  auto out = model->forward(x);
  EXPECT_EQ(out.logits.sizes(), (std::vector<std::int64_t>{2, 5}));
  ASSERT_TRUE(out.aux.defined());
  EXPECT_EQ(out.aux.sizes(), (std::vector<std::int64_t>{2, 5}));
  (out.logits.sum() + out.aux.sum()).backward();
  for (const auto& item : model->named_parameters()) {
    ASSERT_TRUE(item.value().grad().defined()) << item.key();
  }
  model->eval();
  torch::NoGradGuard noGrad;
  out = model->forward(x);
  EXPECT_EQ(out.logits.sizes(), (std::vector<std::int64_t>{2, 5}));
  EXPECT_FALSE(out.aux.defined());
  // Between 75 and 299 and not square: the aux head's pooling adapts.
  model->train();
  out = model->forward(torch::rand({2, 3, 120, 97}));
  EXPECT_EQ(out.aux.sizes(), (std::vector<std::int64_t>{2, 5}));
}

TEST(InceptionV3, WithoutAuxHeadAuxIsUndefinedInTraining) {
  auto settings = small();
  settings.auxLogits = false;
  InceptionV3 model(settings);
  model->train();
  const auto out = model->forward(torch::rand({2, 3, 75, 75}));
  EXPECT_EQ(out.logits.size(1), 5);
  EXPECT_FALSE(out.aux.defined());
  for (const auto& item : model->named_parameters()) {
    EXPECT_EQ(item.key().rfind("AuxLogits", 0), std::string::npos) << item.key();
  }
}

TEST(InceptionV3, RejectsInputsSmallerThan75) {
  InceptionV3 model(small());
  model->eval();
  EXPECT_THROW(model->forward(torch::rand({1, 3, 74, 75})), core::Error);
  EXPECT_THROW(model->forward(torch::rand({1, 1, 75, 75})), core::Error);
}

TEST(InceptionV3, DepthMultiplierFollowsTfSlimWithMinimumDepth16) {
  inception::Depth depth{0.25};
  EXPECT_EQ(depth(32), 16);                    // 8 -> 16
  EXPECT_EQ(depth(64), 16);                    // 16
  EXPECT_EQ(depth(80), 20);                    // 20
  EXPECT_EQ(depth(192), 48);                   // 48
  EXPECT_EQ(inception::Depth{0.3}(50), 16);    // int(15.0) -> 16
  EXPECT_EQ(inception::Depth{0.33}(100), 33);  // int(33.0), truncated
  EXPECT_EQ(inception::Depth{1.5}(64), 96);

  InceptionSettings settings = small();
  settings.depthMultiplier = 0.1;
  InceptionV3 model(settings);
  const auto params = model->named_parameters();
  EXPECT_EQ(params["Conv2d_1a_3x3.conv.weight"].sizes(),
            (std::vector<std::int64_t>{16, 3, 3, 3}));  // int(3.2) -> 16
  EXPECT_EQ(params["Conv2d_4a_3x3.conv.weight"].sizes(),
            (std::vector<std::int64_t>{19, 16, 3, 3}));  // int(19.2) = 19, input int(8) -> 16
  EXPECT_EQ(params["Mixed_5b.branch1x1.conv.weight"].sizes(),
            (std::vector<std::int64_t>{16, 19, 1, 1}));
  EXPECT_EQ(params["AuxLogits.conv1.conv.weight"].sizes(),
            (std::vector<std::int64_t>{76, 16, 5, 5}));  // 768 -> 76, 128 -> int(12.8) -> 16
  for (const auto& item : model->named_parameters()) {
    if (item.key().find(".conv.weight") != std::string::npos) {
      EXPECT_GE(item.value().size(0), 16) << item.key();
    }
  }
  model->eval();
  EXPECT_EQ(model->forward(torch::rand({1, 3, 75, 75})).logits.size(1), 5);
}

TEST(InceptionV3, BatchNormUsesEpsilon0001AndTorchvisionMomentum) {
  InceptionV3 model(small());
  int count = 0;
  for (const auto& module : model->modules(/*include_self=*/false)) {
    if (const auto* bn = module->as<torch::nn::BatchNorm2d>()) {
      ++count;
      EXPECT_DOUBLE_EQ(bn->options.eps(), 0.001);
      // PyTorch semantics: running = (1 - 0.1) * running + 0.1 * batch (TF's decay 0.9).
      ASSERT_TRUE(bn->options.momentum().has_value());
      EXPECT_DOUBLE_EQ(*bn->options.momentum(), 0.1);
      EXPECT_TRUE(bn->options.affine());
      EXPECT_TRUE(bn->options.track_running_stats());
    }
  }
  EXPECT_EQ(count, 96);  // 94 in the trunk, 2 in the aux head
}

TEST(InceptionV3, InitializationFollowsTorchvision) {
  torch::manual_seed(1);
  InceptionV3 model;
  const auto params = model->named_parameters();
  EXPECT_NEAR(params["Mixed_6e.branch7x7_1.conv.weight"].std().item<double>(), 0.1, 0.005);
  EXPECT_NEAR(params["AuxLogits.conv1.conv.weight"].std().item<double>(), 0.01, 0.0005);
  EXPECT_NEAR(params["AuxLogits.fc.weight"].std().item<double>(), 0.001, 0.0001);
  EXPECT_TRUE(params["Mixed_5b.branch1x1.bn.weight"].eq(1).all().item<bool>());
  EXPECT_TRUE(params["Mixed_5b.branch1x1.bn.bias"].eq(0).all().item<bool>());
}

TEST(InceptionV3, ValidateReportsEveryProblem) {
  EXPECT_TRUE(InceptionSettings{}.validate().empty());
  InceptionSettings bad;
  bad.numClasses = 0;
  bad.depthMultiplier = 0.0;
  bad.imageSize = 74;
  bad.dropout = 1.0;
  EXPECT_EQ(bad.validate().size(), 4u);
  EXPECT_THROW(InceptionV3{bad}, core::Error);
}

}  // namespace
}  // namespace taxon::model
