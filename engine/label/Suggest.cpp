#include "label/Suggest.hpp"

#include <algorithm>
#include <cmath>

#include "infer/Rollup.hpp"
#include "project/Catalog.hpp"

namespace taxon::label {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kStoredTop = 5;

// What is stored for one image, from its full ranked distribution.
project::Suggestion suggestionOf(const infer::Classification& result,
                                 const std::vector<std::int64_t>& categoryIds,
                                 const SuggestSettings& settings) {
  project::Suggestion s;
  const auto& top = result.top;
  for (std::size_t k = 0; k < top.size() && k < kStoredTop; ++k) {
    s.top.emplace_back(categoryIds[static_cast<std::size_t>(top[k].index)], top[k].score);
  }
  s.margin = top.size() >= 2 ? top[0].score - top[1].score : top.empty() ? 0.0 : top[0].score;
  for (const auto& category : top) {
    if (category.score > 0.0) {
      s.entropy -= category.score * std::log(category.score);
    }
  }
  if (const auto rollup = infer::rollUp(top, settings.confident)) {
    s.rollup = rollup->parent;
    s.rollupScore = rollup->score;
  }
  return s;
}

}  // namespace

std::string runName(const fs::path& checkpointDir) {
  return fs::absolute(checkpointDir).lexically_normal().string();
}

std::vector<std::string> SuggestSettings::validate() const {
  std::vector<std::string> problems;
  if (project.empty()) {
    problems.emplace_back("project: give the project folder");
  }
  if (checkpointDir.empty()) {
    problems.emplace_back("checkpoint_dir: give a run folder or a checkpoint file");
  }
  if (chunk < 1) {
    problems.emplace_back("chunk: must be at least 1");
  }
  if (!(confident > 0.0 && confident <= 1.0)) {
    problems.emplace_back("confident: must be in (0, 1]");
  }
  if (classifier.batchSize < 1) {
    problems.emplace_back("batch_size: must be at least 1");
  }
  return problems;
}

SuggestReport suggest(const SuggestSettings& settings, const core::ProgressFn& progress,
                      std::stop_token stop) {
  core::throwIfInvalid("suggest", settings.validate());
  project::Catalog catalog(settings.project, /*create=*/false);
  infer::Classifier classifier(settings.checkpointDir, settings.classifier);
  const auto& categories = classifier.categories();
  if (const auto missing = catalog.missingCategories(categories); !missing.empty()) {
    std::string text;
    for (const auto& line : missing) {
      text += "\n  " + line;
    }
    core::throwFileError(
        classifier.checkpoint(),
        "the model's categories are no longer the project's (" + std::to_string(missing.size()) +
            " of " + std::to_string(categories.size()) + " changed since it was trained):" + text +
            "\nTrain again on the project's records, or undo those edits");
  }
  std::vector<std::int64_t> categoryIds;
  for (const auto& name : categories) {
    categoryIds.push_back(catalog.findCategory(name)->id);
  }

  SuggestReport report;
  report.run = runName(settings.checkpointDir);
  report.step = classifier.step();
  report.warnings = classifier.warnings();
  report.considered =
      settings.unlabeledOnly ? catalog.imageCount(project::kUnlabeled) : catalog.imageCount();
  const auto todo = catalog.imagesToSuggest(settings.unlabeledOnly, report.run, report.step);
  report.alreadyDone = report.considered - static_cast<std::int64_t>(todo.size());
  const auto total = static_cast<std::int64_t>(todo.size());
  const int all = static_cast<int>(categories.size());
  for (std::size_t begin = 0; begin < todo.size();
       begin += static_cast<std::size_t>(settings.chunk)) {
    if (stop.stop_requested()) {
      break;
    }
    const std::size_t end = std::min(todo.size(), begin + static_cast<std::size_t>(settings.chunk));
    std::vector<fs::path> files;
    std::vector<std::int64_t> ids;
    for (std::size_t i = begin; i < end; ++i) {
      const auto image = catalog.image(todo[i]);
      if (image) {
        files.push_back(catalog.resolve(image->path));
        ids.push_back(image->id);
      }
    }
    const auto offset = static_cast<std::int64_t>(begin);
    const auto results = classifier.classifyFiles(files, all, stop, [&](const core::Progress& p) {
      if (progress) {
        progress({"suggest", offset + p.done, total, "images"});
      }
    });
    std::vector<project::Suggestion> batch;
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (!results[i].error.empty()) {
        if (results[i].error != "cancelled") {
          report.failed.push_back({files[i].string(), results[i].error});
        }
        continue;
      }
      auto s = suggestionOf(results[i], categoryIds, settings);
      s.imageId = ids[i];
      s.run = report.run;
      s.step = report.step;
      batch.push_back(std::move(s));
    }
    catalog.storeSuggestions(batch);  // committed: a kill after this keeps the batch
    report.suggested += static_cast<std::int64_t>(batch.size());
  }
  report.cancelled = stop.stop_requested();
  return report;
}

}  // namespace taxon::label
