#include "similar/EmbeddingStore.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <thread>

#include "core/Error.hpp"
#include "core/Files.hpp"
#include "core/JsonNumbers.hpp"
#include "records/Crc32c.hpp"

namespace taxon::similar {

namespace fs = std::filesystem;

namespace {

constexpr const char* kMetaFile = "meta.json";
constexpr const char* kVectorsFile = "vectors.f16";
constexpr const char* kIdsFile = "ids.i64";
constexpr const char* kIndexFile = "hnsw.bin";
constexpr const char* kFormat = "taxon-embeddings";
// Pooled features are 2,048 floats at full width; anything past this is damage.
constexpr std::int64_t kMaxDim = 1 << 20;
// The graph's shape (hnswlib's defaults are 16 and 200): 100,000 rows of 512 floats build in
// 11 s on two cores (FAISS's HNSW: 44 s); bench/similar and the README have the figures.
constexpr std::size_t kLinks = 16;
constexpr std::size_t kBuildBreadth = 100;

EmbeddingMeta readMeta(const fs::path& dir) {
  const auto path = dir / kMetaFile;
  try {
    const auto json = nlohmann::json::parse(core::readFile(path));
    if (json.value("format", std::string()) != kFormat) {
      core::throwFileError(path, "is not a Taxon embedding store");
    }
    EmbeddingMeta meta;
    meta.run = json.at("run").get<std::string>();
    meta.step = core::wholeField<std::int64_t>(json, "step");
    meta.dim = core::wholeField<std::int64_t>(json, "dim");
    meta.rows = core::wholeField<std::int64_t>(json, "rows");
    meta.indexRows = core::wholeFieldOr<std::int64_t>(json, "index_rows", 0);
    meta.indexBytes = core::wholeFieldOr<std::uint64_t>(json, "index_bytes", 0);
    meta.indexCrc = core::wholeFieldOr<std::uint32_t>(json, "index_crc32c", 0);
    if (meta.indexRows < 0 || meta.indexRows > meta.rows) {
      core::throwFileError(path, "indexes " + std::to_string(meta.indexRows) + " of its " +
                                     std::to_string(meta.rows) + " rows");
    }
    if (meta.dim < 1 || meta.dim > kMaxDim || meta.rows < 0) {
      core::throwFileError(path, "has a length outside 1 to " + std::to_string(kMaxDim) +
                                     " or a negative row count");
    }
    return meta;
  } catch (const nlohmann::json::exception& e) {
    core::throwFileError(path, std::string("is damaged: ") + e.what());
  }
}

void writeMeta(const fs::path& dir, const EmbeddingMeta& meta) {
  nlohmann::json json{{"format", kFormat},     {"version", 1},      {"run", meta.run},
                      {"step", meta.step},     {"dim", meta.dim},   {"rows", meta.rows},
                      {"encoding", "float16"}, {"normalized", true}};
  if (meta.indexRows > 0) {
    json["index"] = "hnswlib";
    json["index_rows"] = meta.indexRows;
    json["index_bytes"] = meta.indexBytes;
    json["index_crc32c"] = meta.indexCrc;
  }
  core::writeFileAtomic(dir / kMetaFile, json.dump(2) + "\n");
}

// A file descriptor that closes itself.
struct Fd {
  int fd = -1;
  Fd(const fs::path& path, int flags) : fd(::open(path.c_str(), flags | O_CLOEXEC, 0644)) {
    if (fd < 0) {
      core::throwFileError(path, "cannot be opened: " + core::errnoText(errno));
    }
  }
  ~Fd() { ::close(fd); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

std::uint64_t fileSize(const fs::path& path) {
  std::error_code error;
  const auto size = fs::file_size(path, error);
  if (error) {
    core::throwFileError(path, "cannot be read: " + error.message());
  }
  return size;
}

// Appends `bytes` to `path` from byte `at` (the committed end) and flushes it to disk.
void appendAt(const fs::path& path, std::uint64_t at, const void* bytes, std::size_t size) {
  Fd file(path, O_WRONLY | O_CREAT);
  if (::ftruncate(file.fd, static_cast<off_t>(at)) != 0) {
    core::throwFileError(path, "cannot be cut to its committed rows: " + core::errnoText(errno));
  }
  const auto* p = static_cast<const char*>(bytes);
  std::size_t done = 0;
  while (done < size) {
    const auto n = ::pwrite(file.fd, p + done, size - done, static_cast<off_t>(at + done));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      core::throwFileError(path, "cannot be written: " + core::errnoText(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(file.fd) != 0) {
    core::throwFileError(path, "cannot be flushed to disk: " + core::errnoText(errno));
  }
}

std::vector<std::int64_t> readIds(const fs::path& dir, std::int64_t rows) {
  const auto path = dir / kIdsFile;
  // Compared by division: rows * 8 can overflow for a damaged count.
  if (rows > 0 && fileSize(path) / sizeof(std::int64_t) < static_cast<std::uint64_t>(rows)) {
    core::throwFileError(path, "is shorter than its " + std::to_string(rows) +
                                   " committed rows: the store is damaged; delete its folder "
                                   "and embed again");
  }
  std::vector<std::int64_t> ids(static_cast<std::size_t>(rows));
  const auto needed = static_cast<std::size_t>(rows) * sizeof(std::int64_t);
  if (rows > 0) {
    Fd file(path, O_RDONLY);
    if (::pread(file.fd, ids.data(), needed, 0) != static_cast<ssize_t>(needed)) {
      core::throwFileError(path, "cannot be read: " + core::errnoText(errno));
    }
  }
  return ids;
}

// Unit length (a zero vector stays zero).
void normalize(std::vector<float>& v) {
  double sum = 0.0;
  for (const float x : v) {
    sum += static_cast<double>(x) * x;
  }
  if (sum > 0.0) {
    const auto scale = static_cast<float>(1.0 / std::sqrt(sum));
    for (auto& x : v) {
      x *= scale;
    }
  }
}

}  // namespace

fs::path embeddingDir(const fs::path& projectDir, const fs::path& run, std::int64_t step) {
  const auto absolute = fs::absolute(run).lexically_normal();
  const auto name =
      absolute.has_filename() ? absolute.filename() : absolute.parent_path().filename();
  char hash[16];
  std::snprintf(hash, sizeof hash, "%08x",
                static_cast<unsigned>(std::hash<std::string>{}(absolute.string()) & 0xffffffffu));
  return projectDir / "embeddings" /
         (core::safeFileName(name.string(), 60) + "-" + hash + "-step" + std::to_string(step));
}

EmbeddingWriter::EmbeddingWriter(const fs::path& dir, const EmbeddingMeta& meta)
    : dir_(dir), meta_(meta) {
  std::error_code error;
  if (fs::exists(dir / kMetaFile, error)) {
    const auto found = readMeta(dir);
    if (found.run != meta.run || found.step != meta.step || found.dim != meta.dim) {
      core::throwFileError(dir / kMetaFile, "holds the features of " + found.run + " at step " +
                                                std::to_string(found.step) + " (" +
                                                std::to_string(found.dim) + " floats), not of " +
                                                meta.run + " at step " + std::to_string(meta.step) +
                                                " (" + std::to_string(meta.dim) + ")");
    }
    meta_ = found;
    const auto ids = readIds(dir, found.rows);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      known_.emplace(ids[i], static_cast<std::int64_t>(i));
    }
  } else {
    fs::create_directories(dir, error);
    if (error) {
      core::throwFileError(dir, "cannot be created: " + error.message());
    }
    meta_.rows = 0;
    writeMeta(dir, meta_);
  }
}

EmbeddingWriter::~EmbeddingWriter() = default;

void EmbeddingWriter::append(const std::vector<std::int64_t>& ids,
                             const std::vector<std::vector<float>>& rows) {
  if (ids.size() != rows.size()) {
    throw core::Error("embeddings: " + std::to_string(ids.size()) + " ids for " +
                      std::to_string(rows.size()) + " rows");
  }
  if (ids.empty()) {
    return;
  }
  const auto dim = static_cast<std::size_t>(meta_.dim);
  cv::Mat floats(static_cast<int>(rows.size()), static_cast<int>(dim), CV_32F);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].size() != dim) {
      throw core::Error("embeddings: a row of " + std::to_string(rows[i].size()) +
                        " floats in a store of " + std::to_string(dim));
    }
    auto unit = rows[i];
    normalize(unit);
    std::memcpy(floats.ptr<float>(static_cast<int>(i)), unit.data(), dim * sizeof(float));
  }
  cv::Mat halves;
  floats.convertTo(halves, CV_16F);
  const auto committed = static_cast<std::uint64_t>(meta_.rows);
  appendAt(dir_ / kVectorsFile, committed * dim * 2, halves.data, rows.size() * dim * 2);
  appendAt(dir_ / kIdsFile, committed * sizeof(std::int64_t), ids.data(),
           ids.size() * sizeof(std::int64_t));
  auto next = meta_;
  next.rows += static_cast<std::int64_t>(ids.size());
  writeMeta(dir_, next);  // the commit
  for (std::size_t i = 0; i < ids.size(); ++i) {
    known_.emplace(ids[i], meta_.rows + static_cast<std::int64_t>(i));
  }
  meta_ = next;
}

// The graph index over unit rows: inner product space, so hnswlib's distance is 1 - cosine.
struct EmbeddingStore::Index {
  explicit Index(std::size_t dim) : space(dim) {}
  hnswlib::InnerProductSpace space;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> graph;
};

namespace {

std::uint32_t fileCrc(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> buffer(1 << 20);
  std::uint32_t crc = 0;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    crc = records::crc32c(buffer.data(), static_cast<std::size_t>(in.gcount()), crc);
  }
  return crc;
}

}  // namespace

