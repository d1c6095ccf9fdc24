#include "model/SyncBatchNorm.hpp"

#include <torch/autograd.h>
#include <torch/torch.h>

#include <barrier>

namespace taxon::model {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Per-channel view for broadcasting over N x C x H x W.
torch::Tensor channels(const torch::Tensor& t) {
  return t.view({1, -1, 1, 1});
}

// float32, or double for double inputs.
torch::ScalarType computeType(const torch::Tensor& x) {
  return at::promote_types(x.scalar_type(), torch::kFloat);
}

ReplicaGroup* groupOf(AutogradContext* ctx) {
  return reinterpret_cast<ReplicaGroup*>(ctx->saved_data["replicas"].toInt());
}

// Everywhere: tensor operations, sums in double.
class PortableFunction : public torch::autograd::Function<PortableFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, const torch::Tensor& bias,
                               torch::nn::BatchNorm2dImpl* bn, ReplicaGroup* replicas) {
    // In float32 at least (x may be bf16 under autocast; double stays double). Each replica's
    // mean and sum of squared deviations from it (two passes: the one-pass E[x^2] - E[x]^2 loses
    // the variance to rounding when a channel's mean is large against its spread), combined over
    // the replicas from one all-gather.
    const auto compute = computeType(x);
    const auto xf = x.to(compute);
    const auto c = x.size(1);
    const auto n = static_cast<double>(x.numel() / c);
    const auto localMean = xf.sum({0, 2, 3}, false, torch::kDouble) / n;
    const auto localM2 =
        (xf - channels(localMean.to(compute))).square().sum({0, 2, 3}, false, torch::kDouble);
    const auto wide = localMean.options();
    const auto all = replicas->gather(torch::cat({localMean, localM2, torch::full({1}, n, wide)}));
    const auto counts = all.select(1, 2 * c).unsqueeze(1);  // R x 1
    const auto means = all.slice(1, 0, c);                  // R x C
    const auto count = counts.sum();
    const auto mean = (means * counts).sum(0) / count;
    const auto m2 = all.slice(1, c, 2 * c).sum(0) + (counts * (means - mean).square()).sum(0);
    const auto var = (m2 / count).to(compute);
    const auto eps = bn->options.eps();
    const auto invstd = (var + eps).rsqrt();
    {
      torch::NoGradGuard noGrad;
      // Unbiased, as PyTorch keeps it; computed on the device (no synchronization).
      const double momentum = bn->options.momentum().value_or(0.1);
      const auto unbiased = m2 / (count - 1.0).clamp_min(1.0);
      auto& runningMean = bn->running_mean;
      auto& runningVar = bn->running_var;
      runningMean.mul_(1.0 - momentum).add_(mean.to(runningMean.dtype()), momentum);
      runningVar.mul_(1.0 - momentum).add_(unbiased.to(runningVar.dtype()), momentum);
      bn->num_batches_tracked.add_(1);
    }
    const auto xhat = (xf - channels(mean.to(compute))) * channels(invstd);
    ctx->save_for_backward({xhat, invstd, weight, count});
    ctx->saved_data["replicas"] = reinterpret_cast<std::int64_t>(replicas);
    return (xhat * channels(weight.to(compute)) + channels(bias.to(compute))).to(x.scalar_type());
  }

  static variable_list backward(AutogradContext* ctx, variable_list gradOutputs) {
    const auto saved = ctx->get_saved_variables();
    const auto& xhat = saved[0];
    const auto& invstd = saved[1];
    const auto& weight = saved[2];
    const auto& count = saved[3];
    const auto compute = computeType(gradOutputs[0]);
    const auto dy = gradOutputs[0].to(compute);
    const auto c = xhat.size(1);
    const auto sumDy = dy.sum({0, 2, 3}, false, torch::kDouble);
    const auto sumDyXhat = (dy * xhat).sum({0, 2, 3}, false, torch::kDouble);
    // The parameters' gradients are this replica's share; the gradient averaging adds the others.
    const auto gradWeight = sumDyXhat.to(weight.scalar_type());
    const auto gradBias = sumDy.to(weight.scalar_type());
    auto global = torch::cat({sumDy, sumDyXhat});
    groupOf(ctx)->sum(global);
    const auto meanDy = (global.slice(0, 0, c) / count).to(compute);
    const auto meanDyXhat = (global.slice(0, c, 2 * c) / count).to(compute);
    const auto gradX = (dy - channels(meanDy) - xhat * channels(meanDyXhat)) *
                       channels(invstd * weight.to(compute));
    return {gradX.to(gradOutputs[0].scalar_type()), gradWeight, gradBias, torch::Tensor(),
            torch::Tensor()};
  }
};

