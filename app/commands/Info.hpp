// `taxon info`: the runtime (versions and devices, as text or JSON); a project's categories and
// splits; a trained model's size (parameters, multiply-adds and FLOPs per image, its teacher's
// for a distilled one; text or JSON); TFRecord shards, every record's checksums verified; or an
// exported ONNX model.
#pragma once

#include <string>

#include "Commands.hpp"

namespace taxon::app {

struct InfoOptions {
  std::string format = "text";  // the runtime summary: text or json
  // A project, a run's train dir or checkpoint, TFRecord shards or a .onnx file; empty: the
  // runtime.
  std::string path;
  std::string model;         // --model RUN: a trained model's size (same as a run's path)
  bool skipCorrupt = false;  // shards: report damaged records and read on
};

// 1 when shards hold damaged records.
int runInfo(const InfoOptions& options);

Command addInfoCommand(CLI::App& app);

}  // namespace taxon::app