std::int64_t EmbeddingWriter::updateIndex(const core::ProgressFn& progress, std::stop_token stop) {
  if (meta_.indexRows == meta_.rows) {
    return 0;
  }
  const EmbeddingStore rows(dir_);
  const auto dim = static_cast<std::size_t>(meta_.dim);
  hnswlib::InnerProductSpace space(dim);
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> graph;
  const auto file = dir_ / kIndexFile;
  std::int64_t first = 0;
  if (meta_.indexRows > 0) {
    // The old index, checked before hnswlib reads it (it trusts its input).
    if (fileSize(file) != meta_.indexBytes || fileCrc(file) != meta_.indexCrc) {
      core::throwFileError(file,
                           "does not match its size and CRC-32C in meta.json: delete it "
                           "and run taxon embed again to rebuild it");
    }
    graph = std::make_unique<hnswlib::HierarchicalNSW<float>>(&space, file.string(), false,
                                                              static_cast<std::size_t>(meta_.rows));
    first = meta_.indexRows;
  } else {
    graph = std::make_unique<hnswlib::HierarchicalNSW<float>>(
        &space, static_cast<std::size_t>(meta_.rows), kLinks, kBuildBreadth);
  }
  std::atomic<std::int64_t> next{first};
  std::atomic<std::int64_t> done{0};
  const auto total = meta_.rows - first;
  {
    std::vector<std::jthread> workers;
    const auto threads = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        for (std::int64_t i; !stop.stop_requested() && (i = next++) < meta_.rows;) {
          const auto row = rows.row(i);
          graph->addPoint(row.data(), static_cast<hnswlib::labeltype>(i));
          const auto n = ++done;
          if (progress && t == 0 && (n % 1000 == 0 || n == total)) {
            progress({"index", n, total, "rows"});
          }
        }
      });
    }
  }
  if (stop.stop_requested()) {
    return 0;
  }
  if (progress) {
    progress({"index", total, total, "rows"});
  }
  const auto temporary = dir_ / (std::string(kIndexFile) + ".tmp-" + std::to_string(::getpid()));
  graph->saveIndex(temporary.string());
  {
    Fd flush(temporary, O_RDONLY);
    ::fsync(flush.fd);
  }
  auto next_meta = meta_;
  next_meta.indexRows = meta_.rows;
  next_meta.indexBytes = fileSize(temporary);
  next_meta.indexCrc = fileCrc(temporary);
  std::error_code error;
  fs::rename(temporary, file, error);
  if (error) {
    core::throwFileError(file, "cannot be replaced: " + error.message());
  }
  writeMeta(dir_, next_meta);
  meta_ = next_meta;
  return total;
}

