#include "project/ProjectRecords.hpp"

#include <map>
#include <optional>

#include "core/Error.hpp"
#include "project/Catalog.hpp"
#include "project/ProjectLayout.hpp"
#include "project/Split.hpp"

namespace taxon::project {

namespace {

// Project mode: the catalog's splits.
records::RecordPlan planFromProject(const records::RecordBuildSettings& settings) {
  records::RecordPlan result;
  auto& labels = result.labels;
  auto& leftOut = result.emptyCategories;
  Catalog catalog(settings.project, /*create=*/false);
  if (catalog.imageCount(std::nullopt, Split::Unassigned) > 0) {
    assignSplits(catalog, SplitSettings{});  // places only the unassigned images
  }
  // A category without images gets no label: the model would have an output it never learns.
  std::map<std::int64_t, std::int64_t> labelOf;
  for (const auto& counts : catalog.countsByCategory()) {
    if (counts.total() == 0) {
      leftOut.push_back(counts.path);
      continue;
    }
    labels.push_back(counts.path);
    labelOf.emplace(counts.categoryId, static_cast<std::int64_t>(labels.size()));
  }
  auto& plans = result.splits;
  const std::pair<Split, int> splits[] = {{Split::Train, settings.trainShards},
                                          {Split::Validation, settings.validationShards},
                                          {Split::Test, settings.testShards}};
  for (const auto& [split, shards] : splits) {
    records::SplitPlan plan{std::string(splitName(split)), shards, {}};
    for (const auto& image : catalog.images(std::nullopt, split)) {
      const auto it = labelOf.find(image.categoryId);
      if (it == labelOf.end()) {
        continue;  // no category: nothing to learn from it
      }
      plan.entries.push_back({catalog.resolve(image.path), it->second, image.hash, image.path});
    }
    if (split != Split::Test || !plan.entries.empty()) {
      plans.push_back(std::move(plan));
    }
  }
  return result;
}

}  // namespace

records::RecordBuildReport buildRecords(records::RecordBuildSettings settings,
                                        const core::ProgressFn& progress, std::stop_token stop) {
  core::throwIfInvalid("build-records", settings.validate());
  if (settings.project.empty()) {
    return records::buildRecordsFromFolders(settings, progress, stop);
  }
  if (settings.outputDirectory.empty()) {
    settings.outputDirectory = ProjectLayout(settings.project).recordsDir();
  }
  return records::writeRecords(planFromProject(settings), settings, progress, stop);
}

}  // namespace taxon::project
