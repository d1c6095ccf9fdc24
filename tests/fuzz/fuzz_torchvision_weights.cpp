// torchvision state dicts (model/TorchvisionWeights: --init_from a .pth file): the zip archive,
// the pickle and the tensors' storages.
#include "FuzzInput.hpp"
#include "model/TorchvisionWeights.hpp"

using namespace taxon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::readAsFile("weights.pth", data, size,
                   [](const auto& path) { model::readTensorDict(path); });
  return 0;
}
