// `taxon export`: a checkpoint's averaged weights as a torchvision inception_v3 state_dict.
#pragma once

#include <filesystem>
#include <string>

#include "Commands.hpp"

namespace taxon::app {

struct ExportOptions {
  std::filesystem::path checkpointDir;  // a train dir (its newest checkpoint) or a checkpoint file
  std::string format = "torchvision";   // the only format
  std::filesystem::path output;         // the .pth file to write
};

// Writes the file and prints how to load it in Python.
int runExport(const ExportOptions& options);

Command addExportCommand(CLI::App& app);

}  // namespace taxon::app
