// Inception-v3 (Szegedy et al. 2015, "Rethinking the Inception Architecture") as torchvision
// builds it: the same modules, parameter and buffer names (Conv2d_1a_3x3.conv.weight,
// Mixed_5b.branch1x1.bn.running_mean, AuxLogits.fc.weight, fc.bias, ...) and the same
// arithmetic, so torchvision's state_dicts load into it (see TorchvisionWeights.hpp) and give the
// same logits. No input transform: feed images scaled to [-1, 1] (data/InceptionPreprocess).
//
// Beyond torchvision: TF-slim's depth multiplier (every convolution's output channels become
// max(int(channels * multiplier), 16)) and inputs down to 75 x 75, for which the auxiliary head
// pools adaptively (torchvision's fixed 5x5/3 pooling fails below 107 x 107 in training mode).
//
// Batch norm: epsilon 0.001 like TF-slim and torchvision; momentum 0.1 in PyTorch's sense
// (running = 0.9 * running + 0.1 * batch), torchvision's default. TF-slim's decay 0.9997 would be
// momentum 0.0003 here.
//
// A module is used from one thread at a time (LibTorch modules are not thread-safe).
#pragma once

#include <ATen/core/Generator.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/SyncBatchNorm.hpp"

namespace taxon::model {

struct InceptionSettings {
  // Number of classes of both classifier heads (fc and AuxLogits.fc).
  std::int64_t numClasses = 1000;
  // Build the auxiliary classifier on Mixed_6e (trained with a 0.4 loss weight in the paper).
  bool auxLogits = true;
  // TF-slim's depth multiplier: each convolution gets max(int(channels * m), 16) output channels.
  double depthMultiplier = 1.0;
  // Side of the square input in pixels: 299 for the paper's model; at least 75.
  std::int64_t imageSize = 299;
  // Dropout probability before the final fully connected layer (training mode only).
  double dropout = 0.5;

  // Every problem at once, one sentence each; empty when the settings are usable.
  std::vector<std::string> validate() const;
};

// Training mode with an aux head in use: both defined. Eval mode, no aux head, or the head turned
// off (useAuxHead(false)): aux is undefined.
struct InceptionOutput {
  torch::Tensor logits;  // N x numClasses
  torch::Tensor aux;     // N x numClasses, or undefined
};

// The smallest input side the network accepts (Mixed_7a needs a 3 x 3 map).
inline constexpr std::int64_t kMinImageSize = 75;

// The last mixed block of each grid size: 35 x 35, 17 x 17 and 8 x 8 at 299 x 299.
enum class MixedBlock { Mixed5d, Mixed6e, Mixed7c };
const char* mixedBlockName(MixedBlock block);  // "Mixed_7c"
// The side of the block's map for a side x side input (8 for Mixed_7c at 299, 1 at 75).
std::int64_t mixedMapSide(MixedBlock block, std::int64_t imageSide);
// Where the block's map positions sit on the input: position j's receptive field is centred on
// input pixel stride * j + offset, along either axis. The unpadded convolutions and pools of the
// stem and of the grid reductions shift it: Mixed_7c's 8 positions at 299 are centred on pixels
// 37, 69, ..., 261, not spread over the whole side.
struct MapGeometry {
  std::int64_t stride = 1;
  std::int64_t offset = 0;
};
MapGeometry mixedMapGeometry(MixedBlock block);

namespace inception {

// TF-slim's depth(): max(int(channels * multiplier), minimum 16).
struct Depth {
  double multiplier = 1.0;
  std::int64_t operator()(std::int64_t channels) const;
};

struct ConvSpec {
  std::int64_t inChannels = 0;
  std::int64_t outChannels = 0;  // already multiplied
  std::vector<std::int64_t> kernel = {1, 1};
  std::vector<std::int64_t> stride = {1, 1};
  std::vector<std::int64_t> padding = {0, 0};
};

// conv (no bias) -> batch norm (eps 0.001) -> ReLU; torchvision's BasicConv2d.
class BasicConv2dImpl : public torch::nn::Module {
 public:
  explicit BasicConv2dImpl(const ConvSpec& spec);
  torch::Tensor forward(torch::Tensor x);
  std::int64_t outChannels() const { return outChannels_; }
  // In training mode, normalize over every replica's batch (null: this replica's batch only).
  void synchronizeBatchNorm(std::shared_ptr<ReplicaGroup> replicas) {
    replicas_ = std::move(replicas);
  }

