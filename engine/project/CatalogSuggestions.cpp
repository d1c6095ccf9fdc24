// The catalog's store of a model's suggestions (`taxon suggest`), their queries for review, bulk
// accept as one undoable edit, and why a model's category may be missing from the project now.
#include <string>
#include <vector>

#include "core/Error.hpp"
#include "project/Catalog.hpp"
#include "project/Sqlite.hpp"

namespace taxon::project {

namespace {

constexpr int kTopColumns = 5;

constexpr const char* kSuggestionColumns =
    "s.image_id, s.run, s.step, s.c1, s.s1, s.c2, s.s2, s.c3, s.s3, s.c4, s.s4, s.c5, s.s5, "
    "s.margin, s.entropy, s.rollup, s.rollup_score";

Suggestion readSuggestion(const Statement& q) {
  Suggestion s;
  s.imageId = q.int64(0);
  s.run = q.text(1);
  s.step = q.int64(2);
  for (int k = 0; k < kTopColumns; ++k) {
    if (!q.isNull(3 + 2 * k)) {
      s.top.emplace_back(q.int64(3 + 2 * k), q.real(4 + 2 * k));
    }
  }
  s.margin = q.real(13);
  s.entropy = q.real(14);
  s.rollup = q.isNull(15) ? std::string() : q.text(15);
  s.rollupScore = q.isNull(16) ? 0.0 : q.real(16);
  return s;
}

// FROM ... WHERE ... for a query; ?1 is the minimum score, ?4 the maximum margin, ?5 the minimum
// entropy (bindQuery). Category ids are integers written into the text (a list of any length).
std::string suggestionSql(const SuggestionQuery& query) {
  std::string sql =
      " FROM suggestions s JOIN images i ON i.id = s.image_id WHERE s.s1 >= ?1 AND s.margin <= ?4"
      " AND s.entropy >= ?5";
  if (query.subset == SuggestionQuery::Subset::Unlabeled) {
    sql += " AND i.category_id IS NULL";
  } else if (query.subset == SuggestionQuery::Subset::Disagreements) {
    sql += " AND i.category_id IS NOT NULL AND s.c1 IS NOT i.category_id";
  }
  if (!query.categoryIds.empty()) {
    sql += " AND s.c1 IN (";
    for (std::size_t k = 0; k < query.categoryIds.size(); ++k) {
      sql += (k == 0 ? "" : ",") + std::to_string(query.categoryIds[k]);
    }
    sql += ")";
  }
  // A suggestion of a category deleted since is stale: never listed, counted or accepted.
  sql += " AND s.c1 IN (SELECT id FROM categories WHERE deleted_at IS NULL)";
  return sql;
}

std::string orderSql(const SuggestionQuery& query) {
  const char* column = query.order == SuggestionQuery::Order::Margin    ? "s.margin"
                       : query.order == SuggestionQuery::Order::Entropy ? "s.entropy"
                                                                        : "s.s1";
  const char* direction = query.ascending ? " ASC" : " DESC";
  return std::string(" ORDER BY ") + column + direction + ", s.image_id LIMIT ?2 OFFSET ?3";
}

void bindQuery(Statement& q, const SuggestionQuery& query) {
  q.bind(1, query.minScore).bind(2, query.limit).bind(3, query.offset);
  q.bind(4, query.maxMargin).bind(5, query.minEntropy);
}

}  // namespace

void Catalog::storeSuggestions(const std::vector<Suggestion>& suggestions) {
  Transaction tx(*db_);
  Statement insert(*db_,
                   "INSERT OR REPLACE INTO suggestions(image_id, run, step, c1, s1, c2, s2, c3, "
                   "s3, c4, s4, c5, s5, margin, entropy, rollup, rollup_score) VALUES (?, ?, ?, "
                   "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  for (const auto& s : suggestions) {
    if (s.top.empty()) {
      throw core::Error("a suggestion for image " + std::to_string(s.imageId) + " has no category");
    }
    insert.bind(1, s.imageId).bind(2, s.run).bind(3, s.step);
    for (int k = 0; k < kTopColumns; ++k) {
      if (k < static_cast<int>(s.top.size())) {
        insert.bind(4 + 2 * k, s.top[static_cast<std::size_t>(k)].first)
            .bind(5 + 2 * k, s.top[static_cast<std::size_t>(k)].second);
      } else {
        insert.bindNull(4 + 2 * k).bindNull(5 + 2 * k);
      }
    }
    insert.bind(14, s.margin).bind(15, s.entropy);
    if (s.rollup.empty()) {
      insert.bindNull(16).bindNull(17);
    } else {
      insert.bind(16, s.rollup).bind(17, s.rollupScore);
    }
    insert.run();
  }
  tx.commit();
}

std::optional<Suggestion> Catalog::suggestion(std::int64_t imageId) {
  Statement q(*db_, std::string("SELECT ") + kSuggestionColumns +
                        " FROM suggestions s WHERE s.image_id = ?");
  q.bind(1, imageId);
  if (!q.step()) {
    return std::nullopt;
  }
  return readSuggestion(q);
}

std::vector<std::int64_t> Catalog::imagesToSuggest(bool unlabeledOnly, const std::string& run,
                                                   std::int64_t step) {
  Statement q(*db_, std::string("SELECT i.id FROM images i LEFT JOIN suggestions s ON "
                                "s.image_id = i.id AND s.run = ?1 AND s.step = ?2 WHERE "
                                "s.image_id IS NULL") +
                        (unlabeledOnly ? " AND i.category_id IS NULL" : "") + " ORDER BY i.id");
  q.bind(1, run).bind(2, step);
  std::vector<std::int64_t> ids;
  while (q.step()) {
    ids.push_back(q.int64(0));
  }
  return ids;
}

std::vector<Suggestion> Catalog::suggestions(const SuggestionQuery& query) {
  Statement q(*db_,
              std::string("SELECT ") + kSuggestionColumns + suggestionSql(query) + orderSql(query));
  bindQuery(q, query);
  std::vector<Suggestion> out;
  while (q.step()) {
    out.push_back(readSuggestion(q));
  }
  return out;
}

std::int64_t Catalog::suggestionCount(const SuggestionQuery& query) {
  // The limit and offset apply, as they do to suggestions() and acceptSuggestions().
  Statement q(*db_, "SELECT count(*) FROM (SELECT s.image_id" + suggestionSql(query) +
                        orderSql(query) + ")");
  bindQuery(q, query);
  q.step();
  return q.int64(0);
}

std::int64_t Catalog::acceptSuggestions(const SuggestionQuery& query) {
  Transaction tx(*db_);
  std::vector<std::pair<std::int64_t, std::int64_t>> targets;
  {
    Statement q(*db_, "SELECT s.image_id, s.c1" + suggestionSql(query) + orderSql(query));
    bindQuery(q, query);
    while (q.step()) {
      targets.emplace_back(q.int64(0), q.int64(1));
    }
  }
  const auto edit = relabelTo(targets, "accept");
  tx.commit();
  return edit;
}

void Catalog::storePick(const std::vector<std::int64_t>& imageIds, std::string_view strategy) {
  Transaction tx(*db_);
  db_->exec("DELETE FROM picks");
  Statement insert(*db_, "INSERT OR IGNORE INTO picks(image_id, rank, strategy) VALUES (?, ?, ?)");
  std::int64_t rank = 0;
  for (const auto id : imageIds) {
    insert.bind(1, id).bind(2, ++rank).bind(3, strategy).run();
  }
  tx.commit();
}

std::vector<std::int64_t> Catalog::picked() {
  Statement q(*db_,
              "SELECT p.image_id FROM picks p JOIN images i ON i.id = p.image_id WHERE "
              "i.category_id IS NULL ORDER BY p.rank");
  std::vector<std::int64_t> ids;
  while (q.step()) {
    ids.push_back(q.int64(0));
  }
  return ids;
}

std::vector<std::string> Catalog::missingCategories(const std::vector<std::string>& categories) {
  std::vector<std::string> out;
  Statement renamed(*db_,
                    "SELECT c.path FROM edits e JOIN categories c ON c.id = e.category_id WHERE "
                    "e.kind = 'rename-category' AND e.state = 'active' AND e.old_path = ? AND "
                    "c.deleted_at IS NULL ORDER BY e.id DESC LIMIT 1");
  Statement gone(*db_,
                 "SELECT e.kind, c.path FROM categories d JOIN edits e ON "
                 "(e.kind = 'merge' AND e.deleted_category_id = d.id) OR "
                 "(e.kind = 'delete-category' AND e.category_id = d.id) "
                 "LEFT JOIN categories c ON c.id = e.category_id AND e.kind = 'merge' "
                 "WHERE d.path = ? AND d.deleted_at IS NOT NULL AND e.state = 'active' "
                 "ORDER BY e.id DESC LIMIT 1");
  for (const auto& name : categories) {
    if (findCategory(name)) {
      continue;
    }
    const std::string quoted = "\"" + name + "\"";
    renamed.bind(1, name);
    if (renamed.step()) {
      out.push_back(quoted + " was renamed to \"" + renamed.text(0) + "\"");
      renamed.reset();
      continue;
    }
    renamed.reset();
    gone.bind(1, name);
    if (gone.step()) {
      out.push_back(gone.text(0) == "merge"
                        ? quoted + " was merged into \"" +
                              (gone.isNull(1) ? std::string("another category") : gone.text(1)) +
                              "\""
                        : quoted + " was deleted");
    } else {
      out.push_back(quoted + " is not a category of the project");
    }
    gone.reset();
  }
  return out;
}

}  // namespace taxon::project
