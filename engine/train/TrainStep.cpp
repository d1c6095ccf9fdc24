#include "train/TrainStep.hpp"

#include <torch/torch.h>

#include <ATen/DeviceAccelerator.h>
#include <c10/core/Event.h>

#include <algorithm>

#include "train/StepPrecision.hpp"

namespace taxon::train {

namespace F = torch::nn::functional;

void setBatchNormDecay(torch::nn::Module& module, double decay) {
  for (const auto& child : module.modules()) {
    if (auto* bn = child->as<torch::nn::BatchNorm2dImpl>()) {
      bn->options.momentum(1.0 - decay);
    }
  }
}

// A step's figures on their way to the host: the copy and, on a GPU, the event after it.
struct TrainStep::Pending {
  at::Tensor host;  // 5 doubles (pinned memory when the step ran on a GPU)
  std::optional<c10::Event> copied;
};

TrainStep::TrainStep(model::InceptionV3 net, Optimizer& optimizer, WeightAverage* average,
                     NamedTensors parameters, const std::vector<bool>& decay,
                     const StepOptions& options)
    : net_(std::move(net)),
      optimizer_(optimizer),
      average_(average),
      parameters_(std::move(parameters)),
      options_(options) {
  for (std::size_t i = 0; i < parameters_.size() && i < decay.size(); ++i) {
    if (decay[i]) {
      decayed_.push_back(parameters_[i].second);
    }
  }
}

TrainStep::~TrainStep() = default;

StepLoss TrainStep::lossOf(const model::InceptionOutput& output, const at::Tensor& target,
                           const StepOptions& options, const at::Tensor& teacherLogits) {
  const auto lossOptions = F::CrossEntropyFuncOptions().label_smoothing(options.labelSmoothing);
  StepLoss out;
  const auto logits = output.logits.to(torch::kFloat);
  out.loss = F::cross_entropy(logits, target, lossOptions);
  out.crossEntropy = out.loss.detach();
  if (teacherLogits.defined()) {
    // KL(p || q) per image, averaged over the batch; T^2 keeps the soft term's gradients at the
    // scale of the hard term's whatever the temperature (Hinton et al. 2015, section 2).
    const double t = options.temperature;
    const auto studentLog = F::log_softmax(logits / t, 1);
    const auto teacherLog = F::log_softmax(teacherLogits.to(torch::kFloat) / t, 1);
    const auto kl = F::kl_div(studentLog, teacherLog,
                              F::KLDivFuncOptions().reduction(torch::kBatchMean).log_target(true));
    const auto distill = kl * (t * t);
    out.distill = distill.detach();
    out.loss = (1.0 - options.distillWeight) * out.loss + options.distillWeight * distill;
  }
  if (output.aux.defined() && options.auxWeight > 0.0) {
    out.loss = out.loss + options.auxWeight *
                              F::cross_entropy(output.aux.to(torch::kFloat), target, lossOptions);
  }
  return out;
}

void TrainStep::run(const at::Tensor& images, const at::Tensor& target, double learningRate,
                    std::int64_t step, const StepHooks& hooks, const at::Tensor& teacherLogits) {
  const auto collective = [&](const std::function<void()>& part) {
    if (hooks.collective) {
      hooks.collective(part);
    } else {
      part();
    }
  };
  // Batch-norm statistics start from the initial (0, 1), which says nothing about the network's
  // activations; like the weight average, their decay is capped by (1 + step) / (10 + step) so
  // that the first batches replace them instead of taking 1 / (1 - decay) steps to wash out.
  const auto s = static_cast<double>(step);
  setBatchNormDecay(*net_, std::min(options_.batchNormDecay, (1.0 + s) / (10.0 + s)));
  if (hooks.beforeForward) {
    collective(hooks.beforeForward);  // the averager's bucket rebuild broadcasts
  }
  model::InceptionOutput output;
  torch::Tensor loss;
  torch::Tensor crossEntropy;
  torch::Tensor distill;
  {
    const Autocast autocast(images.device().type(), options_.bf16);
    collective([&] { output = net_->forward(images); });
    auto computed = lossOf(output, target, options_, teacherLogits);
    loss = std::move(computed.loss);
    crossEntropy = std::move(computed.crossEntropy);
    distill = computed.distill.defined() ? std::move(computed.distill) : torch::zeros_like(loss);
  }
  optimizer_.zeroGrad();
  collective([&] { loss.backward(); });
  if (hooks.afterBackward) {
    hooks.afterBackward();
  }

  // The figures, on the device. The logged loss includes the weight-decay term (which the update
  // applies itself), from the weights before the update: one fused kernel for all the norms.
  auto pending = std::make_unique<Pending>();
  {
    torch::NoGradGuard noGrad;
    torch::Tensor total = loss.detach().to(torch::kDouble);
    if (options_.weightDecay > 0.0 && !decayed_.empty()) {
      const auto norms = at::_foreach_norm(decayed_, 2);
      total =
          total + 0.5 * options_.weightDecay * at::stack(norms).to(torch::kDouble).square().sum();
    }
    const auto k = std::min<std::int64_t>(5, options_.numClasses);
    const auto top = std::get<1>(output.logits.detach().topk(k, 1));
    const auto hits = top.eq(target.unsqueeze(1));
    const auto figures = torch::stack(
        {total, crossEntropy.to(torch::kDouble), hits.select(1, 0).to(torch::kDouble).mean(),
         hits.any(1).to(torch::kDouble).mean(), distill.to(torch::kDouble)});
    if (figures.is_cpu()) {
      pending->host = figures;
    } else {
      pending->host = at::empty({5}, at::TensorOptions().dtype(at::kDouble).pinned_memory(true));
      pending->host.copy_(figures, /*non_blocking=*/true);
      pending->copied.emplace(figures.device().type());
      pending->copied->record(at::accelerator::getCurrentStream(figures.device().index()));
    }
  }
  pending_.push_back(std::move(pending));

  optimizer_.step(learningRate);
  if (average_ != nullptr) {
    average_->update(parameters_, step);
  }
}

std::optional<StepFigures> TrainStep::takeFigures() {
  if (pending_.empty()) {
    return std::nullopt;
  }
  const auto pending = std::move(pending_.front());
  pending_.pop_front();
  if (pending->copied) {
    pending->copied->synchronize();
  }
  const auto* values = pending->host.data_ptr<double>();
  return StepFigures{values[0], values[1], values[2], values[3], values[4]};
}

}  // namespace taxon::train
