// `taxon suggest`: a trained model's top 5 for the project's unlabeled images (or all of them),
// stored in the catalog for review and `taxon accept`; with --pick, active learning's choice of
// the images to label next (label/Pick.hpp).
#pragma once

#include <string>

#include "Commands.hpp"
#include "label/Pick.hpp"
#include "label/Suggest.hpp"

namespace taxon::app {

struct SuggestOptions {
  std::string project;
  std::string subset = "unlabeled";  // unlabeled or all
  label::SuggestSettings settings;   // project and subset are filled from the above
  std::int64_t pick = 0;             // > 0: then pick this many images to label next
  std::string strategy = "random";   // random, entropy, margin or diverse (bench/active)
  std::uint64_t seed = 0;            // random's draw
  std::string pickList;              // also write the picked images' paths here, one per line
};

// Suggests and prints a summary; 1 when cancelled or some images could not be read.
int runSuggest(SuggestOptions& options);

Command addSuggestCommand(CLI::App& app);

}  // namespace taxon::app
