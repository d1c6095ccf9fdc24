#include "project/Importer.hpp"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>

#include "core/Error.hpp"
#include "core/Files.hpp"
#include "image/CategoryFolders.hpp"
#include "project/Split.hpp"
#include "records/ImageExample.hpp"
#include "records/RecordFile.hpp"
#include "records/RecordSet.hpp"

namespace taxon::project {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kChunk = 2048;

// A file to check and add, with the category and split its source gave it.
struct Candidate {
  fs::path path;
  std::string category;
  Split split = Split::Unassigned;
};

struct Collected {
  std::vector<Candidate> candidates;
  std::vector<ImportIssue> issues;
};

std::string trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) {
    return {};
  }
  return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

bool endsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// --- class folders ---

// The seed's layout (build_image_data.py's --train_directory and --validation_directory side by
// side): a root whose folders are all named after splits holds one tree of category folders per
// split. Returns those splits' folders, or nothing for an ordinary root.
std::vector<std::pair<fs::path, Split>> splitFolders(const fs::path& root) {
  std::vector<std::pair<fs::path, Split>> found;
  std::vector<ImportIssue> ignored;
  for (const auto& entry : image::sortedEntries(root, ignored)) {
    std::error_code ec;
    if (!fs::is_directory(entry, ec)) {
      continue;
    }
    const auto split = parseSplit(entry.filename().string());
    if (!split || *split == Split::Unassigned) {
      return {};
    }
    found.emplace_back(entry, *split);
  }
  return found;
}

// Every image below `root`'s category folders, with the split they come from.
void addFolderImages(const fs::path& root, Split split, image::FolderVisits& visited,
                     Collected& out, const std::stop_token& stop) {
  for (auto& found : image::scanCategoryFolders(root, out.issues, stop, &visited)) {
    out.candidates.push_back({std::move(found.path), std::move(found.category), split});
  }
}

// --- CSV manifests ---

// Splits one CSV line (RFC 4180 quoting; a quoted field may not span lines here).
std::vector<std::string> csvFields(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  return fields;
}

// Where each file listed by a CSV manifest was first listed, with which category: the same file
// listed again with another category is a conflict, reported, and the first listing is kept.
using CsvListings = std::unordered_map<std::string, std::pair<std::string, std::string>>;

constexpr const char* kCsvColumns = "expected the columns path,label[,split] separated by commas";

// Checks that `file` reads as a comma-separated manifest: a whole file in another shape (a folder,
// semicolons or tabs) is core::Error before the import writes anything.
void checkCsvShape(const fs::path& file) {
  std::error_code ec;
  if (fs::is_directory(file, ec)) {
    core::throwFileError(file,
                         "is a folder, not a CSV manifest (import a folder of category "
                         "folders without --format csv)");
  }
  std::ifstream in(file);
  if (!in) {
    core::throwFileError(file, "cannot open the CSV manifest: " + core::errnoText(errno));
  }
  std::string line;
  while (std::getline(in, line) && (line.empty() || line == "\r")) {
  }
  if (line.find(',') == std::string::npos) {
    for (const char separator : {';', '\t', '|'}) {
      if (line.find(separator) != std::string::npos) {
        const std::string name = separator == '\t' ? "tabs" : std::string("'") + separator + "'";
        core::throwFileError(file, "line 1 is separated by " + name + "; " + kCsvColumns);
      }
    }
  }
}

