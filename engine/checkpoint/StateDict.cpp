#include "checkpoint/StateDict.hpp"

#include <torch/nn/module.h>

#include <map>

#include "core/Error.hpp"
#include "model/TorchvisionWeights.hpp"

namespace taxon::checkpoint {

std::vector<std::string> copyInto(torch::nn::Module& module, const NamedTensors& source) {
  std::map<std::string, const at::Tensor*> byName;
  for (const auto& [name, tensor] : source) {
    byName[name] = &tensor;
  }
  std::vector<std::string> missing;
  torch::NoGradGuard noGrad;
  for (const auto& item : model::stateDict(module)) {
    const auto it = byName.find(item.key());
    if (it == byName.end()) {
      missing.push_back(item.key());
      continue;
    }
    if (it->second->sizes() != item.value().sizes()) {
      throw core::Error("'" + item.key() + "' has another shape in the checkpoint");
    }
    item.value().copy_(*it->second);
  }
  return missing;
}

}  // namespace taxon::checkpoint
