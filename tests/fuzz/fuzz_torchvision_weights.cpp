// torchvision state dicts (model/TorchvisionWeights: --init_from a .pth file): the zip archive,
// the pickle and the tensors' storages.
#include "FuzzInput.hpp"
#include "core/Error.hpp"
#include "model/TorchvisionWeights.hpp"

using namespace taxon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fuzz::writeScratch("weights.pth", fuzz::asText(data, size));
  try {
    model::readTensorDict(path);
  } catch (const core::Error&) {
  }
  return 0;
}