struct EmbeddingStore::Mapping {
  void* data = MAP_FAILED;
  std::size_t size = 0;
  ~Mapping() {
    if (data != MAP_FAILED) {
      ::munmap(data, size);
    }
  }
  const std::uint16_t* halves() const { return static_cast<const std::uint16_t*>(data); }
};

EmbeddingStore::EmbeddingStore(const fs::path& dir)
    : dir_(dir), meta_(readMeta(dir)), vectors_(std::make_unique<Mapping>()) {
  ids_ = readIds(dir, meta_.rows);
  for (std::size_t i = 0; i < ids_.size(); ++i) {
    rowOf_.emplace(ids_[i], static_cast<std::int64_t>(i));
  }
  const auto path = dir / kVectorsFile;
  const auto needed = static_cast<std::uint64_t>(meta_.rows) * meta_.dim * 2;
  if (needed == 0) {
    return;
  }
  if (fileSize(path) < needed) {
    core::throwFileError(path, "is shorter than its " + std::to_string(meta_.rows) +
                                   " committed rows: the store is damaged; delete its folder "
                                   "and embed again");
  }
  Fd file(path, O_RDONLY);
  vectors_->size = static_cast<std::size_t>(needed);
  vectors_->data = ::mmap(nullptr, vectors_->size, PROT_READ, MAP_SHARED, file.fd, 0);
  if (vectors_->data == MAP_FAILED) {
    core::throwFileError(path, "cannot be mapped into memory: " + core::errnoText(errno));
  }
}

EmbeddingStore::~EmbeddingStore() = default;

