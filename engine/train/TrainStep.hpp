// One training step of the trainer, as a unit that bench/gpu times too: batch-norm decay for the
// step, forward pass (bf16 autocast when asked), the loss of both heads, backward pass,
// the step's figures (total loss with the L2 term, cross-entropy, batch precision@1 and recall@5)
// computed on the device, the optimizer's update and the weight average's.
//
// No host synchronisation inside a step: the figures go to the host through a non-blocking copy
// into pinned memory and an event, and are read (takeFigures) after the next step has been
// launched, so the CPU never waits for the GPU between the backward pass and the update. The
// price: a non-finite loss is seen one step late, after its update; the trainer therefore reads
// every outstanding step's figures before it saves, evaluates or ends (see Trainer.cpp). On the
// CPU the figures are ready when run() returns.
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "model/InceptionV3.hpp"
#include "train/Optimizer.hpp"

namespace taxon::train {

struct StepOptions {
  double auxWeight = 0.4;  // the auxiliary head's loss weight (0: the head is not computed)
  double labelSmoothing = 0.1;
  double weightDecay = 4e-5;       // for the logged L2 term (the optimizer applies its gradient)
  double batchNormDecay = 0.9997;  // capped early in a run, see run()
  bool bf16 = false;               // autocast to bfloat16 (on the images' device)
  std::int64_t numClasses = 1000;
  // Distillation (with a teacher's logits): (1 - distillWeight) x the labels' cross-entropy +
  // distillWeight x temperature^2 x KL(softmax(teacher / T) || softmax(student / T)).
  double temperature = 4.0;
  double distillWeight = 0.9;
};

// Calls the trainer wraps around parts of a step.
struct StepHooks {
  std::function<void()> beforeForward;  // the gradient averager's preparation (a collective)
  // Runs a part that takes part in collectives (forward and backward with synchronized batch
  // norm and gradient averaging), so that the trainer can name a lost replica. Null: call it.
  std::function<void(const std::function<void()>&)> collective;
  std::function<void()> afterBackward;  // staging the next batch while the GPU computes
};

// The figures of one step, in this order.
struct StepFigures {
  double loss = 0.0;  // the optimized loss + 0.5 x weight decay x sum of squares
  double crossEntropy = 0.0;
  double precisionAt1 = 0.0;
  double recallAt5 = 0.0;
  double distill = 0.0;  // temperature^2 x KL to the teacher (0 without one)
};

// The loss of a forward pass, as a step computes it.
struct StepLoss {
  // Cross-entropy of the main head (with a teacher: mixed with the distillation term, see
  // StepOptions) + auxWeight x the auxiliary head's cross-entropy.
  at::Tensor loss;
  at::Tensor crossEntropy;  // of the main head on the labels, detached
  at::Tensor distill;       // temperature^2 x KL to the teacher, detached; undefined without one
};

class TrainStep {
 public:
  // The loss of `output` against `target` (int64 class indices), with label smoothing, and
  // against `teacherLogits` (N x classes) when they are defined; the auxiliary head counts (on
  // the labels) when it was computed and options.auxWeight > 0. Call it inside the forward
  // pass's autocast (bench/gpu times the same loss).
  static StepLoss lossOf(const model::InceptionOutput& output, const at::Tensor& target,
                         const StepOptions& options, const at::Tensor& teacherLogits = {});

  // `parameters` and `decay` as the optimizer's (decay: the parameters in the L2 term).
  // `average` may be null (replicas other than rank 0 keep none).
  TrainStep(model::InceptionV3 net, Optimizer& optimizer, WeightAverage* average,
            NamedTensors parameters, const std::vector<bool>& decay, const StepOptions& options);
  ~TrainStep();
  TrainStep(const TrainStep&) = delete;
  TrainStep& operator=(const TrainStep&) = delete;

  // One step on a batch already on the network's device: images float N x 3 x H x W in [-1, 1],
  // target int64 class indices. `step`: steps done before this one (schedules the batch-norm
  // decay cap and the weight average's). `teacherLogits`: a distillation run's teacher's outputs
  // on the same images.
  void run(const at::Tensor& images, const at::Tensor& target, double learningRate,
           std::int64_t step, const StepHooks& hooks = {}, const at::Tensor& teacherLogits = {});

  // Steps whose figures were not taken yet, oldest first.
  std::size_t pending() const { return pending_.size(); }
  // The oldest pending step's figures (waits for the device if they are not on the host yet).
  std::optional<StepFigures> takeFigures();

 private:
  struct Pending;
  model::InceptionV3 net_;
  Optimizer& optimizer_;
  WeightAverage* average_;
  NamedTensors parameters_;
  std::vector<at::Tensor> decayed_;
  StepOptions options_;
  std::deque<std::unique_ptr<Pending>> pending_;
};

// Sets every batch norm's momentum to 1 - decay (PyTorch's momentum is TF's 1 - decay).
void setBatchNormDecay(torch::nn::Module& module, double decay);

}  // namespace taxon::train
