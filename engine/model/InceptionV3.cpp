#include "model/InceptionV3.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/Error.hpp"
#include "model/ModelSize.hpp"
#include "model/WeightInit.hpp"

namespace taxon::model {

namespace F = torch::nn::functional;

// The count of the forward passes measureModel runs on this thread (null: not counting).
thread_local std::int64_t* countedMultiplyAdds = nullptr;

std::vector<std::string> InceptionSettings::validate() const {
  std::vector<std::string> problems;
  if (numClasses < 1) {
    problems.push_back("numClasses must be at least 1 (got " + std::to_string(numClasses) + ")");
  }
  if (!(depthMultiplier > 0.0 && depthMultiplier <= 16.0)) {
    std::ostringstream text;
    text << "depthMultiplier must be in (0, 16] (got " << depthMultiplier << ")";
    problems.push_back(text.str());
  }
  if (imageSize < kMinImageSize || imageSize > 4096) {
    problems.push_back("imageSize must be 75 to 4096 pixels (got " + std::to_string(imageSize) +
                       ")");
  }
  if (!(dropout >= 0.0 && dropout < 1.0)) {
    std::ostringstream text;
    text << "dropout must be in [0, 1) (got " << dropout << ")";
    problems.push_back(text.str());
  }
  return problems;
}

namespace inception {

std::int64_t Depth::operator()(std::int64_t channels) const {
  constexpr std::int64_t kMinDepth = 16;
  return std::max(static_cast<std::int64_t>(static_cast<double>(channels) * multiplier), kMinDepth);
}

namespace {

ConvSpec conv(std::int64_t in, std::int64_t out, std::vector<std::int64_t> kernel,
              std::vector<std::int64_t> stride = {1, 1},
              std::vector<std::int64_t> padding = {0, 0}) {
  return ConvSpec{in, out, std::move(kernel), std::move(stride), std::move(padding)};
}

// avg_pool2d(kernel 3, stride 1, padding 1), counting the padding like torchvision.
torch::Tensor avgPool3x3(const torch::Tensor& x) {
  return F::avg_pool2d(x, F::AvgPool2dFuncOptions(3).stride(1).padding(1));
}

torch::Tensor maxPool3x3Stride2(const torch::Tensor& x) {
  return F::max_pool2d(x, F::MaxPool2dFuncOptions(3).stride(2));
}

}  // namespace

BasicConv2dImpl::BasicConv2dImpl(const ConvSpec& spec) : outChannels_(spec.outChannels) {
  conv_ = register_module(
      "conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(spec.inChannels, spec.outChannels,
                                                         torch::ExpandingArray<2>(spec.kernel))
                                    .stride(torch::ExpandingArray<2>(spec.stride))
                                    .padding(torch::ExpandingArray<2>(spec.padding))
                                    .bias(false)));
  bn_ = register_module(
      "bn", torch::nn::BatchNorm2d(torch::nn::BatchNormOptions(spec.outChannels).eps(0.001)));
}

torch::Tensor BasicConv2dImpl::forward(torch::Tensor x) {
  x = conv_->forward(x);
  if (countedMultiplyAdds != nullptr) {
    // Each output value is a dot product over (input channels / groups) x kernel height x width.
    *countedMultiplyAdds += x.numel() * conv_->weight[0].numel();
  }
  if (replicas_ && is_training()) {
    return torch::relu(syncBatchNorm(x, *bn_, replicas_));
  }
  return torch::relu(bn_->forward(x));
}

InceptionAImpl::InceptionAImpl(std::int64_t in, std::int64_t poolFeatures, Depth d) {
  branch1x1_ = register_module("branch1x1", BasicConv2d(conv(in, d(64), {1, 1})));
  branch5x5_1_ = register_module("branch5x5_1", BasicConv2d(conv(in, d(48), {1, 1})));
  branch5x5_2_ =
      register_module("branch5x5_2", BasicConv2d(conv(d(48), d(64), {5, 5}, {1, 1}, {2, 2})));
  branch3x3dbl_1_ = register_module("branch3x3dbl_1", BasicConv2d(conv(in, d(64), {1, 1})));
  branch3x3dbl_2_ =
      register_module("branch3x3dbl_2", BasicConv2d(conv(d(64), d(96), {3, 3}, {1, 1}, {1, 1})));
  branch3x3dbl_3_ =
      register_module("branch3x3dbl_3", BasicConv2d(conv(d(96), d(96), {3, 3}, {1, 1}, {1, 1})));
  branchPool_ = register_module("branch_pool", BasicConv2d(conv(in, d(poolFeatures), {1, 1})));
}

