// Batch norm with statistics over every data-parallel replica's batch (torch.nn.SyncBatchNorm's
// arithmetic): the forward pass all-reduces each channel's sum, sum of squares and count, so that
// N replicas with batches of B normalize exactly as one replica with the combined batch of N x B;
// the backward pass all-reduces the two per-channel sums the input gradient needs. No c10d here:
// the replicas are reached through ReplicaSum, which the trainer implements on its process group.
#pragma once

#include <torch/nn/modules/batchnorm.h>

#include <memory>

namespace taxon::model {

// Sums a tensor over the replicas, in place; the same call happens on every replica, in the same
// order.
class ReplicaSum {
 public:
  virtual ~ReplicaSum() = default;
  virtual void sum(torch::Tensor& tensor) = 0;
};

// Training mode only: x is N x C x H x W; `bn` supplies weight, bias, eps and momentum and gets
// its running statistics updated from the global batch (unbiased variance, as PyTorch). The
// result equals bn->forward(x) on the concatenation of all replicas' x. `replicas` must live until
// the backward pass is done (the backward pass sums through it too).
torch::Tensor syncBatchNorm(const torch::Tensor& x, torch::nn::BatchNorm2dImpl& bn,
                            const std::shared_ptr<ReplicaSum>& replicas);

}  // namespace taxon::model
