// `taxon build-records`: TFRecord shards, labels.txt and manifest.json from a project's splits or
// from folders, with the seed's build_image_data.py flags.
#pragma once

#include <string>

#include "Commands.hpp"
#include "records/RecordBuilder.hpp"

namespace taxon::app {

struct BuildRecordsOptions {
  std::string project;                    // the positional project or --project
  records::RecordBuildSettings settings;  // the folders below are copied into it when run
  std::string trainDirectory, validationDirectory, outputDirectory, labelsFile;
};

// Builds, prints the splits written; 1 when cancelled.
int runBuildRecords(BuildRecordsOptions& options);

Command addBuildRecordsCommand(CLI::App& app);

}  // namespace taxon::app
