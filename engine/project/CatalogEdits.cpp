// The catalog's edits: categories (create, rename, merge, delete) and relabeling, each recorded in
// the edit history that undo and redo replay. The images and their splits are in Catalog.cpp.
#include <optional>
#include <string>
#include <vector>

#include "core/Error.hpp"
#include "project/Catalog.hpp"
#include "project/Sqlite.hpp"

namespace taxon::project {

namespace {

std::optional<std::int64_t> nullableId(std::int64_t id) {
  return id == 0 ? std::nullopt : std::optional<std::int64_t>(id);
}

}  // namespace

// --- categories ---------------------------------------------------------------------------

std::int64_t Catalog::ensureCategory(std::string_view rawPath) {
  const std::string path = core::normalizeCategoryPath(rawPath);
  Statement find(*db_, "SELECT id, deleted_at IS NOT NULL FROM categories WHERE path = ?");
  find.bind(1, path);
  if (find.step()) {
    const auto id = find.int64(0);
    if (find.int64(1) != 0) {
      Statement revive(*db_, "UPDATE categories SET deleted_at = NULL WHERE id = ?");
      revive.bind(1, id).run();
    }
    return id;
  }
  Statement insert(*db_, "INSERT INTO categories(path) VALUES (?)");
  insert.bind(1, path).run();
  return db_->lastInsertId();
}

std::optional<Category> Catalog::findCategory(std::string_view rawPath) {
  const std::string path = core::normalizeCategoryPath(rawPath);
  Statement find(*db_, "SELECT id FROM categories WHERE path = ? AND deleted_at IS NULL");
  find.bind(1, path);
  if (!find.step()) {
    return std::nullopt;
  }
  return Category{find.int64(0), path};
}

std::optional<Category> Catalog::category(std::int64_t id) {
  Statement find(*db_, "SELECT path FROM categories WHERE id = ? AND deleted_at IS NULL");
  find.bind(1, id);
  if (!find.step()) {
    return std::nullopt;
  }
  return Category{id, find.text(0)};
}

std::vector<Category> Catalog::categories() {
  Statement all(*db_, "SELECT id, path FROM categories WHERE deleted_at IS NULL ORDER BY path");
  std::vector<Category> out;
  while (all.step()) {
    out.push_back(Category{all.int64(0), all.text(1)});
  }
  return out;
}

std::int64_t Catalog::createCategory(std::string_view rawPath) {
  const std::string path = core::normalizeCategoryPath(rawPath);
  if (findCategory(path)) {
    throw core::Error("the category \"" + path + "\" exists already");
  }
  Transaction tx(*db_);
  const std::int64_t id = ensureCategory(path);
  recordCategoryEdit("create-category", id, "", path);
  tx.commit();
  return id;
}

void Catalog::setCategoryPath(std::int64_t id, const std::string& path) {
  Statement clash(*db_,
                  "SELECT id, deleted_at IS NOT NULL FROM categories WHERE path = ? AND id != ?");
  clash.bind(1, path).bind(2, id);
  if (clash.step()) {
    if (clash.int64(1) == 0) {
      throw core::Error("the category \"" + path + "\" exists; merge the two instead");
    }
    // A deleted category holds the name: give it a unique tombstone name.
    Statement free(*db_,
                   "UPDATE categories SET path = path || ' [deleted ' || id || ']' WHERE id = ?");
    free.bind(1, clash.int64(0)).run();
  }
  Statement rename(*db_, "UPDATE categories SET path = ? WHERE id = ?");
  rename.bind(1, path).bind(2, id).run();
}

void Catalog::renameCategory(std::int64_t id, std::string_view rawPath) {
  const std::string path = core::normalizeCategoryPath(rawPath);
  const auto current = category(id);
  if (!current) {
    throw core::Error("no category with id " + std::to_string(id));
  }
  if (current->path == path) {
    return;
  }
  Transaction tx(*db_);
  try {
    setCategoryPath(id, path);
  } catch (const core::Error&) {
    throw core::Error("cannot rename \"" + current->path + "\" to \"" + path +
                      "\": that category exists; merge the two instead");
  }
  recordCategoryEdit("rename-category", id, current->path, path);
  tx.commit();
}

void Catalog::recordCategoryEdit(std::string_view kind, std::int64_t categoryId,
                                 const std::string& oldPath, const std::string& newPath) {
  const std::int64_t edit = recordEdit({}, kind);
  Statement mark(*db_, "UPDATE edits SET category_id = ?, old_path = ?, new_path = ? WHERE id = ?");
  mark.bind(1, categoryId).bind(2, oldPath).bind(3, newPath).bind(4, edit).run();
}

std::int64_t Catalog::mergeCategories(std::int64_t from, std::int64_t into) {
  if (from == into) {
    throw core::Error("cannot merge a category into itself");
  }
  if (!category(from) || !category(into)) {
    throw core::Error("merge: no category with id " + std::to_string(category(from) ? into : from));
  }
  Transaction tx(*db_);
  std::vector<LabelMove> moves;
  Statement members(*db_, "SELECT id FROM images WHERE category_id = ?");
  members.bind(1, from);
  while (members.step()) {
    moves.push_back({members.int64(0), from, into});
  }
  const auto edit = recordEdit(moves, "merge");
  // category_id names where the images went (for explaining a model's category that is gone).
  Statement mark(*db_, "UPDATE edits SET deleted_category_id = ?, category_id = ? WHERE id = ?");
  mark.bind(1, from).bind(2, into).bind(3, edit).run();
  Statement remove(*db_,
                   "UPDATE categories SET deleted_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
                   "WHERE id = ?");
  remove.bind(1, from).run();
  tx.commit();
  return edit;
}

void Catalog::deleteCategory(std::int64_t id) {
  const auto existing = category(id);
  if (!existing) {
    throw core::Error("no category with id " + std::to_string(id));
  }
  if (const auto count = imageCount(id); count > 0) {
    throw core::Error("cannot delete \"" + existing->path + "\": it holds " +
                      std::to_string(count) + " images; merge it into another category instead");
  }
  Transaction tx(*db_);
  Statement remove(*db_,
                   "UPDATE categories SET deleted_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
                   "WHERE id = ?");
  remove.bind(1, id).run();
  recordCategoryEdit("delete-category", id, existing->path, "");
  tx.commit();
}

// --- labels -------------------------------------------------------------------------------

std::int64_t Catalog::recordEdit(const std::vector<LabelMove>& moves, std::string_view kind,
                                 const std::vector<SplitMove>& splitMoves) {
  // A new edit ends the redo chain.
  db_->exec("UPDATE edits SET state = 'discarded' WHERE state = 'undone'");
  Statement edit(*db_, "INSERT INTO edits(kind) VALUES (?)");
  edit.bind(1, kind).run();
  const auto editId = db_->lastInsertId();
  Statement change(*db_,
                   "INSERT INTO label_history(edit_id, image_id, old_category_id, "
                   "new_category_id) VALUES (?, ?, ?, ?)");
  Statement update(*db_, "UPDATE images SET category_id = ? WHERE id = ?");
  for (const auto& move : moves) {
    change.bind(1, editId)
        .bind(2, move.imageId)
        .bind(3, nullableId(move.oldCategoryId))
        .bind(4, nullableId(move.newCategoryId))
        .run();
    update.bind(1, nullableId(move.newCategoryId)).bind(2, move.imageId).run();
  }
  if (!splitMoves.empty()) {
    Statement splitChange(*db_,
                          "INSERT INTO split_history(edit_id, image_id, old_split, new_split) "
                          "VALUES (?, ?, ?, ?)");
    Statement splitUpdate(*db_, "UPDATE images SET split = ? WHERE id = ?");
    for (const auto& move : splitMoves) {
      splitChange.bind(1, editId)
          .bind(2, move.imageId)
          .bind(3, splitName(move.oldSplit))
          .bind(4, splitName(move.newSplit))
          .run();
      splitUpdate.bind(1, splitName(move.newSplit)).bind(2, move.imageId).run();
    }
  }
  return editId;
}

std::int64_t Catalog::changeImages(const std::vector<ImageChange>& changes, std::string_view kind) {
  Transaction tx(*db_);
  Statement current(*db_, "SELECT category_id, split FROM images WHERE id = ?");
  std::vector<LabelMove> moves;
  std::vector<SplitMove> splitMoves;
  for (const auto& change : changes) {
    current.bind(1, change.imageId);
    if (!current.step()) {
      throw core::Error("no image with id " + std::to_string(change.imageId));
    }
    const std::int64_t oldCategory = current.isNull(0) ? 0 : current.int64(0);
    const Split oldSplit = parseSplit(current.text(1)).value_or(Split::Unassigned);
    current.reset();
    if (change.categoryId && *change.categoryId != oldCategory) {
      if (*change.categoryId != 0 && !category(*change.categoryId)) {
        throw core::Error("no category with id " + std::to_string(*change.categoryId));
      }
      moves.push_back({change.imageId, oldCategory, *change.categoryId});
    }
    if (change.split && *change.split != oldSplit) {
      splitMoves.push_back({change.imageId, oldSplit, *change.split});
    }
  }
  if (moves.empty() && splitMoves.empty()) {
    return 0;
  }
  const auto edit = recordEdit(moves, kind, splitMoves);
  tx.commit();
  return edit;
}

std::int64_t Catalog::relabelTo(const std::vector<std::pair<std::int64_t, std::int64_t>>& targets,
                                std::string_view kind) {
  Statement current(*db_, "SELECT category_id FROM images WHERE id = ?");
  std::vector<LabelMove> moves;
  for (const auto& [imageId, target] : targets) {
    current.bind(1, imageId);
    if (!current.step()) {
      throw core::Error("relabel: no image with id " + std::to_string(imageId));
    }
    const std::int64_t old = current.isNull(0) ? 0 : current.int64(0);
    current.reset();
    if (old != target) {
      moves.push_back({imageId, old, target});
    }
  }
  return moves.empty() ? 0 : recordEdit(moves, kind);
}

std::int64_t Catalog::relabelEach(
    const std::vector<std::pair<std::int64_t, std::string>>& changes) {
  Transaction tx(*db_);
  std::vector<std::pair<std::int64_t, std::int64_t>> targets;
  for (const auto& [imageId, path] : changes) {
    targets.emplace_back(imageId, path.empty() ? 0 : ensureCategory(path));
  }
  const auto edit = relabelTo(targets);
  tx.commit();
  return edit;
}

std::int64_t Catalog::relabel(const std::vector<std::int64_t>& imageIds, std::int64_t categoryId) {
  if (categoryId != 0 && !category(categoryId)) {
    throw core::Error("relabel: no category with id " + std::to_string(categoryId));
  }
  Transaction tx(*db_);
  std::vector<std::pair<std::int64_t, std::int64_t>> targets;
  for (const auto id : imageIds) {
    targets.emplace_back(id, categoryId);
  }
  const auto edit = relabelTo(targets);
  tx.commit();
  return edit;
}

bool Catalog::canUndo() {
  Statement q(*db_, "SELECT 1 FROM edits WHERE state = 'active' LIMIT 1");
  return q.step();
}

bool Catalog::canRedo() {
  Statement q(*db_, "SELECT 1 FROM edits WHERE state = 'undone' LIMIT 1");
  return q.step();
}

std::optional<EditSummary> Catalog::nextEdit(bool forward) {
  Statement pick(*db_, std::string("SELECT e.id, e.kind, e.at, (SELECT count(*) FROM (SELECT "
                                   "image_id FROM label_history h WHERE h.edit_id = e.id UNION "
                                   "SELECT image_id FROM split_history s WHERE s.edit_id = e.id)) "
                                   "FROM edits e WHERE e.state = ") +
                           (forward ? "'undone' ORDER BY e.id ASC LIMIT 1"
                                    : "'active' ORDER BY e.id DESC LIMIT 1"));
  if (!pick.step()) {
    return std::nullopt;
  }
  return EditSummary{pick.int64(0), pick.text(1), pick.int64(3), pick.text(2)};
}

bool Catalog::undo() {
  return replayEdit(/*forward=*/false);
}

bool Catalog::redo() {
  return replayEdit(/*forward=*/true);
}

bool Catalog::replayEdit(bool forward) {
  Transaction tx(*db_);
  // Undo takes the latest active edit, redo the earliest undone one.
  Statement pick(*db_, std::string("SELECT id, deleted_category_id, kind, category_id, old_path, "
                                   "new_path FROM edits WHERE state = ") +
                           (forward ? "'undone' ORDER BY id ASC LIMIT 1"
                                    : "'active' ORDER BY id DESC LIMIT 1"));
  if (!pick.step()) {
    return false;
  }
  const std::string editId = std::to_string(pick.int64(0));
  const std::int64_t mergedAway = pick.isNull(1) ? 0 : pick.int64(1);
  const std::string kind = pick.text(2);
  if (kind == "create-category" || kind == "rename-category" || kind == "delete-category") {
    replayCategoryEdit(kind, pick.int64(3), pick.isNull(4) ? "" : pick.text(4),
                       pick.isNull(5) ? "" : pick.text(5), forward);
  }
  const std::string target = forward ? "new_category_id" : "old_category_id";
  // The categories the images go back to may have been deleted since: bring them back.
  db_->exec("UPDATE categories SET deleted_at = NULL WHERE id IN (SELECT " + target +
            " FROM label_history WHERE edit_id = " + editId + ")");
  // A join, not a correlated subquery: the subquery looked each image up among the edit's rows
  // (the index is on edit_id only), which made undoing an edit of k images cost k^2 (0.45 s for
  // 2,500 images in bench/scale, some 12 minutes by extrapolation for a merge of 100,000). The join
  // walks the edit's rows once.
  db_->exec("UPDATE images SET category_id = h." + target +
            " FROM label_history h WHERE h.edit_id = " + editId + " AND h.image_id = images.id");
  db_->exec(std::string("UPDATE images SET split = s.") + (forward ? "new_split" : "old_split") +
            " FROM split_history s WHERE s.edit_id = " + editId + " AND s.image_id = images.id");
  // A merge deleted the category it emptied: redo deletes it again, undo revives it.
  if (mergedAway != 0) {
    Statement mark(*db_, forward ? "UPDATE categories SET deleted_at = "
                                   "strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?"
                                 : "UPDATE categories SET deleted_at = NULL WHERE id = ?");
    mark.bind(1, mergedAway).run();
  }
  db_->exec(std::string("UPDATE edits SET state = '") + (forward ? "active" : "undone") +
            "' WHERE id = " + editId);
  tx.commit();
  return true;
}

void Catalog::replayCategoryEdit(const std::string& kind, std::int64_t id,
                                 const std::string& oldPath, const std::string& newPath,
                                 bool forward) {
  const auto setDeleted = [&](bool gone) {
    if (gone && imageCount(id) > 0) {
      const auto current = category(id);
      throw core::Error("cannot " + std::string(forward ? "redo" : "undo") + " this: \"" +
                        (current ? current->path : newPath) + "\" holds " +
                        std::to_string(imageCount(id)) + " images now");
    }
    if (gone) {
      db_->exec(
          "UPDATE categories SET deleted_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
          "WHERE id = " +
          std::to_string(id));
    } else {
      db_->exec("UPDATE categories SET deleted_at = NULL WHERE id = " + std::to_string(id));
    }
  };
  if (kind == "create-category") {
    setDeleted(!forward);
  } else if (kind == "delete-category") {
    if (!forward) {
      setCategoryPath(id, oldPath);  // its name may have been given a tombstone since
    }
    setDeleted(forward);
  } else {  // rename-category
    setCategoryPath(id, forward ? newPath : oldPath);
  }
}

std::vector<LabelChange> Catalog::history(std::int64_t limit) {
  Statement q(*db_,
              "SELECT h.edit_id, h.image_id, h.old_category_id, h.new_category_id, h.at, "
              "e.state FROM label_history h JOIN edits e ON e.id = h.edit_id "
              "WHERE e.state != 'discarded' ORDER BY h.id DESC LIMIT ?");
  q.bind(1, limit);
  std::vector<LabelChange> out;
  while (q.step()) {
    out.push_back(LabelChange{q.int64(0), q.int64(1), q.isNull(2) ? 0 : q.int64(2),
                              q.isNull(3) ? 0 : q.int64(3), q.text(4), q.text(5) == "undone"});
  }
  return out;
}

}  // namespace taxon::project