std::int64_t InceptionAImpl::outChannels() const {
  return branch1x1_->outChannels() + branch5x5_2_->outChannels() + branch3x3dbl_3_->outChannels() +
         branchPool_->outChannels();
}

torch::Tensor InceptionAImpl::forward(torch::Tensor x) {
  // x: N x in x 35 x 35
  auto b1 = branch1x1_->forward(x);                             // N x 64 x 35 x 35
  auto b5 = branch5x5_2_->forward(branch5x5_1_->forward(x));    // N x 64 x 35 x 35
  auto b3 = branch3x3dbl_1_->forward(x);                        // N x 64 x 35 x 35
  b3 = branch3x3dbl_3_->forward(branch3x3dbl_2_->forward(b3));  // N x 96 x 35 x 35
  auto pool = branchPool_->forward(avgPool3x3(x));              // N x pool x 35 x 35
  return torch::cat({b1, b5, b3, pool}, 1);                     // N x 224+pool x 35 x 35
}

InceptionBImpl::InceptionBImpl(std::int64_t in, Depth d) {
  branch3x3_ = register_module("branch3x3", BasicConv2d(conv(in, d(384), {3, 3}, {2, 2})));
  branch3x3dbl_1_ = register_module("branch3x3dbl_1", BasicConv2d(conv(in, d(64), {1, 1})));
  branch3x3dbl_2_ =
      register_module("branch3x3dbl_2", BasicConv2d(conv(d(64), d(96), {3, 3}, {1, 1}, {1, 1})));
  branch3x3dbl_3_ =
      register_module("branch3x3dbl_3", BasicConv2d(conv(d(96), d(96), {3, 3}, {2, 2})));
  outChannels_ = d(384) + d(96) + in;
}

torch::Tensor InceptionBImpl::forward(torch::Tensor x) {
  // x: N x 288 x 35 x 35
  auto b3 = branch3x3_->forward(x);  // N x 384 x 17 x 17
  auto bd = branch3x3dbl_3_->forward(
      branch3x3dbl_2_->forward(branch3x3dbl_1_->forward(x)));  // N x 96 x 17 x 17
  auto pool = maxPool3x3Stride2(x);                            // N x 288 x 17 x 17
  return torch::cat({b3, bd, pool}, 1);                        // N x 768 x 17 x 17
}

InceptionCImpl::InceptionCImpl(std::int64_t in, std::int64_t c7, Depth d) {
  const std::vector<std::int64_t> k1x7 = {1, 7}, p1x7 = {0, 3}, k7x1 = {7, 1}, p7x1 = {3, 0};
  branch1x1_ = register_module("branch1x1", BasicConv2d(conv(in, d(192), {1, 1})));
  branch7x7_1_ = register_module("branch7x7_1", BasicConv2d(conv(in, d(c7), {1, 1})));
  branch7x7_2_ =
      register_module("branch7x7_2", BasicConv2d(conv(d(c7), d(c7), k1x7, {1, 1}, p1x7)));
  branch7x7_3_ =
      register_module("branch7x7_3", BasicConv2d(conv(d(c7), d(192), k7x1, {1, 1}, p7x1)));
  branch7x7dbl_1_ = register_module("branch7x7dbl_1", BasicConv2d(conv(in, d(c7), {1, 1})));
  branch7x7dbl_2_ =
      register_module("branch7x7dbl_2", BasicConv2d(conv(d(c7), d(c7), k7x1, {1, 1}, p7x1)));
  branch7x7dbl_3_ =
      register_module("branch7x7dbl_3", BasicConv2d(conv(d(c7), d(c7), k1x7, {1, 1}, p1x7)));
  branch7x7dbl_4_ =
      register_module("branch7x7dbl_4", BasicConv2d(conv(d(c7), d(c7), k7x1, {1, 1}, p7x1)));
  branch7x7dbl_5_ =
      register_module("branch7x7dbl_5", BasicConv2d(conv(d(c7), d(192), k1x7, {1, 1}, p1x7)));
  branchPool_ = register_module("branch_pool", BasicConv2d(conv(in, d(192), {1, 1})));
  outChannels_ = 4 * d(192);
}