 private:
  std::int64_t outChannels_;
  torch::nn::Conv2d conv_{nullptr};
  torch::nn::BatchNorm2d bn_{nullptr};
  std::shared_ptr<ReplicaGroup> replicas_;
};
TORCH_MODULE(BasicConv2d);

// 35 x 35 block (Mixed_5b..5d): 1x1, 5x5, double 3x3 and pooled branches.
class InceptionAImpl : public torch::nn::Module {
 public:
  InceptionAImpl(std::int64_t inChannels, std::int64_t poolFeatures, Depth depth);
  torch::Tensor forward(torch::Tensor x);
  std::int64_t outChannels() const;

 private:
  BasicConv2d branch1x1_{nullptr}, branch5x5_1_{nullptr}, branch5x5_2_{nullptr},
      branch3x3dbl_1_{nullptr}, branch3x3dbl_2_{nullptr}, branch3x3dbl_3_{nullptr},
      branchPool_{nullptr};
};
TORCH_MODULE(InceptionA);

// Grid reduction 35 -> 17 (Mixed_6a).
class InceptionBImpl : public torch::nn::Module {
 public:
  InceptionBImpl(std::int64_t inChannels, Depth depth);
  torch::Tensor forward(torch::Tensor x);
  std::int64_t outChannels() const { return outChannels_; }

 private:
  std::int64_t outChannels_;
  BasicConv2d branch3x3_{nullptr}, branch3x3dbl_1_{nullptr}, branch3x3dbl_2_{nullptr},
      branch3x3dbl_3_{nullptr};
};
TORCH_MODULE(InceptionB);

// 17 x 17 block with factorized 7x7 convolutions (Mixed_6b..6e).
class InceptionCImpl : public torch::nn::Module {
 public:
  InceptionCImpl(std::int64_t inChannels, std::int64_t channels7x7, Depth depth);
  torch::Tensor forward(torch::Tensor x);
  std::int64_t outChannels() const { return outChannels_; }

 private:
  std::int64_t outChannels_;
  BasicConv2d branch1x1_{nullptr}, branch7x7_1_{nullptr}, branch7x7_2_{nullptr},
      branch7x7_3_{nullptr}, branch7x7dbl_1_{nullptr}, branch7x7dbl_2_{nullptr},
      branch7x7dbl_3_{nullptr}, branch7x7dbl_4_{nullptr}, branch7x7dbl_5_{nullptr},
      branchPool_{nullptr};
};
TORCH_MODULE(InceptionC);

// Grid reduction 17 -> 8 (Mixed_7a).
class InceptionDImpl : public torch::nn::Module {
 public:
  InceptionDImpl(std::int64_t inChannels, Depth depth);
  torch::Tensor forward(torch::Tensor x);
  std::int64_t outChannels() const { return outChannels_; }

 private:
  std::int64_t outChannels_;
  BasicConv2d branch3x3_1_{nullptr}, branch3x3_2_{nullptr}, branch7x7x3_1_{nullptr},
      branch7x7x3_2_{nullptr}, branch7x7x3_3_{nullptr}, branch7x7x3_4_{nullptr};
};
TORCH_MODULE(InceptionD);

// 8 x 8 block with expanded filter banks (Mixed_7b, 7c).
class InceptionEImpl : public torch::nn::Module {
 public:
  InceptionEImpl(std::int64_t inChannels, Depth depth);
  torch::Tensor forward(torch::Tensor x);
  std::int64_t outChannels() const { return outChannels_; }

 private:
  std::int64_t outChannels_;
  BasicConv2d branch1x1_{nullptr}, branch3x3_1_{nullptr}, branch3x3_2a_{nullptr},
      branch3x3_2b_{nullptr}, branch3x3dbl_1_{nullptr}, branch3x3dbl_2_{nullptr},
      branch3x3dbl_3a_{nullptr}, branch3x3dbl_3b_{nullptr}, branchPool_{nullptr};
};
TORCH_MODULE(InceptionE);

// Auxiliary classifier on the 17 x 17 map (AuxLogits).
class InceptionAuxImpl : public torch::nn::Module {
 public:
  InceptionAuxImpl(std::int64_t inChannels, std::int64_t numClasses, Depth depth);
  torch::Tensor forward(torch::Tensor x);

