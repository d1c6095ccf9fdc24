// `taxon suggest`: a trained model's suggestions for a project's images, stored in the catalog
// for review (Catalog::suggestions) and bulk accept. Each image gets its top 5 with softmax
// scores, the margin (top-1 minus top-2), the entropy of the whole distribution and, when no leaf
// is confident, the roll-up to a shared parent (infer/Rollup.hpp), tagged with the checkpoint's
// run folder and step.
//
// Incremental and resumable: an image that already has a suggestion from this checkpoint is not
// classified again, and suggestions are committed batch by batch, so a run killed at any moment
// loses at most the batch in flight. A checkpoint whose categories are no longer all categories of
// the project (renamed, merged or deleted since it was trained) is refused, naming each.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stop_token>
#include <string>
#include <vector>

#include "core/Error.hpp"
#include "core/Progress.hpp"
#include "infer/Classifier.hpp"

namespace taxon::label {

struct SuggestSettings {
  std::filesystem::path project;
  std::filesystem::path checkpointDir;  // a run folder (its newest checkpoint) or a checkpoint
  bool unlabeledOnly = true;            // false: every image of the project (`--subset all`)
  int chunk = 256;                      // images classified and committed together
  double confident = 0.5;               // below this top-1 score a roll-up is looked for
  infer::ClassifierSettings classifier;

  std::vector<std::string> validate() const;  // every problem at once
};

struct SuggestReport {
  std::string run;  // as stored with each suggestion
  std::int64_t step = 0;
  std::int64_t considered = 0;          // images of the subset
  std::int64_t alreadyDone = 0;         // had a suggestion from this checkpoint
  std::int64_t suggested = 0;           // stored by this call
  std::vector<core::FileIssue> failed;  // images that could not be read or decoded
  std::vector<std::string> warnings;    // damaged newer checkpoints passed over
  bool cancelled = false;
};

// Runs the model over the images that need it. `progress` is called on the calling thread and
// the classifier's decode threads. Throws core::Error when the project or the checkpoint cannot
// be opened or the categories do not match.
SuggestReport suggest(const SuggestSettings& settings, const core::ProgressFn& progress = {},
                      std::stop_token stop = {});

// The run text stored with suggestions from `checkpointDir`: its absolute, normal form.
std::string runName(const std::filesystem::path& checkpointDir);

}  // namespace taxon::label
