// `taxon duplicates`: images of a project that are the same picture, found two ways:
//
// - exactly: the same content hash (the catalog's XXH3-128 of the file's bytes);
// - nearly: pooled features (the checkpoint's store, `taxon embed`) within a cosine distance,
//   which catches resized and re-encoded copies.
//
// The distance is calibrated on the project itself: a sample of its images is copied three ways
// (scaled to 75 % and saved as JPEG at quality 80 where that keeps at least the model's input
// size, scaled to 150 % at quality 90, saved again as JPEG at quality 95), the copies are embedded
// with the same checkpoint, and the threshold is the largest distance between an image and its copy
// (so every sampled copy would have been caught), capped below the 1st percentile of the distances
// between sampled images and their nearest other image (so that at most one image in a hundred is
// grouped with a distinct one). Both figures are reported, so a model whose features cannot tell
// copies from neighbours shows.
//
// Groups are connected components of "within the threshold" (and of "same hash"). A group that
// spans splits is leakage (a test image with a copy in training inflates test precision); a
// group whose members carry different categories is a label conflict.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stop_token>
#include <string>
#include <vector>

#include "core/Progress.hpp"
#include "infer/Classifier.hpp"
#include "project/Catalog.hpp"
#include "project/Split.hpp"

namespace taxon::similar {

struct DuplicateSettings {
  std::filesystem::path project;
  std::filesystem::path checkpointDir;
  double threshold = -1.0;  // cosine distance; below 0: calibrated on the project
  int neighbours = 10;      // neighbours looked at per image
  int calibrationImages = 200;
  std::filesystem::path reportDir;  // where the CSV files go; empty: the run's eval folder
  infer::ClassifierSettings classifier;

  std::vector<std::string> validate() const;
};

struct Calibration {
  int images = 0;           // sampled images whose copies were embedded
  double copyMedian = 0.0;  // distance between an image and its copy
  double copyMax = 0.0;
  double nearestP1 = 0.0;  // 1st percentile of the distance to the nearest other image
  double nearestMedian = 0.0;
  double threshold = 0.0;       // what the grouping used
  bool given = false;           // the threshold came from the settings
  double copiesCaught = 0.0;    // share of the copies within the threshold
  double distinctWithin = 0.0;  // share of sampled images whose nearest other is within it
};

struct DuplicateMember {
  std::int64_t imageId = 0;
  std::filesystem::path path;
  std::string category;  // "" when unlabeled
  project::Split split = project::Split::Unassigned;
  std::string hash;
  float distance = 0.0f;  // to the group's first member (0 for an exact copy)
};

struct DuplicateGroup {
  std::vector<DuplicateMember> members;  // by image id
  bool exact = false;                    // every member has the same content hash
  bool crossesSplits = false;            // members in two or more of train, validation, test
  bool conflictingLabels = false;        // members with different categories (unlabeled aside)
};

struct DuplicateReport {
  Calibration calibration;
  std::vector<DuplicateGroup> groups;
  std::int64_t images = 0;            // images of the project
  std::int64_t notEmbedded = 0;       // of those, without a vector (only exact copies found)
  std::int64_t leakedTestImages = 0;  // test or validation images with a copy in training
  std::filesystem::path duplicatesCsv, leakageCsv, conflictsCsv;
  bool cancelled = false;
};

// Finds the groups and writes the three CSV files (every group; those that cross splits; those
// with conflicting labels). Throws core::Error when the store is missing (naming `taxon embed`).
DuplicateReport findDuplicates(const DuplicateSettings& settings,
                               const core::ProgressFn& progress = {}, std::stop_token stop = {});

// The groups of a duplicates.csv (or of its leakage and conflict subsets) as findDuplicates wrote
// them; each group's crossesSplits and conflictingLabels follow from its rows. Throws core::Error
// naming the file and line of a row that is not such a row.
std::vector<DuplicateGroup> readDuplicateGroups(const std::filesystem::path& csv);

// Resolving a group around one member kept as it is: the others take its split (moving test and
// validation copies of a training image into training, or training copies of a test image into
// test), its category, or both.
enum class Resolution { Split, Category, SplitAndCategory };
// The changes, from the catalog's current values of the kept image (the CSV may be older), for
// project::Catalog::changeImages (kind "resolve-duplicates"). Throws core::Error when `keep` is
// not in the catalog or not a member.
std::vector<project::ImageChange> resolutionChanges(project::Catalog& catalog,
                                                    const DuplicateGroup& group, std::int64_t keep,
                                                    Resolution resolution);

}  // namespace taxon::similar