torch::Tensor InceptionCImpl::forward(torch::Tensor x) {
  // x: N x 768 x 17 x 17
  auto b1 = branch1x1_->forward(x);  // N x 192 x 17 x 17
  auto b7 =
      branch7x7_3_->forward(branch7x7_2_->forward(branch7x7_1_->forward(x)));  // N x 192 x 17 x 17
  auto bd = branch7x7dbl_1_->forward(x);                                       // N x c7 x 17 x 17
  bd = branch7x7dbl_3_->forward(branch7x7dbl_2_->forward(bd));
  bd = branch7x7dbl_5_->forward(branch7x7dbl_4_->forward(bd));  // N x 192 x 17 x 17
  auto pool = branchPool_->forward(avgPool3x3(x));              // N x 192 x 17 x 17
  return torch::cat({b1, b7, bd, pool}, 1);                     // N x 768 x 17 x 17
}

InceptionDImpl::InceptionDImpl(std::int64_t in, Depth d) {
  branch3x3_1_ = register_module("branch3x3_1", BasicConv2d(conv(in, d(192), {1, 1})));
  branch3x3_2_ = register_module("branch3x3_2", BasicConv2d(conv(d(192), d(320), {3, 3}, {2, 2})));
  branch7x7x3_1_ = register_module("branch7x7x3_1", BasicConv2d(conv(in, d(192), {1, 1})));
  branch7x7x3_2_ =
      register_module("branch7x7x3_2", BasicConv2d(conv(d(192), d(192), {1, 7}, {1, 1}, {0, 3})));
  branch7x7x3_3_ =
      register_module("branch7x7x3_3", BasicConv2d(conv(d(192), d(192), {7, 1}, {1, 1}, {3, 0})));
  branch7x7x3_4_ =
      register_module("branch7x7x3_4", BasicConv2d(conv(d(192), d(192), {3, 3}, {2, 2})));
  outChannels_ = d(320) + d(192) + in;
}

torch::Tensor InceptionDImpl::forward(torch::Tensor x) {
  // x: N x 768 x 17 x 17
  auto b3 = branch3x3_2_->forward(branch3x3_1_->forward(x));  // N x 320 x 8 x 8
  auto b7 = branch7x7x3_2_->forward(branch7x7x3_1_->forward(x));
  b7 = branch7x7x3_4_->forward(branch7x7x3_3_->forward(b7));  // N x 192 x 8 x 8
  auto pool = maxPool3x3Stride2(x);                           // N x 768 x 8 x 8
  return torch::cat({b3, b7, pool}, 1);                       // N x 1280 x 8 x 8
}

InceptionEImpl::InceptionEImpl(std::int64_t in, Depth d) {
  branch1x1_ = register_module("branch1x1", BasicConv2d(conv(in, d(320), {1, 1})));
  branch3x3_1_ = register_module("branch3x3_1", BasicConv2d(conv(in, d(384), {1, 1})));
  branch3x3_2a_ =
      register_module("branch3x3_2a", BasicConv2d(conv(d(384), d(384), {1, 3}, {1, 1}, {0, 1})));
  branch3x3_2b_ =
      register_module("branch3x3_2b", BasicConv2d(conv(d(384), d(384), {3, 1}, {1, 1}, {1, 0})));
  branch3x3dbl_1_ = register_module("branch3x3dbl_1", BasicConv2d(conv(in, d(448), {1, 1})));
  branch3x3dbl_2_ =
      register_module("branch3x3dbl_2", BasicConv2d(conv(d(448), d(384), {3, 3}, {1, 1}, {1, 1})));
  branch3x3dbl_3a_ =
      register_module("branch3x3dbl_3a", BasicConv2d(conv(d(384), d(384), {1, 3}, {1, 1}, {0, 1})));
  branch3x3dbl_3b_ =
      register_module("branch3x3dbl_3b", BasicConv2d(conv(d(384), d(384), {3, 1}, {1, 1}, {1, 0})));
  branchPool_ = register_module("branch_pool", BasicConv2d(conv(in, d(192), {1, 1})));
  outChannels_ = d(320) + 4 * d(384) + d(192);
}

torch::Tensor InceptionEImpl::forward(torch::Tensor x) {
  // x: N x 1280 (7b) or 2048 (7c) x 8 x 8
  auto b1 = branch1x1_->forward(x);                                              // N x 320 x 8 x 8
  auto b3 = branch3x3_1_->forward(x);                                            // N x 384 x 8 x 8
  b3 = torch::cat({branch3x3_2a_->forward(b3), branch3x3_2b_->forward(b3)}, 1);  // N x 768
  auto bd = branch3x3dbl_2_->forward(branch3x3dbl_1_->forward(x));               // N x 384 x 8 x 8
  bd = torch::cat({branch3x3dbl_3a_->forward(bd), branch3x3dbl_3b_->forward(bd)}, 1);  // 768
  auto pool = branchPool_->forward(avgPool3x3(x));  // N x 192 x 8 x 8
  return torch::cat({b1, b3, bd, pool}, 1);         // N x 2048 x 8 x 8
}

