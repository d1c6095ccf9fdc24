#include "project/Importer.hpp"

#include <algorithm>
#include <atomic>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "core/Error.hpp"
#include "image/CategoryFolders.hpp"
#include "project/Split.hpp"
#include "project/import/ImportSources.hpp"
#include "records/RecordSet.hpp"

namespace taxon::project {

namespace fs = std::filesystem;

using importer::Candidate;
using importer::Collected;

namespace {

constexpr std::size_t kChunk = 2048;

bool endsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

SourceFormat detectFormat(const fs::path& source) {
  std::error_code ec;
  if (fs::is_directory(source, ec)) {
    if (!importer::findIdx(source, "train-images-idx3-ubyte").empty()) {
      return SourceFormat::Idx;
    }
    std::vector<ImportIssue> ignored;
    for (const auto& entry : image::sortedEntries(source, ignored)) {
      if (fs::is_regular_file(entry) && records::isShardName(entry.filename().string())) {
        return SourceFormat::TfRecord;
      }
    }
    return SourceFormat::Folders;
  }
  if (!fs::exists(source, ec)) {
    core::throwFileError(source, "does not exist");
  }
  const std::string name = source.filename().string();
  if (endsWith(name, ".csv")) {
    return SourceFormat::Csv;
  }
  if (name.find("-idx3-ubyte") != std::string::npos) {
    return SourceFormat::Idx;
  }
  if (records::isShardName(name)) {
    return SourceFormat::TfRecord;
  }
  core::throwFileError(source, "cannot tell its format; pass --format");
}

// Checks the candidates of one chunk [begin, end) that `known` (indexed from begin) does not mark
// on `threads` threads; results keep the candidates' order, a known one's stays unchecked.
std::vector<image::CheckedImage> checkChunk(const std::vector<Candidate>& candidates,
                                            std::size_t begin, std::size_t end,
                                            const std::vector<bool>& known, int threads,
                                            const image::ImageCheckLimits& limits,
                                            std::atomic<std::int64_t>& done, std::int64_t total,
                                            const core::ProgressFn& progress) {
  std::vector<image::CheckedImage> results(end - begin);
  std::vector<std::size_t> open;
  for (std::size_t i = begin; i < end; ++i) {
    if (!known[i - begin]) {
      open.push_back(i);
    }
  }
  const auto skipped = static_cast<std::int64_t>((end - begin) - open.size());
  if (skipped > 0) {
    const auto finished = done += skipped;
    if (progress) {
      progress({"check images", finished, total, "images"});
    }
  }
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t k = next++; k < open.size(); k = next++) {
      const std::size_t i = open[k];
      results[i - begin] = image::checkImageFile(candidates[i].path, limits);
      const auto finished = ++done;
      if (progress) {
        progress({"check images", finished, total, "images"});
      }
    }
  };
  std::vector<std::jthread> pool;
  for (int t = 1; t < threads; ++t) {
    pool.emplace_back(work);
  }
  work();
  return results;
}

// One import run: its settings, where it reports, and what it carries from source to source.
struct ImportRun {
  Catalog& catalog;
  const ImportSettings& settings;
  const core::ProgressFn& progress;
  const std::stop_token& stop;
  int threads = 1;
  ImportReport report;
  importer::CsvListings listings;
  std::vector<DifferentLabel> differentLabels;
};

// What `source` lists, read by the reader of its format.
Collected collectSource(ImportRun& run, const fs::path& source, SourceFormat format) {
  Collected collected;
  switch (format) {
    case SourceFormat::Folders:
      if (importer::collectFolders(source, collected, run.stop)) {
        run.report.splitFolders = true;
      }
      break;
    case SourceFormat::Csv:
      importer::collectCsv(source, collected, run.listings);
      break;
    case SourceFormat::Idx:
      importer::extractIdx(source, run.catalog.projectDir(), run.settings.limit, collected,
                           run.progress, run.stop);
      break;
    case SourceFormat::TfRecord:
      importer::extractTfRecords(source, run.settings, run.catalog.projectDir(), collected,
                                 run.stop);
      break;
    case SourceFormat::Unlabeled:
      importer::collectUnlabeled(source, collected, run.stop);
      break;
    case SourceFormat::Auto:
      break;
  }
  return collected;
}

