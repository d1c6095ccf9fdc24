// A module's state as named tensors (torchvision's state_dict names), the unit checkpoints,
// optimizers and the weight average exchange.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

namespace torch::nn {
class Module;
}

namespace taxon::checkpoint {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// Copies `source` into the module's parameters and buffers of the same names (stateDict names);
// names of the module that `source` lacks are left as they are and listed in the return value.
std::vector<std::string> copyInto(torch::nn::Module& module, const NamedTensors& source);

}  // namespace taxon::checkpoint
