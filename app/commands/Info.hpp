// `taxon info`: the runtime (versions and devices, as text or JSON); a project's categories and
// splits; TFRecord shards, every record's checksums verified; or an exported ONNX model.
#pragma once

#include <string>

#include "Commands.hpp"

namespace taxon::app {

struct InfoOptions {
  std::string format = "text";  // the runtime summary: text or json
  std::string path;             // a project, TFRecord shards or a .onnx file; empty: the runtime
  bool skipCorrupt = false;     // shards: report damaged records and read on
};

// 1 when shards hold damaged records.
int runInfo(const InfoOptions& options);

Command addInfoCommand(CLI::App& app);

}  // namespace taxon::app
