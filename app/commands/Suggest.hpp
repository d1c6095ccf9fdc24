// `taxon suggest`: a trained model's top 5 for the project's unlabeled images (or all of them),
// stored in the catalog for review and `taxon accept`.
#pragma once

#include <string>

#include "Commands.hpp"
#include "label/Suggest.hpp"

namespace taxon::app {

struct SuggestOptions {
  std::string project;
  std::string subset = "unlabeled";  // unlabeled or all
  label::SuggestSettings settings;   // project and subset are filled from the above
};

// Suggests and prints a summary; 1 when cancelled or some images could not be read.
int runSuggest(SuggestOptions& options);

Command addSuggestCommand(CLI::App& app);

}  // namespace taxon::app
