#include "similar/Duplicates.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>
#include <numeric>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>
#include <unordered_map>

#include "core/Csv.hpp"
#include "core/Error.hpp"
#include "core/Files.hpp"
#include "project/Catalog.hpp"
#include "project/ProjectLayout.hpp"
#include "similar/Embed.hpp"
#include "similar/EmbeddingStore.hpp"

namespace taxon::similar {

namespace fs = std::filesystem;

namespace {

// Union-find over indices.
struct Components {
  std::vector<std::size_t> parent;
  explicit Components(std::size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  std::size_t find(std::size_t i) {
    while (parent[i] != i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  }
  void join(std::size_t a, std::size_t b) {
    a = find(a);
    b = find(b);
    if (a != b) {
      parent[std::max(a, b)] = std::min(a, b);
    }
  }
};

double cosineDistance(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0.0, na = 0.0, nb = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    na += static_cast<double>(a[i]) * a[i];
    nb += static_cast<double>(b[i]) * b[i];
  }
  return na > 0.0 && nb > 0.0 ? std::max(0.0, 1.0 - dot / std::sqrt(na * nb)) : 1.0;
}

// Between two stored rows (unit length before float16), as searches measure it: 1 - their dot
// product.
float rowDistance(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    dot += static_cast<double>(a[i]) * b[i];
  }
  return static_cast<float>(std::max(0.0, 1.0 - dot));
}

double quantile(std::vector<double> values, double q) {
  if (values.empty()) {
    return 0.0;
  }
  std::sort(values.begin(), values.end());
  const auto at = static_cast<std::size_t>(std::floor(q * static_cast<double>(values.size() - 1)));
  return values[at];
}

// A temporary folder removed with its files when done.
struct ScratchDir {
  fs::path path;
  ScratchDir()
      : path(fs::temp_directory_path() / ("taxon-duplicates-" + std::to_string(::getpid()))) {
    fs::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
};

// The three copies of the calibration: smaller as JPEG 80, larger as JPEG 90, same size as JPEG 95.
std::vector<fs::path> writeCopies(const cv::Mat& image, const fs::path& dir,
                                  const std::string& stem, int inputSide) {
  struct Copy {
    double scale;
    int quality;
  };
  std::vector<fs::path> out;
  int n = 0;
  for (const Copy copy : {Copy{0.75, 80}, Copy{1.5, 90}, Copy{1.0, 95}}) {
    cv::Mat scaled;
    if (copy.scale < 1.0 && std::min(image.cols, image.rows) * copy.scale < inputSide) {
      continue;
    }
    if (copy.scale == 1.0) {
      scaled = image;
    } else {
      cv::resize(image, scaled, {}, copy.scale, copy.scale,
                 copy.scale < 1.0 ? cv::INTER_AREA : cv::INTER_CUBIC);
    }
    const auto file = dir / (stem + "-" + std::to_string(n++) + ".jpg");
    if (cv::imwrite(file.string(), scaled, {cv::IMWRITE_JPEG_QUALITY, copy.quality})) {
      out.push_back(file);
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> DuplicateSettings::validate() const {
  std::vector<std::string> problems;
  if (project.empty()) {
    problems.emplace_back("project: give the project folder");
  }
  if (checkpointDir.empty()) {
    problems.emplace_back("checkpoint_dir: give a run folder or a checkpoint file");
  }
  if (threshold > 1.0) {
    problems.emplace_back("threshold: a cosine distance, at most 1");
  }
  if (neighbours < 1) {
    problems.emplace_back("neighbours: must be at least 1");
  }
  if (calibrationImages < 10) {
    problems.emplace_back("calibration_images: must be at least 10");
  }
  return problems;
}

DuplicateReport findDuplicates(const DuplicateSettings& settings, const core::ProgressFn& progress,
                               std::stop_token stop) {
  core::throwIfInvalid("duplicates", settings.validate());
  project::Catalog catalog(settings.project, /*create=*/false);
  auto classifierSettings = settings.classifier;
  classifierSettings.features = true;
  infer::Classifier classifier(settings.checkpointDir, classifierSettings);
  const NeighbourFinder finder(settings.project, settings.checkpointDir, classifier.step());
  const EmbeddingStore& store = finder.store();

  DuplicateReport report;
  std::vector<project::ImageRecord> images;
  constexpr std::int64_t kPage = 50000;
  for (std::int64_t offset = 0;; offset += kPage) {
    auto page = catalog.images(std::nullopt, std::nullopt, kPage, offset);
    const auto size = static_cast<std::int64_t>(page.size());
    std::move(page.begin(), page.end(), std::back_inserter(images));
    if (size < kPage) {
      break;
    }
  }
  report.images = static_cast<std::int64_t>(images.size());
  std::unordered_map<std::int64_t, std::size_t> indexOf;
  for (std::size_t i = 0; i < images.size(); ++i) {
    indexOf.emplace(images[i].id, i);
    report.notEmbedded += !store.rowOf(images[i].id).has_value();
  }
  Components groups(images.size());
  // Exact copies: the same content hash.
  {
    std::unordered_map<std::string, std::size_t> firstWithHash;
    for (std::size_t i = 0; i < images.size(); ++i) {
      const auto [it, added] = firstWithHash.emplace(images[i].hash, i);
      if (!added) {
        groups.join(it->second, i);
      }
    }
  }
  const auto hashOfRow = [&](std::int64_t id) -> const std::string& {
    return images[indexOf.at(id)].hash;
  };

  // Calibration on a sample of embedded images spread over the store.
  auto& c = report.calibration;
  {
    const auto rows = store.rows();
    const auto want = std::min<std::int64_t>(settings.calibrationImages, rows);
    std::vector<double> copyDistances, nearestDistances;
    if (want > 0) {
      ScratchDir scratch;
      std::vector<fs::path> copies;
      std::vector<std::int64_t> copyOf;  // row
      for (std::int64_t s = 0; s < want && !stop.stop_requested(); ++s) {
        const auto row = s * rows / want;
        const auto id = store.ids()[static_cast<std::size_t>(row)];
        const auto& record = images[indexOf.at(id)];
        const cv::Mat decoded = cv::imread(catalog.resolve(record.path).string(), cv::IMREAD_COLOR);
        if (decoded.empty()) {
          continue;
        }
        for (const auto& file :
             writeCopies(decoded, scratch.path, std::to_string(row), classifier.inputSize())) {
          copies.push_back(file);
          copyOf.push_back(row);
        }
        // The nearest image that is not an exact copy.
        for (const auto& n : store.nearest(store.row(row), settings.neighbours, id)) {
          if (hashOfRow(n.imageId) != record.hash) {
            nearestDistances.push_back(n.distance);
            break;
          }
        }
        if (progress) {
          progress({"calibrate", s + 1, want, "images"});
        }
      }
      const auto embedded = classifier.classifyFiles(copies, 1, stop);
      std::set<std::int64_t> sampled;
      for (std::size_t i = 0; i < embedded.size(); ++i) {
        if (embedded[i].error.empty()) {
          copyDistances.push_back(cosineDistance(embedded[i].features, store.row(copyOf[i])));
          sampled.insert(copyOf[i]);
        }
      }
      c.images = static_cast<int>(sampled.size());
    }
    c.copyMedian = quantile(copyDistances, 0.5);
    c.copyMax =
        copyDistances.empty() ? 0.0 : *std::max_element(copyDistances.begin(), copyDistances.end());
    c.nearestP1 = quantile(nearestDistances, 0.01);
    c.nearestMedian = quantile(nearestDistances, 0.5);
    c.given = settings.threshold >= 0.0;
    c.threshold = c.given
                      ? settings.threshold
                      : (nearestDistances.empty() ? c.copyMax : std::min(c.copyMax, c.nearestP1));
    const auto within = [&](const std::vector<double>& values) {
      return values.empty()
                 ? 0.0
                 : static_cast<double>(std::count_if(values.begin(), values.end(),
                                                     [&](double d) { return d <= c.threshold; })) /
                       static_cast<double>(values.size());
    };
    c.copiesCaught = within(copyDistances);
    c.distinctWithin = within(nearestDistances);
  }

  // Near copies: every row's neighbours within the threshold.
  for (std::int64_t row = 0; row < store.rows() && !stop.stop_requested(); ++row) {
    const auto id = store.ids()[static_cast<std::size_t>(row)];
    const auto self = indexOf.find(id);
    if (self == indexOf.end()) {
      continue;  // embedded, then removed from the project
    }
    for (const auto& n : store.nearest(store.row(row), settings.neighbours, id)) {
      if (n.distance > c.threshold) {
        break;
      }
      if (const auto other = indexOf.find(n.imageId); other != indexOf.end()) {
        groups.join(self->second, other->second);
      }
    }
    if (progress && (row % 256 == 0 || row + 1 == store.rows())) {
      progress({"group", row + 1, store.rows(), "images"});
    }
  }
  report.cancelled = stop.stop_requested();

  // The groups, by their first image id.
  std::map<std::size_t, std::vector<std::size_t>> members;
  for (std::size_t i = 0; i < images.size(); ++i) {
    members[groups.find(i)].push_back(i);
  }
  std::unordered_map<std::int64_t, std::string> categoryName;
  for (const auto& category : catalog.categories()) {
    categoryName.emplace(category.id, category.path);
  }
  for (const auto& [root, list] : members) {
    if (list.size() < 2) {
      continue;
    }
    DuplicateGroup group;
    group.exact = true;
    const auto firstRow = store.rowOf(images[list.front()].id);
    const auto firstVector = firstRow ? store.row(*firstRow) : std::vector<float>();
    std::set<project::Split> splits;
    std::set<std::string> labels;
    bool hasTrain = false;
    for (const auto i : list) {
      const auto& record = images[i];
      DuplicateMember m;
      m.imageId = record.id;
      m.path = catalog.resolve(record.path);
      m.split = record.split;
      m.hash = record.hash;
      if (const auto it = categoryName.find(record.categoryId); it != categoryName.end()) {
        m.category = it->second;
        labels.insert(m.category);
      }
      if (record.hash != images[list.front()].hash) {
        group.exact = false;
        const auto row = store.rowOf(record.id);
        m.distance = row && firstRow ? rowDistance(firstVector, store.row(*row)) : 0.0f;
      }
      if (record.split != project::Split::Unassigned) {
        splits.insert(record.split);
      }
      hasTrain = hasTrain || record.split == project::Split::Train;
      group.members.push_back(std::move(m));
    }
    group.crossesSplits = splits.size() >= 2;
    group.conflictingLabels = labels.size() >= 2;
    if (hasTrain) {
      for (const auto& m : group.members) {
        report.leakedTestImages +=
            m.split == project::Split::Test || m.split == project::Split::Validation;
      }
    }
    report.groups.push_back(std::move(group));
  }

  // The CSV files.
  const auto reportDir =
      settings.reportDir.empty() ? project::evalDirOf(settings.checkpointDir) : settings.reportDir;
  std::error_code error;
  fs::create_directories(reportDir, error);
  if (error) {
    core::throwFileError(reportDir, "cannot be created: " + error.message());
  }
  std::string all, leakage, conflicts;
  for (auto* text : {&all, &leakage, &conflicts}) {
    core::appendCsvRow(
        *text, {"group", "kind", "image_id", "image", "category", "split", "distance", "hash"});
  }
  for (std::size_t g = 0; g < report.groups.size(); ++g) {
    const auto& group = report.groups[g];
    for (const auto& m : group.members) {
      char distance[32];
      std::snprintf(distance, sizeof distance, "%.6f", static_cast<double>(m.distance));
      const auto groupText = std::to_string(g + 1);
      const auto idText = std::to_string(m.imageId);
      const auto pathText = m.path.string();
      const std::string_view kind = group.exact ? "exact" : "near";
      const auto split = project::splitName(m.split);
      const std::initializer_list<std::string_view> row{groupText,  kind,  idText,   pathText,
                                                        m.category, split, distance, m.hash};
      core::appendCsvRow(all, row);
      if (group.crossesSplits) {
        core::appendCsvRow(leakage, row);
      }
      if (group.conflictingLabels) {
        core::appendCsvRow(conflicts, row);
      }
    }
  }
  report.duplicatesCsv = reportDir / "duplicates.csv";
  report.leakageCsv = reportDir / "duplicates-leakage.csv";
  report.conflictsCsv = reportDir / "duplicates-label-conflicts.csv";
  core::writeFileAtomic(report.duplicatesCsv, all);
  core::writeFileAtomic(report.leakageCsv, leakage);
  core::writeFileAtomic(report.conflictsCsv, conflicts);
  return report;
}

std::vector<DuplicateGroup> readDuplicateGroups(const fs::path& csv) {
  const auto rows = core::parseCsv(core::readFile(csv), csv);
  const std::vector<std::string> header = {"group",    "kind",  "image_id", "image",
                                           "category", "split", "distance", "hash"};
  if (rows.empty() || rows.front().fields != header) {
    core::throwFileError(csv, "is not a duplicates report (its first line is not " +
                                  std::string("group,kind,image_id,image,category,split,distance,"
                                              "hash)"));
  }
  std::vector<DuplicateGroup> groups;
  std::int64_t current = 0;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    const auto fail = [&](const std::string& what) {
      core::throwFileError(csv, "line " + std::to_string(row.line) + ": " + what);
    };
    if (row.fields.size() != header.size()) {
      fail(std::to_string(row.fields.size()) + " fields, not " + std::to_string(header.size()));
    }
    const auto number = [&](const std::string& field, const char* what) {
      std::int64_t value = 0;
      const auto* end = field.data() + field.size();
      const auto [at, ec] = std::from_chars(field.data(), end, value);
      if (ec != std::errc() || at != end || value < 1) {
        fail(std::string(what) + " \"" + field + "\" is not a positive whole number");
      }
      return value;
    };
    const auto group = number(row.fields[0], "group");
    if (group != current) {
      if (group != current + 1) {
        fail("group " + std::to_string(group) + " follows group " + std::to_string(current));
      }
      current = group;
      groups.emplace_back();
      groups.back().exact = row.fields[1] == "exact";
    }
    if (row.fields[1] != "exact" && row.fields[1] != "near") {
      fail("kind \"" + row.fields[1] + "\" is neither exact nor near");
    }
    DuplicateMember m;
    m.imageId = number(row.fields[2], "image_id");
    m.path = row.fields[3];
    m.category = row.fields[4];
    const auto split = project::parseSplit(row.fields[5]);
    if (!split) {
      fail("split \"" + row.fields[5] + "\" is not a split");
    }
    m.split = *split;
    char* end = nullptr;
    m.distance = std::strtof(row.fields[6].c_str(), &end);
    if (row.fields[6].empty() || end != row.fields[6].c_str() + row.fields[6].size()) {
      fail("distance \"" + row.fields[6] + "\" is not a number");
    }
    m.hash = row.fields[7];
    groups.back().members.push_back(std::move(m));
  }
  for (auto& group : groups) {
    std::set<project::Split> splits;
    std::set<std::string> labels;
    for (const auto& m : group.members) {
      if (m.split != project::Split::Unassigned) {
        splits.insert(m.split);
      }
      if (!m.category.empty()) {
        labels.insert(m.category);
      }
    }
    group.crossesSplits = splits.size() >= 2;
    group.conflictingLabels = labels.size() >= 2;
  }
  return groups;
}

std::vector<project::ImageChange> resolutionChanges(project::Catalog& catalog,
                                                    const DuplicateGroup& group, std::int64_t keep,
                                                    Resolution resolution) {
  const bool isMember = std::any_of(group.members.begin(), group.members.end(),
                                    [&](const DuplicateMember& m) { return m.imageId == keep; });
  const auto kept = catalog.image(keep);
  if (!isMember || !kept) {
    throw core::Error("image " + std::to_string(keep) +
                      (kept ? " is not in this group" : " is not in the project"));
  }
  std::vector<project::ImageChange> changes;
  for (const auto& m : group.members) {
    if (m.imageId == keep || !catalog.image(m.imageId)) {
      continue;  // the kept image, or one removed from the project since the report
    }
    project::ImageChange change;
    change.imageId = m.imageId;
    if (resolution != Resolution::Category) {
      change.split = kept->split;
    }
    if (resolution != Resolution::Split) {
      change.categoryId = kept->categoryId;
    }
    changes.push_back(change);
  }
  return changes;
}

}  // namespace taxon::similar
