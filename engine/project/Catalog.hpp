// A project's catalog: the SQLite file `taxon.sqlite` in the project folder (WAL mode).
// Categories have hierarchical names, path segments joined by " > " ("Women > Shoes > Sneakers"),
// and stable ids that are never reused. Images have a path (relative to the project folder when
// inside it), a content hash, their size, a category, a split and the source they came from.
// Every label change and category edit is recorded in a history grouped into edits, which gives
// undo and redo and is committed before the call returns (synchronous=FULL), so no edit is lost if
// the process dies a moment later.
//
// One Catalog object per thread; several processes may open the same project (SQLite locking).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/CategoryPath.hpp"
#include "core/Error.hpp"
#include "project/Split.hpp"

namespace taxon::project {

class Database;

struct Category {
  std::int64_t id = 0;
  std::string path;
};

struct ImageRecord {
  std::int64_t id = 0;
  std::string path;  // as stored: relative to the project folder, or absolute outside it
  std::string hash;  // content hash (XXH3-128, hex)
  int width = 0;
  int height = 0;
  std::string format;  // "JPEG", "PNG", ...
  std::int64_t bytes = 0;
  std::int64_t categoryId = 0;  // 0: no category
  Split split = Split::Unassigned;
  std::string source;  // where it was imported from
};

struct NewImage {
  std::filesystem::path path;  // absolute, or relative to the project folder
  std::string hash;
  int width = 0;
  int height = 0;
  std::string format;
  std::int64_t bytes = 0;
  std::string categoryPath;  // created if missing; empty: no category
  Split split = Split::Unassigned;
  std::string source;
};

// An image the catalog already had, listed again with another category.
struct DifferentLabel {
  std::int64_t imageId = 0;
  std::string path;
  std::string current;  // its category now ("" for none)
  std::string listed;   // the category the import gives it
};

struct InsertResult {
  std::int64_t added = 0;
  std::int64_t alreadyPresent = 0;              // same path already in the catalog (left as it was)
  std::vector<DifferentLabel> differentLabels;  // of those, the ones listed with another category
};

struct LabelChange {
  std::int64_t editId = 0;
  std::int64_t imageId = 0;
  std::int64_t oldCategoryId = 0;
  std::int64_t newCategoryId = 0;
  std::string at;  // UTC, ISO 8601
  bool undone = false;
};

// One edit of the history, as undo or redo would replay it.
struct EditSummary {
  std::int64_t id = 0;
  // relabel, accept, merge, create-category, rename-category, delete-category,
  // resolve-duplicates
  std::string kind;
  std::int64_t images = 0;  // images it relabels or moves to another split
  std::string at;           // UTC, ISO 8601
};

// One image's new category and/or split in Catalog::changeImages; nullopt leaves it as it is.
struct ImageChange {
  std::int64_t imageId = 0;
  std::optional<std::int64_t> categoryId;  // 0: no category
  std::optional<Split> split;
};

struct CategoryCounts {
  std::int64_t categoryId = 0;
  std::string path;
  std::int64_t train = 0, validation = 0, test = 0, unassigned = 0;
  std::int64_t total() const { return train + validation + test + unassigned; }
};

using ImportIssue = core::FileIssue;

// A model's suggestion for one image (`taxon suggest`): its best categories with their softmax
// scores, from the checkpoint `run` at `step`. An image keeps the latest suggestion made for it.
struct Suggestion {
  std::int64_t imageId = 0;
  std::string run;  // the checkpoint folder (absolute)
  std::int64_t step = 0;
  std::vector<std::pair<std::int64_t, double>> top;  // category id, score; best first (up to 5)
  double margin = 0.0;                               // top-1 score minus top-2 score
  double entropy = 0.0;                              // of the whole distribution, in nats
  // When no leaf is confident and the leading ones share a parent: that parent's path and the
  // summed score of its leaves (infer/Rollup.hpp); empty otherwise.
  std::string rollup;
  double rollupScore = 0.0;
  double score() const { return top.empty() ? 0.0 : top.front().second; }
  std::int64_t categoryId() const { return top.empty() ? 0 : top.front().first; }
};

// Which suggestions to list, and in which order.
struct SuggestionQuery {
  enum class Order { Score, Margin, Entropy };
  // Unlabeled: images without a category. Disagreements: labeled images whose top suggestion is
  // another category (with minScore: the ones the model confidently contradicts). All: both.
  enum class Subset { Unlabeled, Disagreements, All };
  Subset subset = Subset::Unlabeled;
  std::vector<std::int64_t> categoryIds;  // the top suggestion is one of these; empty: any
  double minScore = 0.0;                  // top-1 score at least this
  double maxMargin = 1.0;                 // top-1 minus top-2 at most this (the unsure ones)
  double minEntropy = 0.0;                // entropy of the top 5 at least this (the uncertain)
  Order order = Order::Score;
  bool ascending = false;  // false: highest first
  std::int64_t limit = -1;
  std::int64_t offset = 0;
};

// The category id of an image without a category (an unlabeled one): in ImageRecord, and as the
// filter of images() and imageCount().
inline constexpr std::int64_t kUnlabeled = 0;

class Catalog {
 public:
  static constexpr const char* kFileName = "taxon.sqlite";