// The checked candidates [begin, end) that passed, as catalog rows; the ones that failed become
// issues, and duplicates (of the catalog or of this chunk) are reported.
// A path the catalog already has (`known`) is passed on unchecked: the catalog keeps its row and
// only compares the category.
std::vector<NewImage> passedImages(ImportRun& run, Collected& collected, std::size_t begin,
                                   std::size_t end, const std::vector<bool>& known,
                                   const std::vector<image::CheckedImage>& checked,
                                   const std::string& sourceText) {
  std::vector<NewImage> fresh;
  std::unordered_map<std::string, std::string> chunkHashes;
  for (std::size_t i = begin; i < end; ++i) {
    const auto& result = checked[i - begin];
    const auto& candidate = collected.candidates[i];
    ++run.report.examined;
    if (known[i - begin]) {
      NewImage present;
      present.path = candidate.path;
      present.categoryPath = candidate.category;
      present.split = candidate.split;
      present.source = sourceText;
      fresh.push_back(std::move(present));
      continue;
    }
    if (!result.ok) {
      collected.issues.push_back({candidate.path, result.reason});
      continue;
    }
    const std::string stored = run.catalog.storedPath(candidate.path);
    std::optional<std::string> sameAs;
    for (const auto& existing : run.catalog.imagesWithHash(result.hash)) {
      if (existing.path != stored) {
        sameAs = run.catalog.resolve(existing.path).string();
        break;
      }
    }
    if (!sameAs) {
      const auto [it, isNew] = chunkHashes.emplace(result.hash, candidate.path);
      if (!isNew && it->second != candidate.path) {
        sameAs = it->second;
      }
    }
    if (sameAs) {
      run.report.duplicates.push_back({candidate.path, *sameAs});
    }
    fresh.push_back(NewImage{candidate.path, result.hash, result.header.width, result.header.height,
                             result.header.format, result.bytes, candidate.category,
                             candidate.split, sourceText});
  }
  return fresh;
}

// Checks and adds the candidates of one source chunk by chunk until done or stopped; returns how
// many of them (a prefix) went to the catalog.
std::size_t addCandidates(ImportRun& run, Collected& collected, const std::string& sourceText) {
  const auto& candidates = collected.candidates;
  std::atomic<std::int64_t> done{0};
  const auto total = static_cast<std::int64_t>(candidates.size());
  std::size_t inserted = 0;  // candidates[0, inserted) went to the catalog
  for (std::size_t begin = 0; begin < candidates.size() && !run.stop.stop_requested();
       begin += kChunk) {
    const std::size_t end = std::min(candidates.size(), begin + kChunk);
    // Paths the catalog has are not read again: a re-import costs a catalog lookup per file,
    // not a read and hash of every image.
    std::vector<std::string> stored;
    stored.reserve(end - begin);
    for (std::size_t i = begin; i < end; ++i) {
      stored.push_back(run.catalog.storedPath(candidates[i].path));
    }
    const auto known = run.catalog.hasPaths(stored);
    const auto checked = checkChunk(candidates, begin, end, known, run.threads,
                                    run.settings.checkLimits, done, total, run.progress);
    const auto fresh = passedImages(run, collected, begin, end, known, checked, sourceText);
    auto result = run.catalog.insertImages(fresh);
    run.report.added += result.added;
    run.report.alreadyPresent += result.alreadyPresent;
    run.differentLabels.insert(run.differentLabels.end(), result.differentLabels.begin(),
                               result.differentLabels.end());
    inserted = end;
  }
  return inserted;
}

void importSource(ImportRun& run, const fs::path& source, SourceFormat format) {
  Collected collected = collectSource(run, source, format);
  auto& candidates = collected.candidates;
  const auto limit = run.settings.limit;
  if (limit > 0 && static_cast<std::int64_t>(candidates.size()) > limit &&
      (format == SourceFormat::Folders || format == SourceFormat::Csv ||
       format == SourceFormat::Unlabeled)) {
    candidates.resize(static_cast<std::size_t>(limit));
  }
  const std::string sourceText = std::string(sourceFormatName(format)) + ":" + source.string();
  const std::size_t inserted = addCandidates(run, collected, sourceText);
  // Files this import wrote into the project (IDX and TFRecord sources are extracted to
  // images/) but did not get to add before a stop: removed, so that none is left orphaned.
  if (format == SourceFormat::Idx || format == SourceFormat::TfRecord) {
    for (std::size_t i = inserted; i < candidates.size(); ++i) {
      std::error_code ec;
      if (fs::remove(candidates[i].path, ec)) {
        ++run.report.extractedRemoved;
      }
    }
  }
  run.catalog.recordImportIssues(collected.issues, sourceText);
  run.report.skipped.insert(run.report.skipped.end(), collected.issues.begin(),
                            collected.issues.end());
}

}  // namespace

