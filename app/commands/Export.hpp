// `taxon export`: a checkpoint's averaged weights for use outside Taxon, as a torchvision
// inception_v3 state_dict or as an ONNX model (deploy/torch/InceptionOnnx.hpp).
#pragma once

#include <filesystem>
#include <string>

#include "Commands.hpp"

namespace taxon::app {

struct ExportOptions {
  std::filesystem::path checkpointDir;  // a train dir (its newest checkpoint) or a checkpoint file
  std::string format = "torchvision";   // "torchvision" (.pth) or "onnx"
  std::filesystem::path output;         // the file to write
};

// Writes the file and prints how to load it in Python.
int runExport(const ExportOptions& options);

Command addExportCommand(CLI::App& app);

}  // namespace taxon::app