  // Opens the project in `projectDir`; with `create`, makes the folder and the catalog if
  // missing. Throws core::Error when it is not a Taxon project (or is newer than this build).
  Catalog(const std::filesystem::path& projectDir, bool create);
  ~Catalog();
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  const std::filesystem::path& projectDir() const { return projectDir_; }
  std::filesystem::path file() const { return projectDir_ / kFileName; }
  // The file an image path refers to (relative paths are inside the project folder).
  std::filesystem::path resolve(const std::string& storedPath) const;
  // How a path is stored: relative when it lies inside the project folder.
  std::string storedPath(const std::filesystem::path& path) const;

  // --- categories ---
  std::int64_t ensureCategory(std::string_view path);
  std::optional<Category> findCategory(std::string_view path);
  std::optional<Category> category(std::int64_t id);
  std::vector<Category> categories();  // sorted by path
  // Creates a category as an undoable edit; throws core::Error when it exists. (ensureCategory
  // makes categories on the way, for imports and relabels, without an edit of their own.)
  std::int64_t createCategory(std::string_view path);
  // Renames (an undoable edit); the new path must not exist yet (merge instead).
  void renameCategory(std::int64_t id, std::string_view newPath);
  // Moves every image of `from` to `into` (one undoable edit) and deletes `from`.
  std::int64_t mergeCategories(std::int64_t from, std::int64_t into);
  // Deletes an empty category (an undoable edit); a category with images needs mergeCategories.
  void deleteCategory(std::int64_t id);

  // --- images ---
  InsertResult insertImages(const std::vector<NewImage>& images);
  std::optional<ImageRecord> image(std::int64_t id);
  std::optional<ImageRecord> imageByPath(const std::filesystem::path& path);
  // Images in id order, optionally of one category (kUnlabeled: the unlabeled ones) and/or split;
  // `limit` < 0 means all.
  std::vector<ImageRecord> images(std::optional<std::int64_t> categoryId = std::nullopt,
                                  std::optional<Split> split = std::nullopt,
                                  std::int64_t limit = -1, std::int64_t offset = 0);
  // From the kept counts (category_counts): a few rows read, whatever the number of images.
  // kUnlabeled counts the unlabeled images.
  std::int64_t imageCount(std::optional<std::int64_t> categoryId = std::nullopt,
                          std::optional<Split> split = std::nullopt);
  std::vector<ImageRecord> imagesWithHash(std::string_view hash);
  // For each path (as storedPath gives it), whether the catalog has an image there.
  std::vector<bool> hasPaths(const std::vector<std::string>& storedPaths);
  std::vector<CategoryCounts> countsByCategory();
  void setSplits(const std::vector<std::pair<std::int64_t, Split>>& splits);