// CUDA: ATen's fused synchronized-batch-norm kernels (statistics in float32; the input keeps its
// type and memory format).
class FusedFunction : public torch::autograd::Function<FusedFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, const torch::Tensor& bias,
                               torch::nn::BatchNorm2dImpl* bn, ReplicaGroup* replicas) {
    const auto input = x.contiguous(x.suggest_memory_format());
    const auto c = input.size(1);
    const double eps = bn->options.eps();
    const double momentum = bn->options.momentum().value_or(0.1);
    const auto [localMean, localInvstd] = at::batch_norm_stats(input, eps);
    const auto count =
        torch::full({1}, static_cast<double>(input.numel() / c), localMean.options());
    const auto all = replicas->gather(torch::cat({localMean, localInvstd, count}));  // R x 2C+1
    const auto counts = all.select(1, 2 * c).contiguous();
    // Global statistics, and the running ones updated (unbiased), in one kernel.
    const auto [mean, invstd] = at::batch_norm_gather_stats_with_counts(
        input, all.slice(1, 0, c).contiguous(), all.slice(1, c, 2 * c).contiguous(),
        bn->running_mean, bn->running_var, momentum, eps, counts);
    {
      torch::NoGradGuard noGrad;
      bn->num_batches_tracked.add_(1);
    }
    ctx->save_for_backward({input, weight, mean, invstd, counts.to(torch::kInt)});
    ctx->saved_data["replicas"] = reinterpret_cast<std::int64_t>(replicas);
    return at::batch_norm_elemt(input, weight, bias, mean, invstd, eps);
  }

  static variable_list backward(AutogradContext* ctx, variable_list gradOutputs) {
    const auto saved = ctx->get_saved_variables();
    const auto& input = saved[0];
    const auto& weight = saved[1];
    const auto& mean = saved[2];
    const auto& invstd = saved[3];
    const auto& counts = saved[4];
    const auto dy = gradOutputs[0].contiguous(input.suggest_memory_format());
    const auto c = input.size(1);
    // Per-channel sums of dy and dy x (x - mean) of this replica, and its parameter gradients
    // (its share; the gradient averaging adds the others').
    auto [sumDy, sumDyXmu, gradWeight, gradBias] =
        at::batch_norm_backward_reduce(dy, input, mean, invstd, weight, true, true, true);
    auto global = torch::cat({sumDy, sumDyXmu});
    groupOf(ctx)->sum(global);
    const auto gradX = at::batch_norm_backward_elemt(
        dy, input, mean, invstd, weight, global.slice(0, 0, c), global.slice(0, c, 2 * c), counts);
    return {gradX, gradWeight, gradBias, torch::Tensor(), torch::Tensor()};
  }
};

// Threads of one process: each puts its tensor in its slot, all read all slots, and a second
// barrier keeps the next round's writes from overtaking a slow reader.
class InProcessGroup : public ReplicaGroup {
 public:
  struct Shared {
    explicit Shared(int count) : slots(static_cast<std::size_t>(count)), barrier(count) {}
    std::vector<torch::Tensor> slots;
    std::barrier<> barrier;
  };
  InProcessGroup(std::shared_ptr<Shared> shared, int rank)
      : shared_(std::move(shared)), rank_(rank) {}

  torch::Tensor gather(const torch::Tensor& tensor) override {
    shared_->slots[static_cast<std::size_t>(rank_)] = tensor;
    shared_->barrier.arrive_and_wait();
    auto all = torch::stack(shared_->slots);
    shared_->barrier.arrive_and_wait();
    return all;
  }
  void sum(torch::Tensor& tensor) override { tensor.copy_(gather(tensor).sum(0)); }

 private:
  std::shared_ptr<Shared> shared_;
  int rank_;
};

}  // namespace

std::vector<std::shared_ptr<ReplicaGroup>> inProcessReplicas(int count) {
  const auto shared = std::make_shared<InProcessGroup::Shared>(count);
  std::vector<std::shared_ptr<ReplicaGroup>> groups;
  for (int r = 0; r < count; ++r) {
    groups.push_back(std::make_shared<InProcessGroup>(shared, r));
  }
  return groups;
}

torch::Tensor syncBatchNorm(const torch::Tensor& x, torch::nn::BatchNorm2dImpl& bn,
                            const std::shared_ptr<ReplicaGroup>& replicas,
                            SyncBatchNormKernels kernels) {
  if (x.is_cuda() && kernels == SyncBatchNormKernels::kAuto) {
    return FusedFunction::apply(x, bn.weight, bn.bias, &bn, replicas.get());
  }
  return PortableFunction::apply(x, bn.weight, bn.bias, &bn, replicas.get());
}

}  // namespace taxon::model
