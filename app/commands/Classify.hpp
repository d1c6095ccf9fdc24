// `taxon classify`: ranked categories for image files (or the files below folders), printed and
// optionally written as a CSV table; with --explain, where the model looked for each of them.
#pragma once

#include <string>
#include <vector>

#include "Commands.hpp"
#include "infer/Classifier.hpp"

namespace taxon::app {

struct ClassifyOptions {
  std::string checkpointDir;  // a train dir (its newest checkpoint) or a checkpoint file
  std::string csv;            // also write the table here; empty: none
  int topK = 5;               // categories printed per image
  bool rollup = false;        // also print the roll-up to a shared parent (infer/Rollup.hpp)
  double rollupBelow = 0.5;   // a top score under this is not confident
  std::string explainDir;     // Grad-CAM overlays of each image's top categories; empty: none
  std::string explainBlock = "auto";  // the mixed block explained (explain::Explainer::setBlock)
  infer::ClassifierSettings settings;
  std::vector<std::string> images;  // files, or folders: the files below them in path order
};

// Classifies and prints; 1 when some images could not be classified.
int runClassify(const ClassifyOptions& options);

Command addClassifyCommand(CLI::App& app);

}  // namespace taxon::app