InceptionAuxImpl::InceptionAuxImpl(std::int64_t in, std::int64_t numClasses, Depth d) {
  conv0_ = register_module("conv0", BasicConv2d(conv(in, d(128), {1, 1})));
  conv1_ = register_module("conv1", BasicConv2d(conv(d(128), d(768), {5, 5})));
  fc_ = register_module("fc", torch::nn::Linear(d(768), numClasses));
}

torch::Tensor InceptionAuxImpl::forward(torch::Tensor x) {
  // x: N x 768 x 17 x 17. torchvision pools 5x5 with stride 3; maps smaller than 17 x 17
  // (inputs below 107 x 107) are pooled adaptively to 5 x 5 instead, so conv1 always fits.
  if (x.size(2) >= 17 && x.size(3) >= 17) {
    x = F::avg_pool2d(x, F::AvgPool2dFuncOptions(5).stride(3));  // N x 768 x 5 x 5
  } else {
    x = F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions({5, 5}));  // N x 768 x 5 x 5
  }
  x = conv0_->forward(x);                                                  // N x 128 x 5 x 5
  x = conv1_->forward(x);                                                  // N x 768 x 1 x 1
  x = F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions({1, 1}));  // N x 768 x 1 x 1
  return fc_->forward(torch::flatten(x, 1));                               // N x classes
}

}  // namespace inception

std::recursive_mutex& weightInitMutex() {
  static std::recursive_mutex mutex;
  return mutex;
}

InceptionV3Impl::InceptionV3Impl(const InceptionSettings& settings, bool initialize)
    : settings_(settings) {
  core::throwIfInvalid("Inception-v3", settings_.validate());
  const std::lock_guard drawing(weightInitMutex());
  using inception::BasicConv2d;
  const inception::Depth d{settings_.depthMultiplier};
  conv2d1a_ =
      register_module("Conv2d_1a_3x3", BasicConv2d(inception::conv(3, d(32), {3, 3}, {2, 2})));
  conv2d2a_ = register_module("Conv2d_2a_3x3", BasicConv2d(inception::conv(d(32), d(32), {3, 3})));
  conv2d2b_ = register_module("Conv2d_2b_3x3",
                              BasicConv2d(inception::conv(d(32), d(64), {3, 3}, {1, 1}, {1, 1})));
  conv2d3b_ = register_module("Conv2d_3b_1x1", BasicConv2d(inception::conv(d(64), d(80), {1, 1})));
  conv2d4a_ = register_module("Conv2d_4a_3x3", BasicConv2d(inception::conv(d(80), d(192), {3, 3})));
  mixed5b_ = register_module("Mixed_5b", inception::InceptionA(d(192), 32, d));
  mixed5c_ = register_module("Mixed_5c", inception::InceptionA(mixed5b_->outChannels(), 64, d));
  mixed5d_ = register_module("Mixed_5d", inception::InceptionA(mixed5c_->outChannels(), 64, d));
  mixed6a_ = register_module("Mixed_6a", inception::InceptionB(mixed5d_->outChannels(), d));
  mixed6b_ = register_module("Mixed_6b", inception::InceptionC(mixed6a_->outChannels(), 128, d));
  mixed6c_ = register_module("Mixed_6c", inception::InceptionC(mixed6b_->outChannels(), 160, d));
  mixed6d_ = register_module("Mixed_6d", inception::InceptionC(mixed6c_->outChannels(), 160, d));
  mixed6e_ = register_module("Mixed_6e", inception::InceptionC(mixed6d_->outChannels(), 192, d));
  if (settings_.auxLogits) {
    auxLogits_ = register_module(
        "AuxLogits", inception::InceptionAux(mixed6e_->outChannels(), settings_.numClasses, d));
  }
  mixed7a_ = register_module("Mixed_7a", inception::InceptionD(mixed6e_->outChannels(), d));
  mixed7b_ = register_module("Mixed_7b", inception::InceptionE(mixed7a_->outChannels(), d));
  mixed7c_ = register_module("Mixed_7c", inception::InceptionE(mixed7b_->outChannels(), d));
  numFeatures_ = mixed7c_->outChannels();
  dropout_ = register_module("dropout", torch::nn::Dropout(settings_.dropout));
  fc_ = register_module("fc", torch::nn::Linear(numFeatures_, settings_.numClasses));
  if (initialize) {
    resetParameters();
  }
}

