// `taxon export`: a checkpoint's averaged weights for use outside Taxon, as a torchvision
// inception_v3 state_dict or as an ONNX model (deploy/torch/InceptionOnnx.hpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "Commands.hpp"

namespace taxon::app {

struct ExportOptions {
  std::filesystem::path checkpointDir;   // a train dir (its newest checkpoint) or a checkpoint file
  std::string format = "torchvision";    // "torchvision" (.pth) or "onnx"
  std::filesystem::path output;          // the file to write
  std::string quantize = "none";         // onnx: "none" or "int8"
  std::int64_t calibrationImages = 512;  // int8: training images whose activations set the scales
  std::string calibration = "percentile";  // int8: "percentile" or "minmax"
  std::filesystem::path dataDir;  // int8: records to calibrate on; empty: the run's data dir
};

// Writes the file and prints how to load it in Python.
int runExport(const ExportOptions& options);

Command addExportCommand(CLI::App& app);

}  // namespace taxon::app