void collectCsv(const fs::path& file, Collected& out, CsvListings& listings) {
  std::ifstream in(file);
  if (!in) {
    core::throwFileError(file, "cannot open the CSV manifest");
  }
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (number == 1 && line.size() >= 3 && line.substr(0, 3) == "\xEF\xBB\xBF") {
      line.erase(0, 3);  // UTF-8 byte order mark
    }
    if (line.empty() || line == "\r") {
      continue;
    }
    const auto fields = csvFields(line);
    if (number == 1 && fields.size() >= 2 && fields[0] == "path" && fields[1] == "label") {
      continue;
    }
    const std::string where = file.string() + ":" + std::to_string(number);
    if (fields.size() < 2 || fields.size() > 3 || fields[0].empty()) {
      out.issues.push_back({where, std::to_string(fields.size()) + " column" +
                                       (fields.size() == 1 ? "" : "s") + "; " + kCsvColumns});
      continue;
    }
    fs::path path = trim(fields[0]);
    if (path.is_relative()) {
      path = file.parent_path() / path;
    }
    Candidate c{path, fields[1], Split::Unassigned};
    if (fields.size() >= 3 && !fields[2].empty()) {
      const auto split = parseSplit(fields[2]);
      if (!split) {
        out.issues.push_back({where, "unknown split \"" + fields[2] +
                                         "\" (use train, validation, test or leave it empty)"});
        continue;
      }
      c.split = *split;
    }
    try {
      c.category = core::normalizeCategoryPath(c.category);
    } catch (const core::Error& e) {
      out.issues.push_back({where, e.what()});
      continue;
    }
    const auto [first, isNew] =
        listings.try_emplace(fs::absolute(path).lexically_normal().string(), c.category, where);
    if (!isNew) {
      if (first->second.first != c.category) {
        out.issues.push_back({where, "conflicting label: " + path.string() + " is listed at " +
                                         first->second.second + " as \"" + first->second.first +
                                         "\" and here as \"" + c.category +
                                         "\"; the first is kept"});
      }
      continue;  // listed twice with the same label: once is enough
    }
    out.candidates.push_back(std::move(c));
  }
}

// --- Fashion-MNIST IDX files ---

class GzFile {
 public:
  explicit GzFile(const fs::path& path) : path_(path), file_(gzopen(path.c_str(), "rb")) {
    if (file_ == nullptr) {
      core::throwFileError(path, "cannot open: " + core::errnoText(errno));
    }
    gzbuffer(file_, 1 << 20);
  }
  ~GzFile() { gzclose(file_); }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;

