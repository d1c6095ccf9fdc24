#include "project/Catalog.hpp"

#include <algorithm>
#include <map>

#include "core/Error.hpp"
#include "project/Sqlite.hpp"

namespace taxon::project {

namespace fs = std::filesystem;

namespace {

// 1: the first catalog. 2: edits also record category edits (create, rename, delete) for undo.
// 3: category_counts, the number of images per category and split, kept by triggers.
// 4: suggestions, a model's top 5 for each image (`taxon suggest`), and the picks of active
// learning. 5: split_history, the split changes of an edit (resolving duplicates), for undo.
constexpr int kSchemaVersion = 5;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS categories (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  path TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  deleted_at TEXT
);
CREATE TABLE IF NOT EXISTS images (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  path TEXT NOT NULL UNIQUE,
  hash TEXT NOT NULL,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL,
  format TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  category_id INTEGER REFERENCES categories(id),
  split TEXT NOT NULL DEFAULT 'unassigned'
    CHECK (split IN ('unassigned', 'train', 'validation', 'test')),
  source TEXT NOT NULL DEFAULT '',
  added_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX IF NOT EXISTS images_by_category ON images(category_id, split);
CREATE INDEX IF NOT EXISTS images_by_hash ON images(hash);
CREATE TABLE IF NOT EXISTS edits (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'undone', 'discarded')),
  deleted_category_id INTEGER,
  category_id INTEGER,
  old_path TEXT,
  new_path TEXT
);
CREATE TABLE IF NOT EXISTS label_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  edit_id INTEGER NOT NULL REFERENCES edits(id),
  image_id INTEGER NOT NULL REFERENCES images(id),
  old_category_id INTEGER,
  new_category_id INTEGER,
  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX IF NOT EXISTS label_history_by_edit ON label_history(edit_id);
-- The split changes of an edit (an edit may change categories, splits or both).
CREATE TABLE IF NOT EXISTS split_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  edit_id INTEGER NOT NULL REFERENCES edits(id),
  image_id INTEGER NOT NULL REFERENCES images(id),
  old_split TEXT NOT NULL,
  new_split TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS split_history_by_edit ON split_history(edit_id);
-- Images per (category, split), 0 standing for no category, kept up to date by the triggers
-- below on every insert, relabel and split change, so that the tree, the grid and `taxon info`
-- read a few thousand rows instead of counting a million images (0.3 s at 1,000,000, on every
-- edit). checkCatalog compares it with a count of the images.
CREATE TABLE IF NOT EXISTS category_counts (
  category_id INTEGER NOT NULL,
  split TEXT NOT NULL,
  images INTEGER NOT NULL,
  PRIMARY KEY (category_id, split)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS category_counts_insert AFTER INSERT ON images BEGIN
  INSERT INTO category_counts VALUES (coalesce(NEW.category_id, 0), NEW.split, 1)
    ON CONFLICT (category_id, split) DO UPDATE SET images = images + 1;
END;
CREATE TRIGGER IF NOT EXISTS category_counts_delete AFTER DELETE ON images BEGIN
  UPDATE category_counts SET images = images - 1
    WHERE category_id = coalesce(OLD.category_id, 0) AND split = OLD.split;
END;
CREATE TRIGGER IF NOT EXISTS category_counts_update AFTER UPDATE OF category_id, split ON images
  WHEN OLD.category_id IS NOT NEW.category_id OR OLD.split IS NOT NEW.split BEGIN
  UPDATE category_counts SET images = images - 1
    WHERE category_id = coalesce(OLD.category_id, 0) AND split = OLD.split;
  INSERT INTO category_counts VALUES (coalesce(NEW.category_id, 0), NEW.split, 1)
    ON CONFLICT (category_id, split) DO UPDATE SET images = images + 1;
END;
-- The model's suggestions: each image's latest top 5 (category ids c1..c5, scores s1..s5), with
-- the checkpoint that made them (run folder and step) and what review sorts by.
CREATE TABLE IF NOT EXISTS suggestions (
  image_id INTEGER PRIMARY KEY REFERENCES images(id),
  run TEXT NOT NULL,
  step INTEGER NOT NULL,
  c1 INTEGER, s1 REAL, c2 INTEGER, s2 REAL, c3 INTEGER, s3 REAL, c4 INTEGER, s4 REAL,
  c5 INTEGER, s5 REAL,
  margin REAL NOT NULL,
  entropy REAL NOT NULL,
  rollup TEXT,
  rollup_score REAL,
  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX IF NOT EXISTS suggestions_by_category ON suggestions(c1, s1);
CREATE INDEX IF NOT EXISTS suggestions_by_score ON suggestions(s1);
-- The unlabeled images picked to be labeled next (`taxon suggest --pick N`), in the order picked;
-- a new pick replaces the old one.
CREATE TABLE IF NOT EXISTS picks (
  image_id INTEGER PRIMARY KEY REFERENCES images(id),
  rank INTEGER NOT NULL,
  strategy TEXT NOT NULL,
  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE IF NOT EXISTS import_issues (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  path TEXT NOT NULL,
  reason TEXT NOT NULL,
  source TEXT NOT NULL,
  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
)sql";

ImageRecord readImage(const Statement& s) {
  ImageRecord r;
  r.id = s.int64(0);
  r.path = s.text(1);
  r.hash = s.text(2);
  r.width = static_cast<int>(s.int64(3));
  r.height = static_cast<int>(s.int64(4));
  r.format = s.text(5);
  r.bytes = s.int64(6);
  r.categoryId = s.isNull(7) ? 0 : s.int64(7);
  r.split = parseSplit(s.text(8)).value_or(Split::Unassigned);
  r.source = s.text(9);
  return r;
}

constexpr const char* kImageColumns =
    "id, path, hash, width, height, format, bytes, category_id, split, source";

}  // namespace

Catalog::Catalog(const fs::path& projectDir, bool create) : projectDir_(projectDir) {
  std::error_code ec;
  if (create) {
    fs::create_directories(projectDir_, ec);
    if (ec) {
      core::throwFileError(projectDir_, "cannot create the project folder: " + ec.message());
    }
  } else if (!fs::exists(projectDir_ / kFileName)) {
    core::throwFileError(projectDir_, "not a Taxon project (no " + std::string(kFileName) + ")");
  }
  projectDir_ = fs::absolute(projectDir_).lexically_normal();
  db_ = std::make_unique<Database>(projectDir_ / kFileName, create);
  Statement version(*db_, "PRAGMA user_version");
  version.step();
  const auto found = version.int64(0);
  if (found > kSchemaVersion) {
    core::throwFileError(file(), "made by a newer Taxon (catalog version " + std::to_string(found) +
                                     "); upgrade Taxon to open it");
  }
  if (found < kSchemaVersion) {
    Transaction tx(*db_);
    if (found == 1) {  // the category edits' columns (CREATE TABLE IF NOT EXISTS keeps old tables)
      db_->exec(
          "ALTER TABLE edits ADD COLUMN category_id INTEGER;"
          "ALTER TABLE edits ADD COLUMN old_path TEXT;"
          "ALTER TABLE edits ADD COLUMN new_path TEXT;");
    }
    db_->exec(kSchema);
    if (found < 3) {  // counts of the images already there (none in a new catalog)
      db_->exec(
          "DELETE FROM category_counts;"
          "INSERT INTO category_counts SELECT coalesce(category_id, 0), split, count(*) "
          "FROM images GROUP BY 1, 2;");
    }
    db_->exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
    tx.commit();
  }
}

Catalog::~Catalog() = default;

fs::path Catalog::resolve(const std::string& storedPath) const {
  const fs::path p(storedPath);
  return p.is_absolute() ? p : projectDir_ / p;
}

std::string Catalog::storedPath(const fs::path& path) const {
  const fs::path absolute = fs::absolute(path).lexically_normal();
  const fs::path relative = absolute.lexically_relative(projectDir_);
  if (!relative.empty() && *relative.begin() != "..") {
    return relative.string();
  }
  return absolute.string();
}

// --- images -------------------------------------------------------------------------------

InsertResult Catalog::insertImages(const std::vector<NewImage>& images) {
  InsertResult result;
  Transaction tx(*db_);
  Statement insert(*db_,
                   "INSERT OR IGNORE INTO images(path, hash, width, height, format, bytes, "
                   "category_id, split, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  std::map<std::string, std::int64_t> categoryIds;
  Statement known(*db_,
                  "SELECT images.id, categories.path FROM images LEFT JOIN categories ON "
                  "categories.id = images.category_id WHERE images.path = ?");
  for (const auto& image : images) {
    // A known image is left as it is (and creates no category); a different label is reported.
    const std::string stored = storedPath(image.path);
    known.bind(1, stored);
    if (known.step()) {
      // A listing without a label never contradicts a label the image has.
      const std::string current = known.isNull(1) ? std::string() : known.text(1);
      if (current != image.categoryPath && !image.categoryPath.empty()) {
        result.differentLabels.push_back(
            {known.int64(0), image.path.string(), current, image.categoryPath});
      }
      known.reset();
      ++result.alreadyPresent;
      continue;
    }
    known.reset();
    std::optional<std::int64_t> categoryId;
    if (!image.categoryPath.empty()) {
      auto it = categoryIds.find(image.categoryPath);
      if (it == categoryIds.end()) {
        it = categoryIds.emplace(image.categoryPath, ensureCategory(image.categoryPath)).first;
      }
      categoryId = it->second;
    }
    insert.bind(1, stored)
        .bind(2, image.hash)
        .bind(3, image.width)
        .bind(4, image.height)
        .bind(5, image.format)
        .bind(6, image.bytes)
        .bind(7, categoryId)
        .bind(8, splitName(image.split))
        .bind(9, image.source);
    insert.run();
    if (db_->changes() > 0) {
      ++result.added;
    } else {
      ++result.alreadyPresent;
    }
  }
  tx.commit();
  return result;
}

std::optional<ImageRecord> Catalog::image(std::int64_t id) {
  Statement find(*db_, std::string("SELECT ") + kImageColumns + " FROM images WHERE id = ?");
  find.bind(1, id);
  if (!find.step()) {
    return std::nullopt;
  }
  return readImage(find);
}

std::optional<ImageRecord> Catalog::imageByPath(const fs::path& path) {
  Statement find(*db_, std::string("SELECT ") + kImageColumns + " FROM images WHERE path = ?");
  find.bind(1, storedPath(path));
  if (!find.step()) {
    return std::nullopt;
  }
  return readImage(find);
}

namespace {

// " WHERE category_id = ?1 AND split = ?2" with only the filters given: a filter written as
// "(?1 IS NULL OR category_id = ?1)" would keep SQLite from using images_by_category, and a
// category of a million-image catalog would be a full scan.
// `images` is the table filtered: images stores no category as NULL, category_counts as 0.
std::string imageFilter(std::optional<std::int64_t> categoryId, std::optional<Split> split,
                        bool images = true) {
  const std::string category = categoryId && *categoryId == kUnlabeled && images
                                   ? "(category_id IS NULL AND ?1 = 0)"
                                   : "category_id = ?1";
  if (categoryId && split) {
    return " WHERE " + category + " AND split = ?2";
  }
  if (categoryId) {
    return " WHERE " + category;
  }
  if (split) {
    return " WHERE split = ?2";
  }
  return "";
}

void bindImageFilter(Statement& query, std::optional<std::int64_t> categoryId,
                     std::optional<Split> split) {
  if (categoryId) {
    query.bind(1, *categoryId);
  }
  if (split) {
    query.bind(2, splitName(*split));
  }
}

}  // namespace

std::vector<ImageRecord> Catalog::images(std::optional<std::int64_t> categoryId,
                                         std::optional<Split> split, std::int64_t limit,
                                         std::int64_t offset) {
  Statement query(*db_, std::string("SELECT ") + kImageColumns + " FROM images" +
                            imageFilter(categoryId, split) + " ORDER BY id LIMIT ?3 OFFSET ?4");
  bindImageFilter(query, categoryId, split);
  query.bind(3, limit).bind(4, offset);
  std::vector<ImageRecord> out;
  while (query.step()) {
    out.push_back(readImage(query));
  }
  return out;
}

std::int64_t Catalog::imageCount(std::optional<std::int64_t> categoryId,
                                 std::optional<Split> split) {
  Statement query(*db_, "SELECT coalesce(sum(images), 0) FROM category_counts" +
                            imageFilter(categoryId, split, /*images=*/false));
  bindImageFilter(query, categoryId, split);
  query.step();
  return query.int64(0);
}

std::vector<ImageRecord> Catalog::imagesWithHash(std::string_view hash) {
  Statement query(
      *db_, std::string("SELECT ") + kImageColumns + " FROM images WHERE hash = ? ORDER BY id");
  query.bind(1, hash);
  std::vector<ImageRecord> out;
  while (query.step()) {
    out.push_back(readImage(query));
  }
  return out;
}

std::vector<bool> Catalog::hasPaths(const std::vector<std::string>& storedPaths) {
  Statement query(*db_, "SELECT 1 FROM images WHERE path = ?");
  std::vector<bool> out;
  out.reserve(storedPaths.size());
  for (const auto& path : storedPaths) {
    query.bind(1, path);
    out.push_back(query.step());
    query.reset();
  }
  return out;
}

std::vector<CategoryCounts> Catalog::countsByCategory() {
  Statement query(*db_,
                  "SELECT c.id, c.path, "
                  "coalesce(sum(n.images * (n.split = 'train')), 0), "
                  "coalesce(sum(n.images * (n.split = 'validation')), 0), "
                  "coalesce(sum(n.images * (n.split = 'test')), 0), "
                  "coalesce(sum(n.images * (n.split = 'unassigned')), 0) FROM categories c "
                  "LEFT JOIN category_counts n ON n.category_id = c.id "
                  "WHERE c.deleted_at IS NULL GROUP BY c.id ORDER BY c.path");
  std::vector<CategoryCounts> out;
  while (query.step()) {
    out.push_back(CategoryCounts{query.int64(0), query.text(1), query.int64(2), query.int64(3),
                                 query.int64(4), query.int64(5)});
  }
  return out;
}

void Catalog::setSplits(const std::vector<std::pair<std::int64_t, Split>>& splits) {
  Transaction tx(*db_);
  Statement update(*db_, "UPDATE images SET split = ? WHERE id = ?");
  for (const auto& [id, split] : splits) {
    update.bind(1, splitName(split)).bind(2, id).run();
  }
  tx.commit();
}

void Catalog::recordImportIssues(const std::vector<ImportIssue>& issues, std::string_view source) {
  Transaction tx(*db_);
  Statement insert(*db_, "INSERT INTO import_issues(path, reason, source) VALUES (?, ?, ?)");
  for (const auto& issue : issues) {
    insert.bind(1, issue.path).bind(2, issue.reason).bind(3, source).run();
  }
  tx.commit();
}

std::vector<ImportIssue> Catalog::importIssues(std::int64_t limit) {
  Statement q(*db_, "SELECT path, reason FROM import_issues ORDER BY id DESC LIMIT ?");
  q.bind(1, limit);
  std::vector<ImportIssue> out;
  while (q.step()) {
    out.push_back(ImportIssue{q.text(0), q.text(1)});
  }
  return out;
}

}  // namespace taxon::project
