// What a training step turns on (--precision, --channels_last): bf16 autocast for a scope and
// weights in channels-last layout, on a GPU or a CPU. Shared by the trainer and bench/gpu, which
// must time exactly the trainer's step.
#pragma once

#include <ATen/autocast_mode.h>
#include <c10/core/DeviceType.h>
#include <torch/nn/module.h>
#include <torch/types.h>

namespace taxon::train {

// Autocast to bfloat16 on `device` for the forward pass and the loss (thread-local, as autocast).
class Autocast {
 public:
  Autocast(c10::DeviceType device, bool on) : device_(device), on_(on) {
    if (on_) {
      at::autocast::set_autocast_dtype(device_, at::kBFloat16);
      at::autocast::set_autocast_enabled(device_, true);
      at::autocast::increment_nesting();
    }
  }
  ~Autocast() {
    if (on_) {
      if (at::autocast::decrement_nesting() == 0) {
        at::autocast::clear_cache();
      }
      at::autocast::set_autocast_enabled(device_, false);
    }
  }
  Autocast(const Autocast&) = delete;
  Autocast& operator=(const Autocast&) = delete;

 private:
  c10::DeviceType device_;
  bool on_;
};

// 4-D weights (convolutions) in NHWC, the layout tensor cores and oneDNN's fastest kernels prefer.
inline void toChannelsLast(torch::nn::Module& module) {
  torch::NoGradGuard noGrad;
  for (auto& p : module.parameters()) {
    if (p.dim() == 4) {
      p.set_data(p.data().contiguous(at::MemoryFormat::ChannelsLast));
    }
  }
}

}  // namespace taxon::train