  void read(void* out, unsigned size) {
    if (gzread(file_, out, size) != static_cast<int>(size)) {
      core::throwFileError(path_, "truncated or corrupt IDX data");
    }
  }
  std::uint32_t readBigEndian32() {
    unsigned char b[4];
    read(b, 4);
    return (std::uint32_t{b[0]} << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
  }

 private:
  fs::path path_;
  gzFile file_;
};

fs::path findIdx(const fs::path& dir, const std::string& stem) {
  for (const char* suffix : {"", ".gz"}) {
    const fs::path p = dir / (stem + suffix);
    if (fs::exists(p)) {
      return p;
    }
  }
  return {};
}

void extractIdxPair(const fs::path& imagesFile, const fs::path& labelsFile, Split split,
                    const fs::path& outDir, std::int64_t limit, Collected& out,
                    const core::ProgressFn& progress, const std::stop_token& stop) {
  GzFile images(imagesFile);
  GzFile labels(labelsFile);
  if (images.readBigEndian32() != 0x00000803) {
    core::throwFileError(imagesFile, "not an IDX image file (bad magic number)");
  }
  if (labels.readBigEndian32() != 0x00000801) {
    core::throwFileError(labelsFile, "not an IDX label file (bad magic number)");
  }
  const std::uint32_t count = images.readBigEndian32();
  const std::uint32_t rows = images.readBigEndian32();
  const std::uint32_t cols = images.readBigEndian32();
  if (labels.readBigEndian32() != count) {
    core::throwFileError(labelsFile, "holds a different number of labels than " +
                                         imagesFile.filename().string() + " holds images");
  }
  if (rows == 0 || cols == 0 || rows > 4096 || cols > 4096) {
    core::throwFileError(
        imagesFile, "implausible image size " + std::to_string(rows) + "x" + std::to_string(cols));
  }
  const auto& names = fashionMnistCategories();
  const std::int64_t n = limit > 0 ? std::min<std::int64_t>(limit, count) : count;
  std::vector<unsigned char> pixels(static_cast<std::size_t>(rows) * cols);
  const std::string splitDir(splitName(split) == "test" ? "test" : "train");
  for (std::int64_t i = 0; i < n && !stop.stop_requested(); ++i) {
    images.read(pixels.data(), static_cast<unsigned>(pixels.size()));
    unsigned char label = 0;
    labels.read(&label, 1);
    if (label >= names.size()) {
      core::throwFileError(labelsFile, "label " + std::to_string(label) + " of image " +
                                           std::to_string(i) +
                                           " is not a Fashion-MNIST class (0-9)");
    }
    char name[32];
    std::snprintf(name, sizeof name, "%05lld.png", static_cast<long long>(i));
    const fs::path dir = outDir / splitDir / std::to_string(label);
    const fs::path file = dir / name;
    if (!fs::exists(file)) {
      fs::create_directories(dir);
      std::vector<unsigned char> png;
      cv::imencode(".png",
                   cv::Mat(static_cast<int>(rows), static_cast<int>(cols), CV_8UC1, pixels.data()),
                   png);
      core::writeFileAtomic(
          file, std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
    }
    out.candidates.push_back({file, names[label], split});
    if (progress && (i % 500 == 0 || i + 1 == n)) {
      progress({"extract " + imagesFile.filename().string(), i + 1, n, "images"});
    }
  }
}

void extractIdx(const fs::path& source, const fs::path& projectDir, std::int64_t limit,
                Collected& out, const core::ProgressFn& progress, const std::stop_token& stop) {
  const fs::path outDir = projectDir / "images" / "fashion-mnist";
  if (fs::is_directory(source)) {
    const auto trainImages = findIdx(source, "train-images-idx3-ubyte");
    const auto trainLabels = findIdx(source, "train-labels-idx1-ubyte");
    const auto testImages = findIdx(source, "t10k-images-idx3-ubyte");
    const auto testLabels = findIdx(source, "t10k-labels-idx1-ubyte");
    if (trainImages.empty() || trainLabels.empty()) {
      core::throwFileError(source,
                           "no train-images-idx3-ubyte[.gz] and "
                           "train-labels-idx1-ubyte[.gz] in this folder");
    }
    extractIdxPair(trainImages, trainLabels, Split::Unassigned, outDir, limit, out, progress, stop);
    if (!testImages.empty() && !testLabels.empty()) {
      extractIdxPair(testImages, testLabels, Split::Test, outDir, limit, out, progress, stop);
    }
    return;
  }
  std::string name = source.filename().string();
  const auto at = name.find("images-idx3-ubyte");
  if (at == std::string::npos) {
    core::throwFileError(source, "not an IDX image file (expected *-images-idx3-ubyte[.gz])");
  }
  name.replace(at, 17, "labels-idx1-ubyte");
  const fs::path labels = source.parent_path() / name;
  if (!fs::exists(labels)) {
    core::throwFileError(labels, "missing: the labels of " + source.filename().string());
  }
  const Split split =
      source.filename().string().starts_with("t10k") ? Split::Test : Split::Unassigned;
  extractIdxPair(source, labels, split, outDir, limit, out, progress, stop);
}

// --- TFRecord shards (the seed's build_image_data.py) ---

std::vector<std::string> readLabelsFile(const fs::path& file) {
  std::vector<std::string> labels;
  if (file.empty()) {
    return labels;
  }
  std::ifstream in(file);
  if (!in) {
    core::throwFileError(file, "cannot open the labels file");
  }
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    labels.push_back(line);
  }
  return labels;
}

std::string extensionFor(const std::string& format) {
  std::string lower;
  for (char c : format) {
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (lower == "jpeg" || lower == "jpg" || lower.empty()) {
    return ".jpg";
  }
  return "." + lower;
}

void extractShard(const fs::path& shard, const std::vector<std::string>& labelNames,
                  const fs::path& projectDir, std::int64_t limit, Collected& out,
                  const std::stop_token& stop) {
  const std::string shardName = shard.filename().string();
  const Split split = shardName.starts_with("validation") ? Split::Validation
                      : shardName.starts_with("train")    ? Split::Train
                                                          : Split::Unassigned;
  records::RecordReader::Options options;
  options.skipCorrupt = true;
  options.onDamage = [&out](const records::RecordDamage& d) {
    out.issues.push_back({d.file.string() + " @ byte " + std::to_string(d.offset), d.what});
  };
  records::RecordReader reader(shard, options);
  const fs::path dir = projectDir / "images" / "tfrecord" / core::safeFileName(shardName);
  fs::create_directories(dir);
  std::string payload;
  std::int64_t index = 0;
  while ((limit <= 0 || index < limit) && !stop.stop_requested()) {
    const std::int64_t offset = reader.offset();
    if (!reader.next(payload)) {
      break;
    }
    const std::string where = shard.string() + " @ byte " + std::to_string(offset);
    records::ImageExample example;
    try {
      example = records::decodeExample(payload);
    } catch (const core::Error& e) {
      out.issues.push_back({where, e.what()});
      continue;
    }
    std::string category = example.text;
    if (category.empty() && example.label >= 1 &&
        static_cast<std::size_t>(example.label) <= labelNames.size()) {
      category =
          labelNames[static_cast<std::size_t>(example.label - 1)];  // 1-based, 0 = background
    }
    if (category.empty()) {
      category = "label " + std::to_string(example.label);
    }
    try {
      category = core::normalizeCategoryPath(category);
    } catch (const core::Error& e) {
      out.issues.push_back({where, e.what()});
      continue;
    }
    char prefix[32];
    std::snprintf(prefix, sizeof prefix, "%06lld-", static_cast<long long>(index++));
    std::string base = fs::path(example.filename).stem().string();
    const fs::path file = dir / (prefix + core::safeFileName(base.empty() ? "image" : base, 80) +
                                 extensionFor(example.format));
    core::writeFileAtomic(file, example.encoded, /*durable=*/false);
    out.candidates.push_back({file, category, split});
  }
}

void extractTfRecords(const fs::path& source, const ImportSettings& settings,
                      const fs::path& projectDir, Collected& out, const std::stop_token& stop) {
  fs::path labelsFile = settings.labelsFile;
  std::vector<fs::path> shards;
  if (fs::is_directory(source)) {
    for (const auto& entry : image::sortedEntries(source, out.issues)) {
      if (fs::is_regular_file(entry) && records::isShardName(entry.filename().string())) {
        shards.push_back(entry);
      }
    }
    if (labelsFile.empty() && fs::exists(source / "labels.txt")) {
      labelsFile = source / "labels.txt";
    }
  } else {
    shards.push_back(source);
  }
  if (shards.empty()) {
    core::throwFileError(source,
                         "no TFRecord shards here (expected names like "
                         "train-00000-of-00128 or *.tfrecord)");
  }
  const auto labelNames = readLabelsFile(labelsFile);
  for (const auto& shard : shards) {
    if (stop.stop_requested()) {
      return;
    }
    extractShard(shard, labelNames, projectDir, settings.limit, out, stop);
  }
}

SourceFormat detectFormat(const fs::path& source) {
  std::error_code ec;
  if (fs::is_directory(source, ec)) {
    if (!findIdx(source, "train-images-idx3-ubyte").empty()) {
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

// Checks one chunk of candidates on `threads` threads; results keep the candidates' order.
std::vector<image::CheckedImage> checkChunk(const std::vector<Candidate>& candidates,
                                            std::size_t begin, std::size_t end, int threads,
                                            const image::ImageCheckLimits& limits,
                                            std::atomic<std::int64_t>& done, std::int64_t total,
                                            const core::ProgressFn& progress) {
  std::vector<image::CheckedImage> results(end - begin);
  std::atomic<std::size_t> next{begin};
  auto work = [&] {
    for (std::size_t i = next++; i < end; i = next++) {
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
  if (sources.empty()) {
    problems.emplace_back("sources: give at least one folder or file to import");
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
        checkCsvShape(source);
        break;
      default:
        break;
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
  ImportReport report;
  CsvListings listings;
  std::vector<DifferentLabel> differentLabels;
  for (const auto& source : settings.sources) {
    const SourceFormat format =
        settings.format == SourceFormat::Auto ? detectFormat(source) : settings.format;
    Collected collected;
    switch (format) {
      case SourceFormat::Folders: {
        image::FolderVisits visited;
        const auto splits = splitFolders(source);
        if (splits.empty()) {
          addFolderImages(source, Split::Unassigned, visited, collected, stop);
          break;
        }
        // train/, validation/, test/: each a tree of category folders, its split kept.
        for (const auto& [folder, split] : splits) {
          addFolderImages(folder, split, visited, collected, stop);
        }
        report.splitFolders = true;
        break;
      }
      case SourceFormat::Csv:
        collectCsv(source, collected, listings);
        break;
      case SourceFormat::Idx:
        extractIdx(source, catalog.projectDir(), settings.limit, collected, progress, stop);
        break;
      case SourceFormat::TfRecord:
        extractTfRecords(source, settings, catalog.projectDir(), collected, stop);
        break;
      case SourceFormat::Auto:
        break;
    }
    auto& candidates = collected.candidates;
    if (settings.limit > 0 && static_cast<std::int64_t>(candidates.size()) > settings.limit &&
        (format == SourceFormat::Folders || format == SourceFormat::Csv)) {
      candidates.resize(static_cast<std::size_t>(settings.limit));
    }
    const std::string sourceText = std::string(sourceFormatName(format)) + ":" + source.string();
    std::atomic<std::int64_t> done{0};
    const auto total = static_cast<std::int64_t>(candidates.size());
    std::size_t inserted = 0;  // candidates[0, inserted) went to the catalog
    for (std::size_t begin = 0; begin < candidates.size() && !stop.stop_requested();
         begin += kChunk) {
      const std::size_t end = std::min(candidates.size(), begin + kChunk);
      const auto checked =
          checkChunk(candidates, begin, end, threads, settings.checkLimits, done, total, progress);
      std::vector<NewImage> fresh;
      std::unordered_map<std::string, std::string> chunkHashes;
      for (std::size_t i = begin; i < end; ++i) {
        const auto& result = checked[i - begin];
        const auto& candidate = candidates[i];
        ++report.examined;
        if (!result.ok) {
          collected.issues.push_back({candidate.path.string(), result.reason});
          continue;
        }
        const std::string stored = catalog.storedPath(candidate.path);
        std::optional<std::string> sameAs;
        for (const auto& existing : catalog.imagesWithHash(result.hash)) {
          if (existing.path != stored) {
            sameAs = catalog.resolve(existing.path).string();
            break;
          }
        }
        if (!sameAs) {
          const auto [it, isNew] = chunkHashes.emplace(result.hash, candidate.path.string());
          if (!isNew && it->second != candidate.path.string()) {
            sameAs = it->second;
          }
        }
        if (sameAs) {
          report.duplicates.push_back({candidate.path.string(), *sameAs});
        }
        fresh.push_back(NewImage{candidate.path, result.hash, result.header.width,
                                 result.header.height, result.header.format, result.bytes,
                                 candidate.category, candidate.split, sourceText});
      }
      auto result = catalog.insertImages(fresh);
      report.added += result.added;
      report.alreadyPresent += result.alreadyPresent;
      differentLabels.insert(differentLabels.end(), result.differentLabels.begin(),
                             result.differentLabels.end());
      inserted = end;
    }
    // Files this import wrote into the project (IDX and TFRecord sources are extracted to
    // images/) but did not get to add before a stop: removed, so that none is left orphaned.
    if (format == SourceFormat::Idx || format == SourceFormat::TfRecord) {
      for (std::size_t i = inserted; i < candidates.size(); ++i) {
        std::error_code ec;
        if (fs::remove(candidates[i].path, ec)) {
          ++report.extractedRemoved;
        }
      }
    }
    catalog.recordImportIssues(collected.issues, sourceText);
    report.skipped.insert(report.skipped.end(), collected.issues.begin(), collected.issues.end());
  }
  // Known images listed with another category: kept as they are, or relabeled in one edit.
  if (settings.relabel && !differentLabels.empty()) {
    std::vector<std::pair<std::int64_t, std::string>> changes;
    for (const auto& d : differentLabels) {
      changes.emplace_back(d.imageId, d.listed);
    }
    report.relabelEdit = catalog.relabelEach(changes);
  }
  report.differentLabels = std::move(differentLabels);
  report.cancelled = stop.stop_requested();
  if (!report.cancelled) {
    assignSplits(catalog,
                 SplitSettings{settings.validationFraction, settings.seed, settings.resplit});
  }
  report.categories = static_cast<std::int64_t>(catalog.categories().size());
  report.train = catalog.imageCount(std::nullopt, Split::Train);
  report.validation = catalog.imageCount(std::nullopt, Split::Validation);
  report.test = catalog.imageCount(std::nullopt, Split::Test);
  return report;
}

}  // namespace taxon::project