 private:
  BasicConv2d conv0_{nullptr}, conv1_{nullptr};
  torch::nn::Linear fc_{nullptr};
};
TORCH_MODULE(InceptionAux);

}  // namespace inception

class InceptionV3Impl : public torch::nn::Module {
 public:
  // Throws core::Error when the settings are invalid. Weights are initialized as torchvision's
  // init_weights=True does (see resetParameters), unless `initialize` is false: for a network whose
  // every weight is about to be loaded, where drawing them first would be wasted time.
  explicit InceptionV3Impl(const InceptionSettings& settings = {}, bool initialize = true);

  // x: float N x 3 x H x W, H and W at least 75 (299 for the paper's model).
  InceptionOutput forward(torch::Tensor x);

  // forward() in two halves, for the evaluation form (no auxiliary head, no dropout in eval
  // mode): the map after `block` (N x channels x h x w; Mixed_7c's is 8 x 8 at 299 x 299: what
  // Grad-CAM explains), and the logits the rest of the network computes from such a map.
  torch::Tensor mixedMap(torch::Tensor x, MixedBlock block);
  torch::Tensor logitsFromMixed(torch::Tensor map, MixedBlock block);

  // torchvision's initialization: convolution and linear weights from a normal distribution
  // truncated to [-2, 2] with standard deviation 0.1 (AuxLogits.conv1: 0.01, AuxLogits.fc:
  // 0.001), batch norm weight 1 and bias 0, linear biases as PyTorch's default.
  void resetParameters();

  // Data-parallel training: every batch norm of the network (the auxiliary head's included)
  // normalizes over all replicas' batches in training mode (see SyncBatchNorm.hpp); null turns it
  // back to each replica's own batch.
  void synchronizeBatchNorm(const std::shared_ptr<ReplicaGroup>& replicas);

  // Whether training-mode forward passes compute the auxiliary head (default: when it exists). A
  // run whose loss gives the head no weight turns it off: its parameters then take no part in the
  // step (no gradient, nothing for the replicas to average) and keep their values.
  void useAuxHead(bool on);
  bool auxHeadUsed() const { return auxLogits_ && useAux_; }

  // Dropout draws its masks from `generator` (a data-parallel replica's own, so that replica
  // threads of one process do not share the global generator and a run can save and restore each
  // one); undefined: the global default generator, as torch's dropout.
  void setDropoutGenerator(const at::Generator& generator) { dropoutGenerator_ = generator; }

  const InceptionSettings& settings() const { return settings_; }
  // Channels of the pooled features the classifier sees (2048 at multiplier 1).
  std::int64_t numFeatures() const { return numFeatures_; }

 private:
  torch::Tensor dropout(const torch::Tensor& x);
  // The network in stages: the stem through Mixed_5d, Mixed_6a through 6e, Mixed_7a through 7c.
  torch::Tensor to35x35(torch::Tensor x);
  torch::Tensor to17x17(torch::Tensor x);
  torch::Tensor to8x8(torch::Tensor x);

  InceptionSettings settings_;
  std::int64_t numFeatures_ = 0;
  inception::BasicConv2d conv2d1a_{nullptr}, conv2d2a_{nullptr}, conv2d2b_{nullptr},
      conv2d3b_{nullptr}, conv2d4a_{nullptr};
  inception::InceptionA mixed5b_{nullptr}, mixed5c_{nullptr}, mixed5d_{nullptr};
  inception::InceptionB mixed6a_{nullptr};
  inception::InceptionC mixed6b_{nullptr}, mixed6c_{nullptr}, mixed6d_{nullptr}, mixed6e_{nullptr};
  inception::InceptionAux auxLogits_{nullptr};
  inception::InceptionD mixed7a_{nullptr};
  inception::InceptionE mixed7b_{nullptr}, mixed7c_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
  torch::nn::Linear fc_{nullptr};
  bool useAux_ = true;
  at::Generator dropoutGenerator_;
};
TORCH_MODULE(InceptionV3);

}  // namespace taxon::model
