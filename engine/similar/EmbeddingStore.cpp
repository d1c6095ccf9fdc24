#include "similar/EmbeddingStore.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "core/Error.hpp"
#include "core/Files.hpp"
#include "core/JsonNumbers.hpp"

namespace taxon::similar {

namespace fs = std::filesystem;

namespace {

constexpr const char* kMetaFile = "meta.json";
constexpr const char* kVectorsFile = "vectors.f16";
constexpr const char* kIdsFile = "ids.i64";
constexpr const char* kFormat = "taxon-embeddings";

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
    if (meta.dim < 1 || meta.rows < 0) {
      core::throwFileError(path, "has a length below 1 or a negative row count");
    }
    return meta;
  } catch (const nlohmann::json::exception& e) {
    core::throwFileError(path, std::string("is damaged: ") + e.what());
  }
}

void writeMeta(const fs::path& dir, const EmbeddingMeta& meta) {
  const nlohmann::json json{{"format", kFormat},     {"version", 1},      {"run", meta.run},
                            {"step", meta.step},     {"dim", meta.dim},   {"rows", meta.rows},
                            {"encoding", "float16"}, {"normalized", true}};
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
  const auto needed = static_cast<std::uint64_t>(rows) * sizeof(std::int64_t);
  if (rows > 0 && fileSize(path) < needed) {
    core::throwFileError(path, "is shorter than its " + std::to_string(rows) +
                                   " committed rows: the store is damaged; delete its folder "
                                   "and embed again");
  }
  std::vector<std::int64_t> ids(static_cast<std::size_t>(rows));
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
    meta_.rows = found.rows;
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
                                               std::optional<std::int64_t> exclude) const {
  if (static_cast<std::int64_t>(query.size()) != meta_.dim) {
    throw core::Error("embeddings: a query of " + std::to_string(query.size()) +
                      " floats for vectors of " + std::to_string(meta_.dim));
  }
  auto unit = query;
  normalize(unit);
  const cv::Mat q(static_cast<int>(meta_.dim), 1, CV_32F, unit.data());
  const auto want = static_cast<std::size_t>(std::max(0, k));
  // A max-heap on distance holding the best `want` so far.
  std::vector<Neighbour> best;
  const auto worse = [](const Neighbour& a, const Neighbour& b) { return a.distance < b.distance; };
  constexpr std::int64_t kChunk = 4096;
  cv::Mat floats, dots;
  for (std::int64_t first = 0; first < meta_.rows && want > 0; first += kChunk) {
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