void InceptionV3Impl::synchronizeBatchNorm(const std::shared_ptr<ReplicaGroup>& replicas) {
  for (const auto& module : modules(/*include_self=*/false)) {
    if (auto* conv = module->as<inception::BasicConv2dImpl>()) {
      conv->synchronizeBatchNorm(replicas);
    }
  }
}

void InceptionV3Impl::useAuxHead(bool on) {
  useAux_ = on;
  if (auxLogits_) {
    for (auto& p : auxLogits_->parameters()) {
      p.set_requires_grad(on);
    }
  }
}

torch::Tensor InceptionV3Impl::dropout(const torch::Tensor& x) {
  const double p = settings_.dropout;
  if (!is_training() || p <= 0.0) {
    return x;
  }
  if (!dropoutGenerator_.defined()) {
    return dropout_->forward(x);
  }
  // torch's dropout: a Bernoulli(1 - p) mask scaled by 1 / (1 - p), from the given generator.
  auto mask = at::empty_like(x, at::MemoryFormat::Preserve);
  mask.bernoulli_(1.0 - p, dropoutGenerator_);
  return x * mask.div_(1.0 - p);
}

void InceptionV3Impl::resetParameters() {
  torch::NoGradGuard noGrad;
  for (const auto& item : named_modules(/*name_prefix=*/"", /*include_self=*/false)) {
    const auto& name = item.key();
    auto& module = item.value();
    double stddev = 0.1;
    if (name == "AuxLogits.conv1.conv") {
      stddev = 0.01;
    } else if (name == "AuxLogits.fc") {
      stddev = 0.001;
    }
    // torchvision: trunc_normal_(std=stddev, a=-2, b=2); the bounds are absolute values.
    if (auto* convModule = module->as<torch::nn::Conv2d>()) {
      convModule->weight.normal_(0.0, stddev).clamp_(-2.0, 2.0);
    } else if (auto* linear = module->as<torch::nn::Linear>()) {
      linear->weight.normal_(0.0, stddev).clamp_(-2.0, 2.0);
    } else if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
      bn->weight.fill_(1.0);
      bn->bias.zero_();
    }
  }
}

std::int64_t mixedMapSide(MixedBlock block, std::int64_t side) {
  const auto valid = [](std::int64_t s, std::int64_t kernel, std::int64_t stride) {
    return (s - kernel) / stride + 1;
  };
  side = valid(side, 3, 2);  // Conv2d_1a_3x3
  side = valid(side, 3, 1);  // Conv2d_2a_3x3 (2b keeps the size)
  side = valid(side, 3, 2);  // max pool
  side = valid(side, 3, 1);  // Conv2d_4a_3x3 (3b is 1 x 1)
  side = valid(side, 3, 2);  // max pool: Mixed_5b..5d
  if (block == MixedBlock::Mixed5d) {
    return side;
  }
  side = valid(side, 3, 2);  // Mixed_6a: 6b..6e
  if (block == MixedBlock::Mixed6e) {
    return side;
  }
  return valid(side, 3, 2);  // Mixed_7a: 7b, 7c
}

MapGeometry mixedMapGeometry(MixedBlock block) {
  // A valid 3 x 3 window with stride s puts output j over input s * j + 1; a padded one keeps j.
  // Mixed_5d's j: the last pool (2j + 1), Conv2d_4a (+ 1), the first pool (2 (...) + 1),
  // Conv2d_2a (+ 1) and Conv2d_1a (2 (...) + 1) give 8j + 13. Mixed_6a and Mixed_7a each double
  // the stride and add one step of the grid before them.
  switch (block) {
    case MixedBlock::Mixed5d:
      return {8, 13};
    case MixedBlock::Mixed6e:
      return {16, 13 + 8};
    case MixedBlock::Mixed7c:
      return {32, 21 + 16};
  }
  return {};
}

const char* mixedBlockName(MixedBlock block) {
  switch (block) {
    case MixedBlock::Mixed5d:
      return "Mixed_5d";
    case MixedBlock::Mixed6e:
      return "Mixed_6e";
    case MixedBlock::Mixed7c:
      return "Mixed_7c";
  }
  return "?";
}