// Loaded on the first search that uses it (a reader that only reads rows never pays for it).
const EmbeddingStore::Index* EmbeddingStore::index() const {
  if (meta_.indexRows == 0) {
    return nullptr;
  }
  std::call_once(indexOnce_, [this] {
    const auto file = dir_ / kIndexFile;
    std::error_code error;
    if (!fs::exists(file, error) || fileSize(file) != meta_.indexBytes ||
        fileCrc(file) != meta_.indexCrc) {
      indexProblem_ = core::fileMessage(file,
                                        "does not match its size and CRC-32C in meta.json: "
                                        "searching without it; taxon embed rebuilds it");
      return;
    }
    auto index = std::make_unique<Index>(static_cast<std::size_t>(meta_.dim));
    index->graph = std::make_unique<hnswlib::HierarchicalNSW<float>>(&index->space, file.string());
    index_ = std::move(index);
  });
  return index_.get();
}

std::optional<std::int64_t> EmbeddingStore::rowOf(std::int64_t imageId) const {
  const auto it = rowOf_.find(imageId);
  return it == rowOf_.end() ? std::nullopt : std::optional(it->second);
}

std::vector<float> EmbeddingStore::row(std::int64_t index) const {
  if (index < 0 || index >= meta_.rows) {
    throw core::Error("embeddings: row " + std::to_string(index) + " of " +
                      std::to_string(meta_.rows));
  }
  const cv::Mat halves(1, static_cast<int>(meta_.dim), CV_16F,
                       const_cast<std::uint16_t*>(vectors_->halves() + index * meta_.dim));
  cv::Mat floats;
  halves.convertTo(floats, CV_32F);
  return {floats.ptr<float>(), floats.ptr<float>() + meta_.dim};
}

std::vector<Neighbour> EmbeddingStore::nearest(const std::vector<float>& query, int k,
                                               std::optional<std::int64_t> exclude,
                                               bool exact) const {
  if (static_cast<std::int64_t>(query.size()) != meta_.dim) {
    throw core::Error("embeddings: a query of " + std::to_string(query.size()) +
                      " floats for vectors of " + std::to_string(meta_.dim));
  }
  auto unit = query;
  normalize(unit);
  const auto want = static_cast<std::size_t>(std::max(0, k));
  const Index* graph = exact ? nullptr : index();
  if (graph == nullptr) {
    return scan(unit, want, 0, exclude);
  }
  // The graph for the rows it covers, an exact scan for the rows committed since.
  auto found = scan(unit, want, meta_.indexRows, exclude);
  graph->graph->setEf(
      std::max<std::size_t>(static_cast<std::size_t>(searchBreadth_), 2 * (want + 1)));
  auto heap = graph->graph->searchKnn(unit.data(), want + 1);
  while (!heap.empty()) {
    const auto [distance, label] = heap.top();
    heap.pop();
    const auto id = ids_[static_cast<std::size_t>(label)];
    if (!(exclude && id == *exclude)) {
      found.push_back({id, std::max(0.0f, distance)});
    }
  }
  std::sort(found.begin(), found.end(),
            [](const Neighbour& a, const Neighbour& b) { return a.distance < b.distance; });
  if (found.size() > want) {
    found.resize(want);
  }
  return found;
}

std::vector<Neighbour> EmbeddingStore::scan(const std::vector<float>& unit, std::size_t want,
                                            std::int64_t firstRow,
                                            std::optional<std::int64_t> exclude) const {
  std::vector<float> copy = unit;
  const cv::Mat q(static_cast<int>(meta_.dim), 1, CV_32F, copy.data());
  // A max-heap on distance holding the best `want` so far.
  std::vector<Neighbour> best;
  const auto worse = [](const Neighbour& a, const Neighbour& b) { return a.distance < b.distance; };
  constexpr std::int64_t kChunk = 4096;
  cv::Mat floats, dots;
  for (std::int64_t first = firstRow; first < meta_.rows && want > 0; first += kChunk) {
    const auto count = std::min(kChunk, meta_.rows - first);
    const cv::Mat halves(static_cast<int>(count), static_cast<int>(meta_.dim), CV_16F,
                         const_cast<std::uint16_t*>(vectors_->halves() + first * meta_.dim));
    halves.convertTo(floats, CV_32F);
    cv::gemm(floats, q, 1.0, cv::noArray(), 0.0, dots);
    for (std::int64_t i = 0; i < count; ++i) {
      const auto id = ids_[static_cast<std::size_t>(first + i)];
      if (exclude && id == *exclude) {
        continue;
      }
      const Neighbour n{id, std::max(0.0f, 1.0f - dots.at<float>(static_cast<int>(i)))};
      if (best.size() < want) {
        best.push_back(n);
        std::push_heap(best.begin(), best.end(), worse);
      } else if (n.distance < best.front().distance) {
        std::pop_heap(best.begin(), best.end(), worse);
        best.back() = n;
        std::push_heap(best.begin(), best.end(), worse);
      }
    }
  }
  std::sort_heap(best.begin(), best.end(), worse);
  return best;
}

}  // namespace taxon::similar
