// `taxon embed` and `taxon similar`: every image's pooled feature vector under a checkpoint
// (similar/EmbeddingStore.hpp), and an image's nearest neighbours among them.
//
// Incremental and resumable like `taxon suggest`: images already in the checkpoint's store are
// not run again, and rows are committed batch by batch, so a run killed at any moment loses at
// most the batch in flight; images added to the project later are embedded by the next call.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "core/Error.hpp"
#include "core/Progress.hpp"
#include "infer/Classifier.hpp"
#include "project/Split.hpp"
#include "similar/EmbeddingStore.hpp"

namespace taxon::project {
class Catalog;
}

namespace taxon::similar {

struct EmbedSettings {
  std::filesystem::path project;
  std::filesystem::path checkpointDir;  // a run folder (its newest checkpoint) or a checkpoint
  int chunk = 1024;                     // images embedded and committed together
  // From this many rows the store keeps a graph index (similar/EmbeddingStore.hpp).
  std::int64_t indexFrom = kIndexFromRows;
  infer::ClassifierSettings classifier;

  std::vector<std::string> validate() const;  // every problem at once
};

struct EmbedReport {
  std::filesystem::path store;  // the store's folder
  std::int64_t step = 0;
  std::int64_t dim = 0;
  std::int64_t considered = 0;          // images of the project
  std::int64_t alreadyDone = 0;         // already in the store
  std::int64_t embedded = 0;            // added by this call
  std::int64_t indexed = 0;             // rows added to the graph index by this call
  std::vector<core::FileIssue> failed;  // images that could not be read or decoded
  std::vector<std::string> warnings;    // damaged newer checkpoints passed over
  bool cancelled = false;
};

// Embeds the project's images that the checkpoint's store lacks. `progress` is called on the
// calling thread and the classifier's decode threads. Throws core::Error when the project or the
// checkpoint cannot be opened.
EmbedReport embed(const EmbedSettings& settings, const core::ProgressFn& progress = {},
                  std::stop_token stop = {});

struct SimilarImage {
  std::int64_t imageId = 0;
  std::filesystem::path path;  // the file
  std::string category;        // "" when unlabeled
  project::Split split = project::Split::Unassigned;
  float distance = 0.0f;
};

// The store of one checkpoint within a project, opened once for many searches (the app keeps
// one per checkpoint). One per thread (it holds a catalog connection).
class NeighbourFinder {
 public:
  // Throws core::Error when the project has no store for the checkpoint at `step` (naming the
  // `taxon embed` command that makes it) or the store is damaged.
  NeighbourFinder(const std::filesystem::path& project, const std::filesystem::path& checkpointDir,
                  std::int64_t step);
  // The store in `storeDir` (a folder of PROJECT/embeddings).
  NeighbourFinder(const std::filesystem::path& project, const std::filesystem::path& storeDir);
  ~NeighbourFinder();
  NeighbourFinder(const NeighbourFinder&) = delete;
  NeighbourFinder& operator=(const NeighbourFinder&) = delete;

  const EmbeddingStore& store() const { return *store_; }
  // The stored vector of the project's image at `path`, when it has one.
  std::optional<std::vector<float>> storedFeatures(const std::filesystem::path& path);
  // The k images nearest to `features`; the project's image at `self` (if any) is left out.
  std::vector<SimilarImage> nearest(const std::vector<float>& features, int k,
                                    const std::filesystem::path& self = {});

 private:
  std::unique_ptr<project::Catalog> catalog_;
  std::unique_ptr<EmbeddingStore> store_;
};

// The project's most recently written store (PROJECT/embeddings/*, by meta.json's time), if any:
// what the Data page searches when no checkpoint is named.
std::optional<std::filesystem::path> newestStore(const std::filesystem::path& project);

struct SimilarSettings {
  std::filesystem::path project;
  std::filesystem::path checkpointDir;
  int k = 12;
  infer::ClassifierSettings classifier;
};

// The k images of the project nearest to `image` (a file; when the catalog has it, its stored
// vector is used and it is not among its own neighbours). Throws core::Error when the store is
// missing (naming the command that makes it) or the file cannot be read.
// `warnings` gets what the user should know (an index that could not be used).
std::vector<SimilarImage> similarImages(const SimilarSettings& settings,
                                        const std::filesystem::path& image,
                                        std::vector<std::string>* warnings = nullptr);

}  // namespace taxon::similar
