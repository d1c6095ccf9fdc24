#include "train/Optimizer.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numbers>

#include "core/Error.hpp"

namespace taxon::train {

LearningRateSchedule::LearningRateSchedule(const settings::TrainSettings& settings,
                                           double stepsPerEpoch, std::int64_t totalSteps)
    : kind_(settings.schedule),
      base_(settings.baseLearningRate()),
      decayEpochs_(settings.decayEpochs),
      decayFactor_(settings.decayFactor),
      warmupSteps_(std::min(
          settings.warmupEpochs * stepsPerEpoch,
          kMaxWarmupFraction * static_cast<double>(std::max<std::int64_t>(totalSteps, 1)))),
      stepsPerEpoch_(std::max(stepsPerEpoch, 1.0)),
      totalSteps_(totalSteps) {}

double LearningRateSchedule::at(std::int64_t step) const {
  const double s = static_cast<double>(step);
  if (s < warmupSteps_) {
    return base_ * std::min(1.0, (s + 1.0) / warmupSteps_);  // a fractional warm-up ends at base
  }
  switch (kind_) {
    case settings::ScheduleKind::kStaircase:
      return base_ * std::pow(decayFactor_, std::floor(s / stepsPerEpoch_ / decayEpochs_));
    case settings::ScheduleKind::kCosine: {
      const double span = std::max(1.0, static_cast<double>(totalSteps_) - warmupSteps_);
      const double t = std::clamp((s - warmupSteps_) / span, 0.0, 1.0);
      return base_ * 0.5 * (1.0 + std::cos(std::numbers::pi * t));
    }
    case settings::ScheduleKind::kConstant:
      return base_;
  }
  return base_;
}

Optimizer::Optimizer(NamedTensors parameters, std::vector<bool> decay,
                     const settings::TrainSettings& settings)
    : kind_(settings.optimizer),
      rmsDecay_(settings.rmsDecay),
      momentum_(settings.momentum),
      epsilon_(settings.rmsEpsilon),
      weightDecay_(settings.weightDecay) {
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    Slot slot;
    slot.name = parameters[i].first;
    slot.parameter = parameters[i].second;
    slot.decay = i < decay.size() && decay[i];
    at::NoGradGuard noGrad;
    if (kind_ == settings::OptimizerKind::kRmsProp) {
      slot.ms = at::ones_like(slot.parameter);
    }
    slot.mom = at::zeros_like(slot.parameter);
    slots_.push_back(std::move(slot));
  }
}

void Optimizer::step(double learningRate) {
  at::NoGradGuard noGrad;
  // The update of every parameter at once through ATen's _foreach_ ops (on a GPU a handful of
  // fused kernels for all tensors, not 4 to 8 launches per tensor; on the CPU the same
  // per-tensor arithmetic).
  std::vector<at::Tensor> params, grads, ms, mom;
  std::vector<at::Tensor> decayedParams;
  std::vector<std::size_t> decayedAt;  // their places in `grads`
  for (auto& slot : slots_) {
    const at::Tensor& grad = slot.parameter.grad();
    if (!grad.defined()) {
      continue;  // left alone
    }
    if (slot.decay && weightDecay_ > 0.0) {
      decayedAt.push_back(grads.size());
      decayedParams.push_back(slot.parameter);
    }
    params.push_back(slot.parameter);
    grads.push_back(grad);
    if (kind_ == settings::OptimizerKind::kRmsProp) {
      ms.push_back(slot.ms);
    }
    mom.push_back(slot.mom);
  }
  if (params.empty()) {
    return;
  }
  if (!decayedAt.empty()) {
    // g + weightDecay x w, in new tensors (the gradients themselves stay as backward left them).
    std::vector<at::Tensor> decayedGrads;
    for (const auto i : decayedAt) {
      decayedGrads.push_back(grads[i]);
    }
    auto added = at::_foreach_add(decayedGrads, decayedParams, weightDecay_);
    for (std::size_t k = 0; k < decayedAt.size(); ++k) {
      grads[decayedAt[k]] = std::move(added[k]);
    }
  }
  if (kind_ == settings::OptimizerKind::kRmsProp) {
    at::_foreach_mul_(ms, rmsDecay_);
    at::_foreach_addcmul_(ms, grads, grads, 1.0 - rmsDecay_);
    auto denominators = at::_foreach_add(ms, epsilon_);
    at::_foreach_sqrt_(denominators);
    at::_foreach_mul_(mom, momentum_);
    at::_foreach_addcdiv_(mom, grads, denominators, learningRate);
    at::_foreach_sub_(params, mom);
  } else {
    at::_foreach_mul_(mom, momentum_);
    at::_foreach_add_(mom, grads);
    at::_foreach_sub_(params, mom, learningRate);
  }
}

void Optimizer::zeroGrad() {
  for (auto& slot : slots_) {
    at::Tensor grad = slot.parameter.mutable_grad();
    if (grad.defined()) {
      grad.zero_();
    }
  }
}

NamedTensors Optimizer::state() const {
  NamedTensors out;
  for (const auto& slot : slots_) {
    if (slot.ms.defined()) {
      out.emplace_back("ms/" + slot.name, slot.ms);
    }
    out.emplace_back((kind_ == settings::OptimizerKind::kRmsProp ? "mom/" : "buf/") + slot.name,
                     slot.mom);
  }
  return out;
}

namespace {

// Copies every tensor of `into` from the one of the same name in `saved`.
void copyNamed(const NamedTensors& into, const NamedTensors& saved, const std::string& what) {
  std::map<std::string, const at::Tensor*> byName;
  for (const auto& [name, tensor] : saved) {
    byName[name] = &tensor;
  }
  at::NoGradGuard noGrad;
  for (const auto& [name, tensor] : into) {
    const auto it = byName.find(name);
    if (it == byName.end()) {
      throw core::Error("the checkpoint's " + what + " has no '" + name + "'");
    }
    if (it->second->sizes() != tensor.sizes()) {
      throw core::Error("the checkpoint's " + what + " '" + name + "' has another shape");
    }
    tensor.copy_(*it->second);
  }
}

}  // namespace

void Optimizer::loadState(const NamedTensors& saved) {
  copyNamed(state(), saved, "optimizer state");
}

WeightAverage::WeightAverage(const NamedTensors& parameters, double decay) : decay_(decay) {
  at::NoGradGuard noGrad;
  for (const auto& [name, tensor] : parameters) {
    averages_.emplace_back(name, tensor.detach().clone());
  }
}

void WeightAverage::update(const NamedTensors& parameters, std::int64_t step) {
  const double s = static_cast<double>(step);
  const double decay = std::min(decay_, (1.0 + s) / (10.0 + s));
  at::NoGradGuard noGrad;
  std::vector<at::Tensor> averages, current;
  for (std::size_t i = 0; i < averages_.size(); ++i) {
    averages.push_back(averages_[i].second);
    current.push_back(parameters[i].second.detach());
  }
  at::_foreach_lerp_(averages, current, 1.0 - decay);
}

void WeightAverage::loadState(const NamedTensors& saved) {
  copyNamed(averages_, saved, "weight average");
}

}  // namespace taxon::train