torch::Tensor InceptionV3Impl::to35x35(torch::Tensor x) {
  if (x.dim() != 4 || x.size(1) != 3 || x.size(2) < kMinImageSize || x.size(3) < kMinImageSize) {
    std::ostringstream text;
    text << "Inception-v3 needs N x 3 x H x W images with H and W at least " << kMinImageSize
         << " (got " << x.sizes() << ")";
    throw core::Error(text.str());
  }
  // N x 3 x 299 x 299
  x = conv2d1a_->forward(x);            // N x 32 x 149 x 149
  x = conv2d2a_->forward(x);            // N x 32 x 147 x 147
  x = conv2d2b_->forward(x);            // N x 64 x 147 x 147
  x = inception::maxPool3x3Stride2(x);  // N x 64 x 73 x 73
  x = conv2d3b_->forward(x);            // N x 80 x 73 x 73
  x = conv2d4a_->forward(x);            // N x 192 x 71 x 71
  x = inception::maxPool3x3Stride2(x);  // N x 192 x 35 x 35
  x = mixed5b_->forward(x);             // N x 256 x 35 x 35
  x = mixed5c_->forward(x);             // N x 288 x 35 x 35
  return mixed5d_->forward(x);          // N x 288 x 35 x 35
}

torch::Tensor InceptionV3Impl::to17x17(torch::Tensor x) {
  x = mixed6a_->forward(x);     // N x 768 x 17 x 17
  x = mixed6b_->forward(x);     // N x 768 x 17 x 17
  x = mixed6c_->forward(x);     // N x 768 x 17 x 17
  x = mixed6d_->forward(x);     // N x 768 x 17 x 17
  return mixed6e_->forward(x);  // N x 768 x 17 x 17
}

torch::Tensor InceptionV3Impl::to8x8(torch::Tensor x) {
  x = mixed7a_->forward(x);     // N x 1280 x 8 x 8
  x = mixed7b_->forward(x);     // N x 2048 x 8 x 8
  return mixed7c_->forward(x);  // N x 2048 x 8 x 8
}

torch::Tensor InceptionV3Impl::mixedMap(torch::Tensor x, MixedBlock block) {
  x = to35x35(std::move(x));
  if (block == MixedBlock::Mixed5d) {
    return x;
  }
  x = to17x17(std::move(x));
  if (block == MixedBlock::Mixed6e) {
    return x;
  }
  return to8x8(std::move(x));
}

torch::Tensor InceptionV3Impl::logitsFromMixed(torch::Tensor x, MixedBlock block) {
  if (block == MixedBlock::Mixed5d) {
    x = to17x17(std::move(x));
  }
  if (block != MixedBlock::Mixed7c) {
    x = to8x8(std::move(x));
  }
  x = F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions({1, 1}));  // N x 2048 x 1 x 1
  x = dropout(x);                                                          // N x 2048 x 1 x 1
  x = torch::flatten(x, 1);                                                // N x 2048
  x = fc_->forward(x);                                                     // N x classes
  if (countedMultiplyAdds != nullptr) {
    *countedMultiplyAdds += x.numel() * fc_->weight.size(1);
  }
  return x;
}

InceptionOutput InceptionV3Impl::forward(torch::Tensor x) {
  x = to17x17(to35x35(std::move(x)));
  InceptionOutput out;
  if (auxHeadUsed() && is_training()) {
    out.aux = auxLogits_->forward(x);  // N x classes
  }
  out.logits = logitsFromMixed(to8x8(std::move(x)), MixedBlock::Mixed7c);
  return out;
}

ModelSize measureModel(InceptionV3& net) {
  ModelSize size;
  for (const auto& item : net->named_parameters()) {
    size.parameters += item.value().numel();
    if (item.key().rfind("AuxLogits.", 0) != 0) {
      size.inferenceParameters += item.value().numel();
    }
  }
  // One image through the evaluation form (no auxiliary head, batch norm untouched).
  const bool training = net->is_training();
  const auto device = net->parameters().front().device();
  net->eval();
  std::int64_t count = 0;
  {
    torch::NoGradGuard noGrad;
    const auto side = net->settings().imageSize;
    countedMultiplyAdds = &count;
    try {
      net->forward(torch::zeros({1, 3, side, side}, torch::TensorOptions().device(device)));
    } catch (...) {
      countedMultiplyAdds = nullptr;
      net->train(training);
      throw;
    }
    countedMultiplyAdds = nullptr;
  }
  net->train(training);
  size.multiplyAdds = count;
  return size;
}

ModelSize measureModel(const InceptionSettings& settings) {
  InceptionV3 net(settings, /*initialize=*/false);
  return measureModel(net);
}

}  // namespace taxon::model
