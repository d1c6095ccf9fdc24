// The feature vectors of a project's images under one checkpoint: PROJECT/embeddings/NAME/ with
//
//   meta.json     what the vectors are (run, step, length) and how many rows are committed
//   vectors.f16   one row per image: its pooled features, scaled to unit length, as float16
//   ids.i64       the catalog image id of each row (int64, little-endian)
//
// Rows are appended in batches: the two data files first (flushed to disk), then meta.json
// atomically with the new row count, which is the commit. Rows past the committed count (a
// process killed mid-batch) are cut off when the store is opened for writing again, so `taxon
// embed` resumes where the last commit left it. Readers map vectors.f16 into memory.
//
//   hnsw.bin      from 20,000 rows: a graph index (hnswlib's HNSW) over the first index_rows rows,
//                 its size and CRC-32C in meta.json; rows past it are searched exactly
//
// Float16 and not PCA, measured (bench/similar, Fashion-MNIST, 512 features): float16 keeps 97.0 %
// of float32's 12 nearest neighbours, PCA to 256, 128 and 64 components 95.9, 95.5 and 93.6 %;
// PCA also needs a fitted basis before the first row can be written, which defeats incremental
// embedding. hnswlib and not FAISS: see the README's "Similar images".
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/Progress.hpp"

namespace taxon::similar {

struct EmbeddingMeta {
  std::string run;  // the checkpoint's run folder, absolute
  std::int64_t step = 0;
  std::int64_t dim = 0;   // floats a row
  std::int64_t rows = 0;  // committed rows
  // The graph index: rows it covers (0: none), its file's size and CRC-32C.
  std::int64_t indexRows = 0;
  std::uint64_t indexBytes = 0;
  std::uint32_t indexCrc = 0;
};

// From this many rows `taxon embed` keeps a graph index: exact search takes about 0.2 ms per
// 1,000 rows of 512 floats on one core, so 20,000 rows are searched in about 4 ms either way.
inline constexpr std::int64_t kIndexFromRows = 20000;

// One of an image's nearest neighbours: cosine distance (1 - cosine similarity of the pooled
// features; 0 for the same picture, at most 1 since the features are not negative).
struct Neighbour {
  std::int64_t imageId = 0;
  float distance = 0.0f;
};

// The store's folder for the checkpoint of `run` at `step` within `projectDir`: embeddings/
// RUNNAME-HASH-STEP (HASH of the absolute run path tells two runs of the same name apart).
std::filesystem::path embeddingDir(const std::filesystem::path& projectDir,
                                   const std::filesystem::path& run, std::int64_t step);

class EmbeddingWriter {
 public:
  // Opens the store in `dir`, creating it when missing; cuts uncommitted rows. Throws
  // core::Error naming the file when an existing store belongs to another checkpoint or length,
  // or is damaged.
  EmbeddingWriter(const std::filesystem::path& dir, const EmbeddingMeta& meta);
  ~EmbeddingWriter();
  EmbeddingWriter(const EmbeddingWriter&) = delete;
  EmbeddingWriter& operator=(const EmbeddingWriter&) = delete;

  const EmbeddingMeta& meta() const { return meta_; }
  bool has(std::int64_t imageId) const { return known_.count(imageId) != 0; }
  // Appends the rows (each `dim` floats; scaled to unit length here) and commits them.
  void append(const std::vector<std::int64_t>& ids, const std::vector<std::vector<float>>& rows);
  // Brings the graph index up to every committed row: the rows it lacks are added to the index
  // file's graph (built anew when there is none), then the file replaces the old one and
  // meta.json records it. Returns the rows added; stops early (keeping the old index) when
  // `stop` is requested.
  std::int64_t updateIndex(const core::ProgressFn& progress = {}, std::stop_token stop = {});

 private:
  std::filesystem::path dir_;
  EmbeddingMeta meta_;
  std::unordered_map<std::int64_t, std::int64_t> known_;
};

class EmbeddingStore {
 public:
  // Maps the committed rows of the store in `dir`. Throws core::Error naming the file when it is
  // missing or damaged.
  explicit EmbeddingStore(const std::filesystem::path& dir);
  ~EmbeddingStore();
  EmbeddingStore(const EmbeddingStore&) = delete;
  EmbeddingStore& operator=(const EmbeddingStore&) = delete;

  const EmbeddingMeta& meta() const { return meta_; }
  std::int64_t rows() const { return meta_.rows; }
  const std::vector<std::int64_t>& ids() const { return ids_; }
  std::optional<std::int64_t> rowOf(std::int64_t imageId) const;
  std::vector<float> row(std::int64_t index) const;  // unit length, float32

  // The k rows nearest to `query` (any length; scaled here), nearest first: through the graph
  // index for the rows it covers (approximate: at the default breadth, 97 % of the exact 13
  // nearest at 100,000 rows in 1.2 ms, measured in the README) and by exact search over the
  // others, or over all with `exact`.
  // Rows of `exclude` are passed over.
  std::vector<Neighbour> nearest(const std::vector<float>& query, int k,
                                 std::optional<std::int64_t> exclude = std::nullopt,
                                 bool exact = false) const;
  bool indexed() const { return meta_.indexRows > 0; }
  // How widely the graph is searched (hnswlib's ef; at least 2 (k + 1) is used): wider finds
  // more of the exact neighbours, slower.
  void setSearchBreadth(int ef) { searchBreadth_ = ef; }
  // Why the index could not be used (searches then scan every row); empty when it could.
  const std::string& indexProblem() const { return indexProblem_; }

 private:
  struct Index;
  std::vector<Neighbour> scan(const std::vector<float>& unit, std::size_t want,
                              std::int64_t firstRow, std::optional<std::int64_t> exclude) const;
  struct Mapping;
  std::filesystem::path dir_;
  EmbeddingMeta meta_;
  std::vector<std::int64_t> ids_;
  std::unordered_map<std::int64_t, std::int64_t> rowOf_;
  std::unique_ptr<Mapping> vectors_;
  int searchBreadth_ = 512;
  mutable std::once_flag indexOnce_;
  mutable std::unique_ptr<Index> index_;
  mutable std::string indexProblem_;
  const Index* index() const;
};

}  // namespace taxon::similar
