// Batch norm with statistics over every data-parallel replica's batch (torch.nn.SyncBatchNorm's
// arithmetic): N replicas with batches of B normalize exactly as one replica with the combined
// batch of N x B. Per layer and step: one all-gather of each replica's per-channel mean, spread
// and count in the forward pass, one all-reduce of the two per-channel sums the input gradient
// needs in the backward pass. No c10d here: the replicas are reached through ReplicaGroup, which
// the trainer implements on its process group.
//
// Two implementations of the same arithmetic:
//   - on CUDA, ATen's fused kernels, as torch's SyncBatchNorm: batch_norm_stats,
//     batch_norm_gather_stats_with_counts, batch_norm_elemt, batch_norm_backward_reduce and
//     batch_norm_backward_elemt (statistics in float32 whatever the input's type, no float32
//     copy of the input);
//   - everywhere (the only one on the CPU, where ATen has no such kernels): tensor operations,
//     with sums accumulated in double and the replicas' spreads combined exactly (Chan et al.:
//     M2 = sum of the replicas' M2 + sum of n_r (mean_r - mean)^2), never as E[x^2] - E[x]^2.
#pragma once

#include <torch/nn/modules/batchnorm.h>

#include <memory>
#include <vector>

namespace taxon::model {

// The collectives of the replicas; every replica makes the same calls in the same order.
class ReplicaGroup {
 public:
  virtual ~ReplicaGroup() = default;
  // Sums a tensor over the replicas, in place.
  virtual void sum(torch::Tensor& tensor) = 0;
  // Every replica's `tensor` (same shape everywhere), stacked in rank order: R x tensor's shape.
  virtual torch::Tensor gather(const torch::Tensor& tensor) = 0;
};

// Replicas that are threads of one process, meeting in memory (no process group): for tests and
// benchmarks. Element r is rank r's; each must be used by its own thread.
std::vector<std::shared_ptr<ReplicaGroup>> inProcessReplicas(int count);

enum class SyncBatchNormKernels {
  kAuto,      // ATen's fused kernels on CUDA, the portable operations elsewhere
  kPortable,  // the portable operations on every device (to compare the two)
};

// Training mode only: x is N x C x H x W; `bn` supplies weight, bias, eps and momentum and gets
// its running statistics updated from the global batch (unbiased variance, as PyTorch). The
// result equals bn->forward(x) on the concatenation of all replicas' x. `replicas` must live until
// the backward pass is done (the backward pass sums through it too).
torch::Tensor syncBatchNorm(const torch::Tensor& x, torch::nn::BatchNorm2dImpl& bn,
                            const std::shared_ptr<ReplicaGroup>& replicas,
                            SyncBatchNormKernels kernels = SyncBatchNormKernels::kAuto);

}  // namespace taxon::model
