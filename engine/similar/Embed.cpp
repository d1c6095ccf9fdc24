#include "similar/Embed.hpp"

#include <algorithm>

#include "label/Suggest.hpp"
#include "project/Catalog.hpp"

namespace taxon::similar {

namespace fs = std::filesystem;

std::vector<std::string> EmbedSettings::validate() const {
  std::vector<std::string> problems;
  if (project.empty()) {
    problems.emplace_back("project: give the project folder");
  }
  if (checkpointDir.empty()) {
    problems.emplace_back("checkpoint_dir: give a run folder or a checkpoint file");
  }
  if (chunk < 1) {
    problems.emplace_back("commit_every: must be at least 1");
  }
  if (classifier.batchSize < 1) {
    problems.emplace_back("batch_size: must be at least 1");
  }
  return problems;
}

EmbedReport embed(const EmbedSettings& settings, const core::ProgressFn& progress,
                  std::stop_token stop) {
  core::throwIfInvalid("embed", settings.validate());
  project::Catalog catalog(settings.project, /*create=*/false);
  auto classifierSettings = settings.classifier;
  classifierSettings.features = true;
  infer::Classifier classifier(settings.checkpointDir, classifierSettings);

  EmbedReport report;
  report.step = classifier.step();
  report.dim = classifier.featureSize();
  report.warnings = classifier.warnings();
  report.store = embeddingDir(settings.project, settings.checkpointDir, report.step);
  EmbeddingMeta meta;
  meta.run = label::runName(settings.checkpointDir);
  meta.step = report.step;
  meta.dim = report.dim;
  EmbeddingWriter writer(report.store, meta);

  std::vector<std::pair<std::int64_t, fs::path>> todo;
  constexpr std::int64_t kPage = 50000;
  for (std::int64_t offset = 0;; offset += kPage) {
    const auto page = catalog.images(std::nullopt, std::nullopt, kPage, offset);
    for (const auto& image : page) {
      ++report.considered;
      if (writer.has(image.id)) {
        ++report.alreadyDone;
      } else {
        todo.emplace_back(image.id, catalog.resolve(image.path));
      }
    }
    if (static_cast<std::int64_t>(page.size()) < kPage) {
      break;
    }
  }
  const auto total = static_cast<std::int64_t>(todo.size());
  for (std::size_t begin = 0; begin < todo.size();
       begin += static_cast<std::size_t>(settings.chunk)) {
    if (stop.stop_requested()) {
      break;
    }
    const std::size_t end = std::min(todo.size(), begin + static_cast<std::size_t>(settings.chunk));
    std::vector<fs::path> files;
    for (std::size_t i = begin; i < end; ++i) {
      files.push_back(todo[i].second);
    }
    const auto offset = static_cast<std::int64_t>(begin);
    const auto results = classifier.classifyFiles(files, 1, stop, [&](const core::Progress& p) {
      if (progress) {
        progress({"embed", offset + p.done, total, "images"});
      }
    });
    std::vector<std::int64_t> ids;
    std::vector<std::vector<float>> rows;
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (!results[i].error.empty()) {
        if (results[i].error != "cancelled") {
          report.failed.push_back({files[i].string(), results[i].error});
        }
        continue;
      }
      ids.push_back(todo[begin + i].first);
      rows.push_back(results[i].features);
    }
    writer.append(ids, rows);  // committed: a kill after this keeps the batch
    report.embedded += static_cast<std::int64_t>(ids.size());
  }
  if (!stop.stop_requested() && writer.meta().rows >= settings.indexFrom) {
    report.indexed = writer.updateIndex(progress, stop);
  }
  report.cancelled = stop.stop_requested();
  return report;
}

NeighbourFinder::NeighbourFinder(const fs::path& project, const fs::path& checkpointDir,
                                 std::int64_t step)
    : catalog_(std::make_unique<project::Catalog>(project, /*create=*/false)) {
  const auto dir = embeddingDir(project, checkpointDir, step);
  std::error_code error;
  if (!fs::exists(dir, error)) {
    core::throwFileError(project, "has no embeddings for " + label::runName(checkpointDir) +
                                      " at step " + std::to_string(step) + ": run taxon embed " +
                                      project.string() + " --checkpoint_dir " +
                                      checkpointDir.string() + " first");
  }
  store_ = std::make_unique<EmbeddingStore>(dir);
}

NeighbourFinder::NeighbourFinder(const fs::path& project, const fs::path& storeDir)
    : catalog_(std::make_unique<project::Catalog>(project, /*create=*/false)),
      store_(std::make_unique<EmbeddingStore>(storeDir)) {}

NeighbourFinder::~NeighbourFinder() = default;

std::optional<fs::path> newestStore(const fs::path& project) {
  std::optional<fs::path> newest;
  fs::file_time_type newestTime;
  std::error_code error;
  for (fs::directory_iterator it(project / "embeddings", error), end; !error && it != end;
       it.increment(error)) {
    const auto meta = it->path() / "meta.json";
    const auto time = fs::last_write_time(meta, error);
    if (error) {
      error.clear();
      continue;
    }
    if (!newest || time > newestTime) {
      newest = it->path();
      newestTime = time;
    }
  }
  return newest;
}

std::optional<std::vector<float>> NeighbourFinder::storedFeatures(const fs::path& path) {
  if (const auto known = catalog_->imageByPath(path)) {
    if (const auto row = store_->rowOf(known->id)) {
      return store_->row(*row);
    }
  }
  return std::nullopt;
}

std::vector<SimilarImage> NeighbourFinder::nearest(const std::vector<float>& features, int k,
                                                   const fs::path& self) {
  std::optional<std::int64_t> exclude;
  if (!self.empty()) {
    if (const auto known = catalog_->imageByPath(self)) {
      exclude = known->id;
    }
  }
  std::vector<SimilarImage> out;
  for (const auto& n : store_->nearest(features, k, exclude)) {
    SimilarImage s;
    s.imageId = n.imageId;
    s.distance = n.distance;
    if (const auto record = catalog_->image(n.imageId)) {
      s.path = catalog_->resolve(record->path);
      s.split = record->split;
      if (record->categoryId != project::kUnlabeled) {
        if (const auto category = catalog_->category(record->categoryId)) {
          s.category = category->path;
        }
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<SimilarImage> similarImages(const SimilarSettings& settings, const fs::path& image,
                                        std::vector<std::string>* warnings) {
  auto classifierSettings = settings.classifier;
  classifierSettings.features = true;
  infer::Classifier classifier(settings.checkpointDir, classifierSettings);
  NeighbourFinder finder(settings.project, settings.checkpointDir, classifier.step());
  auto query = finder.storedFeatures(image);
  if (!query) {
    const auto result = classifier.classifyFiles({image}, 1).at(0);
    if (!result.error.empty()) {
      throw core::Error(result.error);
    }
    query = result.features;
  }
  auto found = finder.nearest(*query, settings.k, image);
  if (warnings != nullptr && !finder.store().indexProblem().empty()) {
    warnings->push_back(finder.store().indexProblem());
  }
  return found;
}

}  // namespace taxon::similar
