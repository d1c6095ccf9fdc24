#include "model/SyncBatchNorm.hpp"

#include <torch/autograd.h>
#include <torch/torch.h>

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

class SyncBatchNormFunction : public torch::autograd::Function<SyncBatchNormFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, const torch::Tensor& bias,
                               torch::nn::BatchNorm2dImpl* bn, ReplicaSum* replicas) {
    // Statistics in float32 at least (x may be bf16 under autocast; double stays double), in two
    // passes over the replicas: the mean, then the squared deviations from it (the one-pass
    // E[x^2] - E[x]^2 loses the variance to rounding when a channel's mean is large against its
    // spread).
    const auto compute = computeType(x);
    const auto xf = x.to(compute);
    const auto c = x.size(1);
    // Sums accumulate in double, as PyTorch's CPU batch norm does.
    const auto wide = xf.options().dtype(torch::kDouble);
    auto first = torch::cat({xf.sum({0, 2, 3}, false, torch::kDouble),
                             torch::full({1}, static_cast<double>(x.numel() / c), wide)});
    replicas->sum(first);
    const auto count = first[c];
    const auto mean = (first.slice(0, 0, c) / count).to(compute);
    const auto centred = xf - channels(mean);
    auto squares = centred.square().sum({0, 2, 3}, false, torch::kDouble);
    replicas->sum(squares);
    const auto var = (squares / count).to(compute);
    const auto eps = bn->options.eps();
    const auto invstd = (var + eps).rsqrt();
    {
      torch::NoGradGuard noGrad;
      // Unbiased, as PyTorch keeps it; computed on the device (no synchronization).
      const double momentum = bn->options.momentum().value_or(0.1);
      const auto unbiased = var * (count / (count - 1.0).clamp_min(1.0)).to(compute);
      auto& runningMean = bn->running_mean;
      auto& runningVar = bn->running_var;
      runningMean.mul_(1.0 - momentum).add_(mean.to(runningMean.dtype()), momentum);
      runningVar.mul_(1.0 - momentum).add_(unbiased.to(runningVar.dtype()), momentum);
      bn->num_batches_tracked.add_(1);
    }
    const auto xhat = centred * channels(invstd);
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
    auto* replicas = reinterpret_cast<ReplicaSum*>(ctx->saved_data["replicas"].toInt());
    const auto compute = computeType(gradOutputs[0]);
    const auto dy = gradOutputs[0].to(compute);
    const auto c = xhat.size(1);
    const auto sumDy = dy.sum({0, 2, 3}, false, torch::kDouble);
    const auto sumDyXhat = (dy * xhat).sum({0, 2, 3}, false, torch::kDouble);
    // The parameters' gradients are this replica's share; the gradient averaging adds the others.
    const auto gradWeight = sumDyXhat.to(weight.scalar_type());
    const auto gradBias = sumDy.to(weight.scalar_type());
    auto global = torch::cat({sumDy, sumDyXhat});
    replicas->sum(global);
    const auto meanDy = (global.slice(0, 0, c) / count).to(compute);
    const auto meanDyXhat = (global.slice(0, c, 2 * c) / count).to(compute);
    const auto gradX = (dy - channels(meanDy) - xhat * channels(meanDyXhat)) *
                       channels(invstd * weight.to(compute));
    return {gradX.to(gradOutputs[0].scalar_type()), gradWeight, gradBias, torch::Tensor(),
            torch::Tensor()};
  }
};

}  // namespace

torch::Tensor syncBatchNorm(const torch::Tensor& x, torch::nn::BatchNorm2dImpl& bn,
                            const std::shared_ptr<ReplicaSum>& replicas) {
  return SyncBatchNormFunction::apply(x, bn.weight, bn.bias, &bn, replicas.get());
}

}  // namespace taxon::model
