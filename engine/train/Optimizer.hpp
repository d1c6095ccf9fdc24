// The update rules of a training step: the learning-rate schedule, the optimizers (RMSProp with
// TensorFlow's semantics, SGD with momentum), L2 weight decay and the moving average of the
// weights that evaluation and classification use. Written on plain tensors so that their state is
// a list of named tensors a checkpoint can hold and a resumed run can continue exactly.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "checkpoint/StateDict.hpp"
#include "settings/TrainSettings.hpp"

namespace taxon::train {

using checkpoint::NamedTensors;
using settings::TrainSettings;

// The learning rate at a step: linear warm-up from 0 over warmupEpochs, but never over more than
// kMaxWarmupFraction of the run (a one-epoch warm-up would otherwise fill a one-epoch run, whose
// rate would rise to its peak at the last step), then the schedule (staircase: base x
// decayFactor^floor(epoch / decayEpochs); cosine: base x (1 + cos(pi t)) / 2 with t the fraction
// of the post-warm-up run done, so that the rate decays to 0 at the run's end whatever its
// length; constant: base). The run's length is its total step count, whether given in steps or
// epochs; a resumed run with the same length gets the same rates.
inline constexpr double kMaxWarmupFraction = 0.1;

class LearningRateSchedule {
 public:
  // stepsPerEpoch: optimizer steps in one epoch; totalSteps: the run's length (for cosine).
  LearningRateSchedule(const settings::TrainSettings& settings, double stepsPerEpoch,
                       std::int64_t totalSteps);
  double at(std::int64_t step) const;

 private:
  settings::ScheduleKind kind_;
  double base_, decayEpochs_, decayFactor_, warmupSteps_, stepsPerEpoch_;
  std::int64_t totalSteps_;
};

// One optimizer over a list of parameters. Weight decay adds weightDecay x w to the gradient of
// the parameters marked for it (TF-slim's l2_regularizer(wd) on the loss has that gradient).
//   RMSProp (TensorFlow's RMSPropOptimizer, not PyTorch's): ms starts at 1;
//     ms = decay ms + (1 - decay) g^2;  mom = momentum mom + lr g / sqrt(ms + epsilon);  w -= mom.
//   SGD: buf = momentum buf + g;  w -= lr buf (PyTorch's SGD, dampening 0).
class Optimizer {
 public:
  Optimizer(NamedTensors parameters, std::vector<bool> decay,
            const settings::TrainSettings& settings);
  // Applies one update from the parameters' .grad() (a parameter without one is left alone).
  void step(double learningRate);
  void zeroGrad();
  // Slot tensors by name ("ms/NAME", "mom/NAME", "buf/NAME"), sharing memory with the optimizer.
  NamedTensors state() const;
  // Copies saved slots in; throws core::Error for a missing or mis-shaped one.
  void loadState(const NamedTensors& saved);

 private:
  struct Slot {
    std::string name;
    at::Tensor parameter, ms, mom;  // SGD keeps its buffer in mom
    bool decay = false;
  };
  settings::OptimizerKind kind_;
  double rmsDecay_, momentum_, epsilon_, weightDecay_;
  std::vector<Slot> slots_;
};

// Exponential moving average of the parameters; buffers (batch-norm statistics, which are
// averages already) are copied as they are. decay at step s: min(emaDecay, (1 + s) / (10 + s)).
class WeightAverage {
 public:
  WeightAverage(const NamedTensors& parameters, double decay);
  void update(const NamedTensors& parameters, std::int64_t step);
  const NamedTensors& averages() const { return averages_; }
  void loadState(const NamedTensors& saved);

 private:
  double decay_;
  NamedTensors averages_;
};

}  // namespace taxon::train
