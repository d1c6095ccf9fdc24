#include "project/CatalogCheck.hpp"

#include "project/Sqlite.hpp"

namespace taxon::project {

namespace {

// Runs `sql` and adds one problem per row: `describe` turns the row into a line.
template <typename Describe>
void addRows(Database& db, const char* sql, std::vector<std::string>& problems, Describe describe) {
  Statement query(db, sql);
  while (query.step()) {
    problems.push_back(describe(query));
  }
}

}  // namespace

std::vector<std::string> checkCatalog(const Catalog& catalog) {
  Database db(catalog.file(), /*create=*/false);
  std::vector<std::string> problems;
  addRows(db, "PRAGMA integrity_check", problems,
          [](const Statement& row) { return "SQLite integrity check: " + row.text(0); });
  if (problems.size() == 1 && problems.front() == "SQLite integrity check: ok") {
    problems.clear();
  }
  addRows(db, "PRAGMA foreign_key_check", problems, [](const Statement& row) {
    return "table " + row.text(0) + ", row " + std::to_string(row.int64(1)) +
           ": refers to a missing row of " + row.text(2);
  });
  addRows(db,
          "SELECT i.id, i.path, c.path FROM images i JOIN categories c ON c.id = i.category_id "
          "WHERE c.deleted_at IS NOT NULL LIMIT 20",
          problems, [](const Statement& row) {
            return "image " + std::to_string(row.int64(0)) + " (" + row.text(1) +
                   ") is in the deleted category \"" + row.text(2) + "\"";
          });
  addRows(db,
          "SELECT e.id FROM edits e WHERE e.kind IN ('relabel', 'accept') AND NOT EXISTS "
          "(SELECT 1 FROM label_history h WHERE h.edit_id = e.id) LIMIT 20",
          problems, [](const Statement& row) {
            return "relabel edit " + std::to_string(row.int64(0)) + " moved no image";
          });
  addRows(
      db,
      "SELECT h.edit_id, h.image_id FROM label_history h WHERE "
      "(h.old_category_id IS NOT NULL AND h.old_category_id NOT IN (SELECT id FROM categories)) "
      "OR (h.new_category_id IS NOT NULL AND h.new_category_id NOT IN "
      "(SELECT id FROM categories)) LIMIT 20",
      problems, [](const Statement& row) {
        return "edit " + std::to_string(row.int64(0)) + " moves image " +
               std::to_string(row.int64(1)) + " from or to a category that does not exist";
      });
  addRows(db,
          "SELECT (SELECT max(id) FROM edits WHERE state = 'active'), "
          "(SELECT min(id) FROM edits WHERE state = 'undone') "
          "WHERE (SELECT max(id) FROM edits WHERE state = 'active') > "
          "(SELECT min(id) FROM edits WHERE state = 'undone')",
          problems, [](const Statement& row) {
            return "undo chain: active edit " + std::to_string(row.int64(0)) +
                   " is newer than undone edit " + std::to_string(row.int64(1));
          });
  // The kept counts (category_counts, maintained by triggers) against a count of the images.
  addRows(db,
          "WITH actual AS (SELECT coalesce(category_id, 0) AS category_id, split, count(*) AS n "
          "FROM images GROUP BY 1, 2), "
          "both AS (SELECT category_id, split, n AS counted, 0 AS kept FROM actual UNION ALL "
          "SELECT category_id, split, 0, images FROM category_counts) "
          "SELECT category_id, split, sum(counted), sum(kept) FROM both GROUP BY 1, 2 "
          "HAVING sum(counted) != sum(kept) LIMIT 20",
          problems, [](const Statement& row) {
            return "category_counts: category " + std::to_string(row.int64(0)) + ", split " +
                   row.text(1) + " has " + std::to_string(row.int64(2)) +
                   " images but is kept as " + std::to_string(row.int64(3));
          });
  // The latest active edit that moved each image, and the category it gave it (SQLite takes the
  // bare columns from the row that has the max()): one pass over the history.
  addRows(db,
          "WITH latest AS (SELECT h.image_id, h.edit_id, h.new_category_id, max(h.id) "
          "FROM label_history h JOIN edits e ON e.id = h.edit_id WHERE e.state = 'active' "
          "GROUP BY h.image_id) "
          "SELECT i.id, i.path, latest.edit_id FROM latest JOIN images i ON i.id = latest.image_id "
          "WHERE latest.new_category_id IS NOT i.category_id LIMIT 20",
          problems, [](const Statement& row) {
            return "image " + std::to_string(row.int64(0)) + " (" + row.text(1) +
                   ") does not have the category its latest edit (" + std::to_string(row.int64(2)) +
                   ") gave it";
          });
  return problems;
}

}  // namespace taxon::project
