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
// Float16 and not PCA: 2 bytes a dimension keep the neighbours of float32 (measured in the
// README: the 12 nearest agree on 99.9 % of places); PCA would need a fitted basis per
// checkpoint before the first row could be written, which defeats incremental embedding.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace taxon::similar {

struct EmbeddingMeta {
  std::string run;  // the checkpoint's run folder, absolute
  std::int64_t step = 0;
  std::int64_t dim = 0;   // floats a row
  std::int64_t rows = 0;  // committed rows
};

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

  // The k rows nearest to `query` (any length; scaled here), nearest first, by exact search over
  // every row. Rows of `exclude` are passed over.
  std::vector<Neighbour> nearest(const std::vector<float>& query, int k,
                                 std::optional<std::int64_t> exclude = std::nullopt) const;

 private:
  struct Mapping;
  std::filesystem::path dir_;
  EmbeddingMeta meta_;
  std::vector<std::int64_t> ids_;
  std::unordered_map<std::int64_t, std::int64_t> rowOf_;
  std::unique_ptr<Mapping> vectors_;
};

}  // namespace taxon::similar