  // --- labels: every change is one undoable edit (so are the category edits above) ---
  // Gives the images a new category; returns the edit id (0 when nothing changed).
  std::int64_t relabel(const std::vector<std::int64_t>& imageIds, std::int64_t categoryId);
  // Gives each image its category path (created if missing), all in one edit; returns the edit
  // id (0 when nothing changed).
  std::int64_t relabelEach(const std::vector<std::pair<std::int64_t, std::string>>& changes);
  // Gives images new categories and/or splits, all in one undoable edit of `kind`
  // ("resolve-duplicates"); returns the edit id (0 when nothing changed). Throws core::Error
  // naming an image or category that does not exist, changing nothing.
  std::int64_t changeImages(const std::vector<ImageChange>& changes, std::string_view kind);
  bool canUndo();
  bool canRedo();
  // The edit undo (forward false) or redo (true) would replay next; nothing when there is none.
  std::optional<EditSummary> nextEdit(bool forward);
  // Reverts the latest edit that is not undone; false when there is none. Throws core::Error
  // (changing nothing) when a category edit can no longer be reverted: undoing the creation of
  // a category that holds images since, or a rename whose old name was taken since.
  bool undo();
  // Re-applies the edit undone last; false when there is none (a new edit clears redo).
  bool redo();
  std::vector<LabelChange> history(std::int64_t limit = 100);

  // --- the model's suggestions (`taxon suggest`, review, bulk accept) ---
  // Stores them (replacing an image's earlier one) in one transaction.
  void storeSuggestions(const std::vector<Suggestion>& suggestions);
  std::optional<Suggestion> suggestion(std::int64_t imageId);
  // Images (unlabeled ones, or all) in id order that have no suggestion from `run` at `step`.
  std::vector<std::int64_t> imagesToSuggest(bool unlabeledOnly, const std::string& run,
                                            std::int64_t step);
  // The suggestions `query` lists; a suggestion whose top category was deleted since is left out
  // (of these, of the count and of accept).
  std::vector<Suggestion> suggestions(const SuggestionQuery& query);
  std::int64_t suggestionCount(const SuggestionQuery& query);
  // Gives every image that `query` lists its top suggestion, as one undoable edit ("accept");
  // returns the edit id (0 when nothing changed). The limit and order of the query apply.
  std::int64_t acceptSuggestions(const SuggestionQuery& query);
  // Active learning: marks `imageIds` (in order) as the images to label next, replacing the
  // previous pick; picked() lists those still unlabeled, in order.
  void storePick(const std::vector<std::int64_t>& imageIds, std::string_view strategy);
  std::vector<std::int64_t> picked();
  // Why each of `categories` (a model's category names) is not a category of the project now:
  // renamed (to what), merged (into what), deleted, or never there. Empty when all are.
  std::vector<std::string> missingCategories(const std::vector<std::string>& categories);

  // --- the import report ---
  void recordImportIssues(const std::vector<ImportIssue>& issues, std::string_view source);
  std::vector<ImportIssue> importIssues(std::int64_t limit = 1000);

 private:
  bool replayEdit(bool forward);  // undo (false) or redo (true) one edit
  void replayCategoryEdit(const std::string& kind, std::int64_t id, const std::string& oldPath,
                          const std::string& newPath, bool forward);
  void recordCategoryEdit(std::string_view kind, std::int64_t categoryId,
                          const std::string& oldPath, const std::string& newPath);
  // Gives the category `path`, moving a deleted category's claim on the name out of the way;
  // throws core::Error when a live category has it.
  void setCategoryPath(std::int64_t id, const std::string& path);
  // One image's move in an edit (category ids; 0: none).
  struct LabelMove {
    std::int64_t imageId = 0;
    std::int64_t oldCategoryId = 0;
    std::int64_t newCategoryId = 0;
  };
  // Moves each image to its category id (0: none) as one edit of `kind` (relabel, accept), inside
  // the caller's transaction; returns the edit id, 0 when nothing changed.
  std::int64_t relabelTo(const std::vector<std::pair<std::int64_t, std::int64_t>>& targets,
                         std::string_view kind = "relabel");
  // One image's split change in an edit.
  struct SplitMove {
    std::int64_t imageId = 0;
    Split oldSplit = Split::Unassigned;
    Split newSplit = Split::Unassigned;
  };
  // Records an edit of `kind` and applies its moves (none for a category edit).
  std::int64_t recordEdit(const std::vector<LabelMove>& moves, std::string_view kind,
                          const std::vector<SplitMove>& splitMoves = {});

  std::filesystem::path projectDir_;
  std::unique_ptr<Database> db_;
};

}  // namespace taxon::project