std::string_view sourceFormatName(SourceFormat format) {
  switch (format) {
    case SourceFormat::Folders:
      return "folders";
    case SourceFormat::Csv:
      return "csv";
    case SourceFormat::Idx:
      return "idx";
    case SourceFormat::TfRecord:
      return "tfrecord";
    case SourceFormat::Unlabeled:
      return "unlabeled";
    case SourceFormat::Auto:
      break;
  }
  return "auto";
}

const std::vector<std::string>& fashionMnistCategories() {
  static const std::vector<std::string> kNames = {
      "Tops > T-shirt/top", "Bottoms > Trouser", "Tops > Pullover", "Dresses > Dress",
      "Tops > Coat",        "Shoes > Sandal",    "Tops > Shirt",    "Shoes > Sneaker",
      "Bags > Bag",         "Shoes > Ankle boot"};
  return kNames;
}

std::vector<std::string> ImportSettings::validate() const {
  std::vector<std::string> problems;
  if (sources.empty() && unlabeled.empty()) {
    problems.emplace_back("sources: give at least one folder or file to import");
  }
  if (format == SourceFormat::Unlabeled) {
    problems.emplace_back("format: unlabeled folders go in `unlabeled` (--unlabeled), not sources");
  }
  if (!(validationFraction >= 0.0 && validationFraction < 1.0)) {
    problems.push_back("validation_fraction: must be in [0, 1), got " +
                       std::to_string(validationFraction));
  }
  if (threads < 0) {
    problems.emplace_back("threads: must be 0 (all cores) or more");
  }
  if (limit < 0) {
    problems.emplace_back("limit: must be 0 (no limit) or more");
  }
  if (!labelsFile.empty() && !fs::exists(labelsFile)) {
    problems.push_back("labels_file: " + labelsFile.string() + " does not exist");
  }
  return problems;
}

void checkImportSources(const ImportSettings& settings) {
  core::throwIfInvalid("import", settings.validate());
  for (const auto& source : settings.sources) {
    std::error_code ec;
    if (!fs::exists(source, ec)) {
      core::throwFileError(source, "does not exist");
    }
    const SourceFormat format =
        settings.format == SourceFormat::Auto ? detectFormat(source) : settings.format;
    switch (format) {
      case SourceFormat::Folders:
        if (!fs::is_directory(source, ec)) {
          core::throwFileError(source, "is not a folder of category folders");
        }
        break;
      case SourceFormat::Csv:
        importer::checkCsvShape(source);
        break;
      default:
        break;
    }
  }
  for (const auto& folder : settings.unlabeled) {
    std::error_code ec;
    if (!fs::exists(folder, ec)) {
      core::throwFileError(folder, "does not exist");
    }
    if (!fs::is_directory(folder, ec)) {
      core::throwFileError(folder, "is not a folder (--unlabeled takes folders of images)");
    }
  }
}

ImportReport importImages(Catalog& catalog, const ImportSettings& settings,
                          const core::ProgressFn& progress, std::stop_token stop) {
  // Every source is checked before anything is written: a missing second source must not leave
  // the first one imported.
  checkImportSources(settings);
  const int threads = settings.threads > 0
                          ? settings.threads
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  ImportRun run{catalog, settings, progress, stop, threads, {}, {}, {}};
  for (const auto& source : settings.sources) {
    importSource(run, source,
                 settings.format == SourceFormat::Auto ? detectFormat(source) : settings.format);
  }
  for (const auto& folder : settings.unlabeled) {
    if (!stop.stop_requested()) {
      importSource(run, folder, SourceFormat::Unlabeled);
    }
  }
  ImportReport& report = run.report;
  // Known images listed with another category: kept as they are, or relabeled in one edit.
  if (settings.relabel && !run.differentLabels.empty()) {
    std::vector<std::pair<std::int64_t, std::string>> changes;
    for (const auto& d : run.differentLabels) {
      changes.emplace_back(d.imageId, d.listed);
    }
    report.relabelEdit = catalog.relabelEach(changes);
  }
  report.differentLabels = std::move(run.differentLabels);
  report.cancelled = stop.stop_requested();
  if (!report.cancelled) {
    assignSplits(catalog,
                 SplitSettings{settings.validationFraction, settings.seed, settings.resplit});
  }
  report.categories = static_cast<std::int64_t>(catalog.categories().size());
  report.train = catalog.imageCount(std::nullopt, Split::Train);
  report.validation = catalog.imageCount(std::nullopt, Split::Validation);
  report.test = catalog.imageCount(std::nullopt, Split::Test);
  report.unlabeled = catalog.imageCount(kUnlabeled);
  return std::move(report);
}

}  // namespace taxon::project
