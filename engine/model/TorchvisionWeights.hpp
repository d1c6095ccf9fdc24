// Weights in torchvision's format: the file Python writes with
// `torch.save(model.state_dict(), path)`, a dict from parameter and buffer names
// ("Mixed_5b.branch1x1.conv.weight", "fc.bias", ...) to tensors. Works for any module whose names
// follow torchvision's (InceptionV3 does). Call from the thread that owns the module, not while
// it trains.
#pragma once

#include <torch/nn/module.h>
#include <torch/ordered_dict.h>

#include <filesystem>
#include <string>

namespace taxon::model {

struct TorchvisionLoadOptions {
  // Transfer learning: leave the classifier heads (fc.* and AuxLogits.fc.*) as they are and ignore
  // them in the file, so weights trained for another number of classes load.
  bool skipClassifier = false;
};

// The module's parameters and buffers in the order of Python's state_dict(): modules in
// registration order (depth first), each with its parameters and then its buffers. The tensors
// share memory with the module.
torch::OrderedDict<std::string, torch::Tensor> stateDict(const torch::nn::Module& module);

// Copies every tensor of the file into `module` (same names, same shapes; dtypes are converted;
// the module's device is kept). Strict like Python's load_state_dict(strict=True): throws
// core::Error naming the file and every missing, unexpected or mis-shaped key, and changes
// nothing then. AuxLogits.* in the file is ignored when the module has no auxiliary head.
void loadTorchvisionStateDict(torch::nn::Module& module, const std::filesystem::path& path,
                              const TorchvisionLoadOptions& options = {});

// Writes stateDict(module) so that Python's `torch.load(path)` (weights_only=True, the default)
// returns a dict of CPU tensors that torchvision's load_state_dict(strict=True) accepts. The file
// is replaced atomically. Throws core::Error.
void saveTorchvisionStateDict(const torch::nn::Module& module, const std::filesystem::path& path);

// Reads a file written by Python's `torch.save` of a dict or OrderedDict of tensors (any names;
// the zip format of PyTorch 1.6 and later, pickle protocols 2 to 5), in the file's order, on the
// CPU. Views keep sharing their storage. Throws core::Error naming the file when it is not such
// a file. (LibTorch's torch::pickle_load cannot: it reads every OrderedDict as None.)
torch::OrderedDict<std::string, torch::Tensor> readTensorDict(const std::filesystem::path& path);

// Writes `tensors` as Python's `torch.save` of a dict would (atomically). Throws core::Error.
void writeTensorDict(const torch::OrderedDict<std::string, torch::Tensor>& tensors,
                     const std::filesystem::path& path);

}  // namespace taxon::model
