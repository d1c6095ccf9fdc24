// `taxon import`: images into a project (category folders, CSV manifests, Fashion-MNIST IDX files,
// TFRecord shards, folders of unlabeled photos), with what was skipped, duplicated or labelled
// differently.
#pragma once

#include <string>
#include <vector>

#include "Commands.hpp"
#include "project/Importer.hpp"

namespace taxon::app {

struct ImportOptions {
  std::string project;                 // created if missing
  std::vector<std::string> sources;    // files and folders, in the order given
  std::vector<std::string> unlabeled;  // folders of images without a category (--unlabeled)
  std::string format = "auto";         // auto, folders, csv, idx or tfrecord
  project::ImportSettings settings;    // sources, format and labels file are filled from the above
  std::string labelsFile;              // TFRecord: names of labels without text
};

// Imports, prints the summary; 1 when cancelled or nothing was imported.
int runImport(ImportOptions& options);

Command addImportCommand(CLI::App& app);

}  // namespace taxon::app
