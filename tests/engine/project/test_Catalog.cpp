#include "project/Catalog.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <chrono>
#include <cmath>
#include <map>

#include "TestFiles.hpp"
#include "core/Error.hpp"
#include "project/CatalogCheck.hpp"

namespace taxon::project {
namespace {

using test::TempDir;

NewImage image(const std::string& path, const std::string& category,
               Split split = Split::Unassigned) {
  return NewImage{path, "hash-" + path, 10, 20, "JPEG", 123, category, split, "test"};
}

TEST(CategoryPath, NormalizesLevels) {
  EXPECT_EQ(core::normalizeCategoryPath("Women>Shoes >  Sneakers "), "Women > Shoes > Sneakers");
  EXPECT_EQ(core::normalizeCategoryPath("靴 > スニーカー"), "靴 > スニーカー");
  EXPECT_EQ(core::normalizeCategoryPath("Running  Shoes >  Trail   Runners"),
            "Running Shoes > Trail Runners");
  EXPECT_THROW(core::normalizeCategoryPath("Women >  > Sneakers"), core::Error);
  EXPECT_THROW(core::normalizeCategoryPath(""), core::Error);
  EXPECT_EQ(core::categorySegments("A > B > C"), (std::vector<std::string>{"A", "B", "C"}));
  EXPECT_EQ(core::categoryPrefix("A > B > C", 1), "A");
  EXPECT_EQ(core::categoryPrefix("A > B > C", 2), "A > B");
  EXPECT_EQ(core::categoryPrefix("A > B > C", 5), "A > B > C");
}

TEST(Catalog, CreatesAWalModeSqliteFileAndReopensIt) {
  TempDir dir;
  const auto project = dir / "プロジェクト shoes";
  {
    Catalog catalog(project, /*create=*/true);
    catalog.insertImages({image("a.jpg", "Women > Shoes > Sneakers")});
  }
  ASSERT_TRUE(std::filesystem::exists(project / "taxon.sqlite"));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((project / "taxon.sqlite").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);

  Catalog again(project, /*create=*/false);
  EXPECT_EQ(again.imageCount(), 1);
  EXPECT_TRUE(again.findCategory("Women > Shoes > Sneakers").has_value());
  EXPECT_THROW(Catalog(dir / "elsewhere", /*create=*/false), core::Error);
}

TEST(Catalog, StoresPathsRelativeToTheProjectWhenInside) {
  TempDir dir;
  Catalog catalog(dir / "p", true);
  catalog.insertImages(
      {image((dir / "p" / "images" / "x.png").string(), "A"), image("/elsewhere/y.png", "A")});
  const auto all = catalog.images();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].path, "images/x.png");
  EXPECT_EQ(all[1].path, "/elsewhere/y.png");
  EXPECT_EQ(catalog.resolve(all[0].path), dir / "p" / "images" / "x.png");
}

TEST(Catalog, InsertingTheSamePathTwiceKeepsTheFirst) {
  TempDir dir;
  Catalog catalog(dir.path(), true);
  const auto first = catalog.insertImages({image("/a.jpg", "A")});
  const auto second = catalog.insertImages({image("/a.jpg", "B"), image("/b.jpg", "B")});
  EXPECT_EQ(first.added, 1);
  EXPECT_EQ(second.added, 1);
  EXPECT_EQ(second.alreadyPresent, 1);
  EXPECT_EQ(catalog.category(catalog.imageByPath("/a.jpg")->categoryId)->path, "A");
}

TEST(Catalog, CategoryIdsAreStableAcrossRenameMergeAndDelete) {
  TempDir dir;
  Catalog catalog(dir.path(), true);
  catalog.insertImages({image("/1.jpg", "Men > Shoes > Sneakers"),
                        image("/2.jpg", "Women > Shoes > Sneakers"),
                        image("/3.jpg", "Women > Shoes > Sneakerz")});
  const auto men = catalog.findCategory("Men > Shoes > Sneakers")->id;
  const auto women = catalog.findCategory("Women > Shoes > Sneakers")->id;
  const auto typo = catalog.findCategory("Women > Shoes > Sneakerz")->id;

  catalog.renameCategory(men, "Men > Shoes > Trainers");
  EXPECT_EQ(catalog.category(men)->path, "Men > Shoes > Trainers");
  EXPECT_THROW(catalog.renameCategory(men, "Women > Shoes > Sneakers"), core::Error);

  catalog.mergeCategories(typo, women);
  EXPECT_FALSE(catalog.category(typo).has_value());
  EXPECT_EQ(catalog.imageCount(women), 2);

  EXPECT_THROW(catalog.deleteCategory(women), core::Error) << "it still has images";
  const auto empty = catalog.ensureCategory("Kids");
  catalog.deleteCategory(empty);
  EXPECT_FALSE(catalog.findCategory("Kids").has_value());
  EXPECT_EQ(catalog.ensureCategory("Kids"), empty) << "a deleted name comes back with its id";
  EXPECT_GT(catalog.ensureCategory("New"), typo) << "ids are never reused";
}

TEST(Catalog, RelabelUndoRedoAndHistory) {
  TempDir dir;
  Catalog catalog(dir.path(), true);
  catalog.insertImages({image("/1.jpg", "Men"), image("/2.jpg", "Men"), image("/3.jpg", "Women")});
  const auto men = catalog.findCategory("Men")->id;
  const auto women = catalog.findCategory("Women")->id;
  const auto one = catalog.imageByPath("/1.jpg")->id;
  const auto two = catalog.imageByPath("/2.jpg")->id;

  EXPECT_FALSE(catalog.canUndo());
  const auto edit = catalog.relabel({one, two}, women);
  EXPECT_NE(edit, 0);
  EXPECT_EQ(catalog.imageCount(women), 3);
  EXPECT_EQ(catalog.relabel({one}, women), 0) << "no change, no edit";

  const auto history = catalog.history();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].oldCategoryId, men);
  EXPECT_EQ(history[0].newCategoryId, women);
  EXPECT_FALSE(history[0].at.empty());

  ASSERT_TRUE(catalog.undo());
  EXPECT_EQ(catalog.imageCount(men), 2);
  EXPECT_TRUE(catalog.canRedo());
  ASSERT_TRUE(catalog.redo());
  EXPECT_EQ(catalog.imageCount(men), 0);
  ASSERT_TRUE(catalog.undo());

  // A new edit after an undo clears the redo chain.
  catalog.relabel({one}, women);
  EXPECT_FALSE(catalog.canRedo());
  EXPECT_FALSE(catalog.redo());
}

// Categories and splits changed together (resolving a group of duplicates) are one edit: undo
// puts back every image's category and split, redo applies them again, the kept counts follow,
// and nextEdit counts each image once.
TEST(Catalog, CategoryAndSplitChangesAreOneUndoableEdit) {
  TempDir dir;
  Catalog catalog(dir.path(), true);
  catalog.insertImages({image("/1.jpg", "Men", Split::Train), image("/2.jpg", "Women", Split::Test),
                        image("/3.jpg", "Women", Split::Validation)});
  const auto men = catalog.findCategory("Men")->id;
  const auto women = catalog.findCategory("Women")->id;
  const auto one = catalog.imageByPath("/1.jpg")->id;
  const auto two = catalog.imageByPath("/2.jpg")->id;
  const auto three = catalog.imageByPath("/3.jpg")->id;
  const auto before = catalog.countsByCategory();

  // 2 takes 1's category and split; 3 only 1's split; 1 is named with what it has (no change).
  const auto edit = catalog.changeImages(
      {{one, men, Split::Train}, {two, men, Split::Train}, {three, std::nullopt, Split::Train}},
      "resolve-duplicates");
  ASSERT_NE(edit, 0);
  EXPECT_EQ(catalog.image(two)->categoryId, men);
  EXPECT_EQ(catalog.image(two)->split, Split::Train);
  EXPECT_EQ(catalog.image(three)->categoryId, women);
  EXPECT_EQ(catalog.image(three)->split, Split::Train);
  EXPECT_EQ(catalog.imageCount(std::nullopt, Split::Train), 3);
  EXPECT_EQ(catalog.imageCount(men, Split::Train), 2);
  EXPECT_TRUE(checkCatalog(catalog).empty());
  const auto next = catalog.nextEdit(false);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->kind, "resolve-duplicates");
  EXPECT_EQ(next->images, 2);  // 2 (category and split) and 3 (split)

  ASSERT_TRUE(catalog.undo());
  EXPECT_EQ(catalog.image(two)->categoryId, women);
  EXPECT_EQ(catalog.image(two)->split, Split::Test);
  EXPECT_EQ(catalog.image(three)->split, Split::Validation);
  const auto after = catalog.countsByCategory();
  ASSERT_EQ(after.size(), before.size());
  for (std::size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].train, before[i].train);
    EXPECT_EQ(after[i].validation, before[i].validation);
    EXPECT_EQ(after[i].test, before[i].test);
  }
  EXPECT_TRUE(checkCatalog(catalog).empty());
  ASSERT_TRUE(catalog.redo());
  EXPECT_EQ(catalog.image(two)->split, Split::Train);
  EXPECT_EQ(catalog.image(two)->categoryId, men);
  EXPECT_EQ(catalog.imageCount(std::nullopt, Split::Test), 0);
  EXPECT_TRUE(checkCatalog(catalog).empty());

  // Nothing to change: no edit. A missing image or category: refused, nothing changed.
  EXPECT_EQ(catalog.changeImages({{two, men, Split::Train}}, "resolve-duplicates"), 0);
  EXPECT_THROW(catalog.changeImages({{one, women, std::nullopt}, {999, men, std::nullopt}},
                                    "resolve-duplicates"),
               core::Error);
  EXPECT_THROW(catalog.changeImages({{one, 999, std::nullopt}}, "resolve-duplicates"), core::Error);
  EXPECT_EQ(catalog.image(one)->categoryId, men);
  EXPECT_EQ(catalog.nextEdit(false)->id, edit);
}

// Undo and redo of one edit of 20,000 images from 40 categories (and none) put every image back
// in its own category, in time linear in the edit: the replay once looked each image up among
// all of the edit's rows: 20,000^2 row visits (2,500 images took 0.45 s in bench/scale).
TEST(Catalog, UndoingALargeEditRestoresEveryImagesOwnCategory) {
  TempDir dir;
  Catalog catalog(dir.path(), true);
  constexpr int kImages = 20000;
  std::vector<NewImage> images;
  for (int i = 0; i < kImages; ++i) {
    images.push_back(
        image("/" + std::to_string(i) + ".jpg", i % 41 == 40 ? "" : "C" + std::to_string(i % 41)));
  }
  catalog.insertImages(images);
  const auto target = catalog.ensureCategory("Target");
  std::vector<std::int64_t> ids;
  std::vector<std::int64_t> before;
  for (const auto& record : catalog.images()) {
    ids.push_back(record.id);
    before.push_back(record.categoryId);
  }
  ASSERT_EQ(ids.size(), static_cast<std::size_t>(kImages));
  ASSERT_NE(catalog.relabel(ids, target), 0);
  EXPECT_EQ(catalog.imageCount(target), kImages);

  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(catalog.undo());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 10.0) << "undo of " << kImages << " images is no longer linear";
  EXPECT_EQ(catalog.imageCount(target), 0);
  std::size_t k = 0;
  for (const auto& record : catalog.images()) {
    ASSERT_EQ(record.categoryId, before[k]) << record.path;
    ++k;
  }
  ASSERT_TRUE(catalog.redo());
  EXPECT_EQ(catalog.imageCount(target), kImages);
}

TEST(Catalog, UndoingAMergeBringsTheCategoryBack) {
  TempDir dir;
  Catalog catalog(dir.path(), true);
  catalog.insertImages({image("/1.jpg", "A"), image("/2.jpg", "B")});
  const auto a = catalog.findCategory("A")->id;
  const auto b = catalog.findCategory("B")->id;
  catalog.mergeCategories(a, b);
  EXPECT_FALSE(catalog.category(a));
  ASSERT_TRUE(catalog.undo());
  ASSERT_TRUE(catalog.category(a));
  EXPECT_EQ(catalog.imageCount(a), 1);
  ASSERT_TRUE(catalog.redo());
  EXPECT_FALSE(catalog.category(a));
  EXPECT_EQ(catalog.imageCount(b), 2);
}

TEST(Catalog, CategoryCreateRenameAndDeleteUndoAndRedo) {
  TempDir dir;
  Catalog catalog(dir.path(), true);
  catalog.insertImages({image("/1.jpg", "Shoes > Sneaker")});
  const auto boots = catalog.createCategory("Shoes > Boots");
  EXPECT_THROW(catalog.createCategory("Shoes > Boots"), core::Error);
  catalog.renameCategory(boots, "Shoes > Winter boots");
  catalog.deleteCategory(boots);
  EXPECT_FALSE(catalog.category(boots));
  // Undo walks back: the delete, the rename, the creation.
  ASSERT_TRUE(catalog.undo());
  ASSERT_TRUE(catalog.category(boots));
  EXPECT_EQ(catalog.category(boots)->path, "Shoes > Winter boots");
  ASSERT_TRUE(catalog.undo());
  EXPECT_EQ(catalog.category(boots)->path, "Shoes > Boots");
  ASSERT_TRUE(catalog.undo());
  EXPECT_FALSE(catalog.findCategory("Shoes > Boots"));
  EXPECT_FALSE(catalog.canUndo());
  // Redo walks forward again.
  ASSERT_TRUE(catalog.redo());
  EXPECT_EQ(catalog.category(boots)->path, "Shoes > Boots");
  ASSERT_TRUE(catalog.redo());
  EXPECT_EQ(catalog.category(boots)->path, "Shoes > Winter boots");
  ASSERT_TRUE(catalog.redo());
  EXPECT_FALSE(catalog.category(boots));
  EXPECT_FALSE(catalog.canRedo());
}

TEST(Catalog, ACategoryEditThatCannotBeRevertedIsRefusedAndChangesNothing) {
  TempDir dir;
  Catalog catalog(dir.path(), true);
  const auto bags = catalog.createCategory("Bags");
  catalog.insertImages({image("/1.jpg", "Bags")});  // an import fills it (not an edit)
  EXPECT_THROW(catalog.undo(), core::Error);        // would delete a category with images
  EXPECT_TRUE(catalog.category(bags));
  EXPECT_TRUE(catalog.canUndo());
  // A rename whose old name was taken since.
  const auto tops = catalog.createCategory("Tops");
  catalog.renameCategory(tops, "Shirts");
  catalog.ensureCategory("Tops");  // an import made "Tops" again
  EXPECT_THROW(catalog.undo(), core::Error);
  EXPECT_EQ(catalog.category(tops)->path, "Shirts");
}

TEST(Catalog, AVersionOneCatalogIsUpgradedInPlace) {
  TempDir dir;
  {
    Catalog catalog(dir.path(), true);
    catalog.insertImages({image("/1.jpg", "A"), image("/2.jpg", "B")});
    catalog.relabel({catalog.imageByPath("/1.jpg")->id}, catalog.findCategory("B")->id);
  }
  {
    // Make it the first version's file: no category columns in edits.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir.path() / Catalog::kFileName).c_str(), &db), SQLITE_OK);
    for (const char* sql :
         {"ALTER TABLE edits DROP COLUMN category_id", "ALTER TABLE edits DROP COLUMN old_path",
          "ALTER TABLE edits DROP COLUMN new_path", "PRAGMA user_version = 1"}) {
      ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sql;
    }
    sqlite3_close(db);
  }
  Catalog catalog(dir.path(), false);
  EXPECT_EQ(catalog.imageCount(catalog.findCategory("B")->id), 2);
  ASSERT_TRUE(catalog.undo());  // the old edit still undoes
  EXPECT_EQ(catalog.imageCount(catalog.findCategory("B")->id), 1);
  const auto c = catalog.createCategory("C");  // and new category edits are recorded
  ASSERT_TRUE(catalog.undo());
  EXPECT_FALSE(catalog.category(c));
}

TEST(Catalog, EditsSurviveTheProcessDyingRightAfter) {
  TempDir dir;
  const auto project = dir / "p";
  {
    Catalog catalog(project, true);
    catalog.insertImages({image("/1.jpg", "A"), image("/2.jpg", "B")});
  }
  // A child process relabels and dies at once, without closing anything.
  const pid_t child = fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    Catalog catalog(project, false);
    catalog.relabel({catalog.imageByPath("/1.jpg")->id}, catalog.findCategory("B")->id);
    _exit(0);  // no destructors, no checkpoint of the WAL
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  Catalog catalog(project, false);
  EXPECT_EQ(catalog.imageCount(catalog.findCategory("B")->id), 2);
  EXPECT_TRUE(catalog.canUndo());
}

TEST(Catalog, CountsPerCategoryAndSplit) {
  TempDir dir;
  Catalog catalog(dir.path(), true);
  catalog.insertImages({image("/1", "A", Split::Train), image("/2", "A", Split::Validation),
                        image("/3", "A", Split::Test), image("/4", "B")});
  const auto counts = catalog.countsByCategory();
  ASSERT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts[0].path, "A");
  EXPECT_EQ(counts[0].train, 1);
  EXPECT_EQ(counts[0].validation, 1);
  EXPECT_EQ(counts[0].test, 1);
  EXPECT_EQ(counts[1].unassigned, 1);
  EXPECT_EQ(counts[1].total(), 1);
}

// The counts the tree, the grid and `taxon info` read (category_counts, kept by triggers) equal a
// count of the images after every kind of change: insert, relabel, undo, redo, split, merge.
void expectKeptCountsMatch(Catalog& catalog, const std::string& after) {
  std::map<std::pair<std::int64_t, Split>, std::int64_t> counted;
  for (const auto& record : catalog.images()) {
    ++counted[{record.categoryId, record.split}];
  }
  for (const auto split : {Split::Unassigned, Split::Train, Split::Validation, Split::Test}) {
    std::int64_t inSplit = 0;
    for (const auto& category : catalog.categories()) {
      const auto n = counted[{category.id, split}];
      EXPECT_EQ(catalog.imageCount(category.id, split), n) << after << ": " << category.path;
      inSplit += n;
    }
    inSplit += counted[{0, split}];
    EXPECT_EQ(catalog.imageCount(std::nullopt, split), inSplit) << after;
  }
  EXPECT_EQ(catalog.imageCount(), static_cast<std::int64_t>(catalog.images().size())) << after;
  for (const auto& row : catalog.countsByCategory()) {
    EXPECT_EQ(row.train, (counted[{row.categoryId, Split::Train}])) << after << ": " << row.path;
    EXPECT_EQ(row.total(), catalog.imageCount(row.categoryId)) << after << ": " << row.path;
  }
  EXPECT_EQ(checkCatalog(catalog), std::vector<std::string>{}) << after;
}

TEST(Catalog, KeptCountsFollowEveryChange) {
  TempDir dir;
  Catalog catalog(dir.path(), true);
  catalog.insertImages({image("/1", "A", Split::Train), image("/2", "A", Split::Validation),
                        image("/3", "B", Split::Test), image("/4", ""), image("/5", "B")});
  expectKeptCountsMatch(catalog, "insert");
  catalog.insertImages({image("/1", "B", Split::Test), image("/6", "C", Split::Train)});
  expectKeptCountsMatch(catalog, "insert with a known path (ignored)");
  const auto a = catalog.findCategory("A")->id;
  const auto b = catalog.findCategory("B")->id;
  const auto one = catalog.imageByPath("/1")->id;
  const auto four = catalog.imageByPath("/4")->id;
  catalog.relabel({one, four}, b);
  expectKeptCountsMatch(catalog, "relabel");
  ASSERT_TRUE(catalog.undo());
  expectKeptCountsMatch(catalog, "undo");
  ASSERT_TRUE(catalog.redo());
  expectKeptCountsMatch(catalog, "redo");
  catalog.setSplits({{one, Split::Validation}, {four, Split::Test}});
  expectKeptCountsMatch(catalog, "split");
  catalog.mergeCategories(a, b);
  expectKeptCountsMatch(catalog, "merge");
  ASSERT_TRUE(catalog.undo());
  expectKeptCountsMatch(catalog, "undo of the merge");
}

TEST(Catalog, AVersionTwoCatalogGetsItsCountsOnOpening) {
  TempDir dir;
  {
    Catalog catalog(dir.path(), true);
    catalog.insertImages({image("/1", "A", Split::Train), image("/2", "B")});
  }
  {
    // The second version had neither the table nor its triggers; images added without them.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir.path() / Catalog::kFileName).c_str(), &db), SQLITE_OK);
    for (const char* sql :
         {"DROP TRIGGER category_counts_insert", "DROP TRIGGER category_counts_update",
          "DROP TRIGGER category_counts_delete", "DROP TABLE category_counts",
          "INSERT INTO images(path, hash, width, height, format, bytes, category_id, split) "
          "SELECT '/3', 'h3', 1, 1, 'JPEG', 1, id, 'test' FROM categories WHERE path = 'A'",
          "PRAGMA user_version = 2"}) {
      ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sql;
    }
    sqlite3_close(db);
  }
  Catalog catalog(dir.path(), false);
  EXPECT_EQ(catalog.imageCount(catalog.findCategory("A")->id), 2);
  EXPECT_EQ(catalog.imageCount(catalog.findCategory("A")->id, Split::Test), 1);
  expectKeptCountsMatch(catalog, "upgrade");
  catalog.insertImages({image("/4", "A")});
  EXPECT_EQ(catalog.imageCount(catalog.findCategory("A")->id), 3) << "the triggers are back";
}

TEST(CatalogCheck, ReportsKeptCountsThatDifferFromTheImages) {
  TempDir dir;
  Catalog catalog(dir.path(), true);
  catalog.insertImages({image("/1", "A", Split::Train), image("/2", "A", Split::Train)});
  EXPECT_EQ(checkCatalog(catalog), std::vector<std::string>{});
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir.path() / Catalog::kFileName).c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE category_counts SET images = 5", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  const auto problems = checkCatalog(catalog);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("split train has 2 images but is kept as 5"), std::string::npos)
      << problems[0];
}

// Unlabeled images (no category) are listed and counted by kUnlabeled, paged like a category's.
TEST(Catalog, UnlabeledImagesAreListedAndCountedLikeACategory) {
  TempDir dir;
  Catalog catalog(dir.path(), true);
  catalog.insertImages({image("/1", "A", Split::Train), image("/2", "", Split::Train),
                        image("/3", "", Split::Validation), image("/4", "")});
  EXPECT_EQ(catalog.imageCount(kUnlabeled), 3);
  EXPECT_EQ(catalog.imageCount(kUnlabeled, Split::Train), 1);
  EXPECT_EQ(catalog.images(kUnlabeled).size(), 3u);
  EXPECT_EQ(catalog.images(kUnlabeled, Split::Validation).at(0).path, "/3");
  const auto page = catalog.images(kUnlabeled, std::nullopt, 1, 1);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].path, "/3");
  EXPECT_EQ(checkCatalog(catalog), std::vector<std::string>{});
}

Suggestion suggestionFor(std::int64_t imageId, std::vector<std::pair<std::int64_t, double>> top,
                         const std::string& run = "/runs/a", std::int64_t step = 10) {
  Suggestion s;
  s.imageId = imageId;
  s.run = run;
  s.step = step;
  s.top = std::move(top);
  s.margin = s.top.size() > 1 ? s.top[0].second - s.top[1].second : s.top[0].second;
  s.entropy = 0.0;
  for (const auto& [id, score] : s.top) {
    s.entropy -= score > 0 ? score * std::log(score) : 0.0;
  }
  return s;
}

// Suggestions are stored per image (the latest replaces), listed by score, margin or entropy,
// filtered by category and score, and accepted in bulk as one edit that undo reverts whole.
TEST(Catalog, SuggestionsAreStoredQueriedAndAcceptedAsOneEdit) {
  TempDir dir;
  Catalog catalog(dir.path(), true);
  catalog.insertImages({image("/l", "Shoes > Boots", Split::Train), image("/1", "", Split::Train),
                        image("/2", "", Split::Train), image("/3", "", Split::Validation),
                        image("/4", "", Split::Train)});
  const auto boots = catalog.findCategory("Shoes > Boots")->id;
  const auto sandals = catalog.ensureCategory("Shoes > Sandals");
  const auto bags = catalog.ensureCategory("Bags");
  std::map<std::string, std::int64_t> id;
  for (const auto& i : catalog.images()) {
    id[i.path] = i.id;
  }
  catalog.storeSuggestions({suggestionFor(id["/1"], {{boots, 0.97}, {sandals, 0.02}, {bags, 0.01}}),
                            suggestionFor(id["/2"], {{sandals, 0.60}, {boots, 0.39}, {bags, 0.01}}),
                            suggestionFor(id["/3"], {{bags, 0.99}, {boots, 0.01}}),
                            suggestionFor(id["/l"], {{bags, 0.90}, {boots, 0.10}})});
  // Not /4 (never suggested), and /l only among all images.
  EXPECT_EQ(catalog.imagesToSuggest(true, "/runs/a", 10), std::vector<std::int64_t>{id["/4"]});
  EXPECT_EQ(catalog.imagesToSuggest(true, "/runs/a", 20).size(), 4u);  // another checkpoint
  EXPECT_EQ(catalog.imagesToSuggest(false, "/runs/a", 10), std::vector<std::int64_t>{id["/4"]});

  const auto stored = catalog.suggestion(id["/2"]);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->run, "/runs/a");
  EXPECT_EQ(stored->step, 10);
  ASSERT_EQ(stored->top.size(), 3u);
  EXPECT_EQ(stored->top[1].first, boots);
  EXPECT_DOUBLE_EQ(stored->top[1].second, 0.39);
  EXPECT_NEAR(stored->margin, 0.21, 1e-12);
  EXPECT_FALSE(catalog.suggestion(id["/4"]));

  SuggestionQuery query;  // unlabeled only, best score first
  auto order = [&](const SuggestionQuery& q) {
    std::vector<std::int64_t> ids;
    for (const auto& s : catalog.suggestions(q)) {
      ids.push_back(s.imageId);
    }
    return ids;
  };
  EXPECT_EQ(order(query), (std::vector<std::int64_t>{id["/3"], id["/1"], id["/2"]}));
  query.order = SuggestionQuery::Order::Margin;
  query.ascending = true;  // least sure first: what review wants
  EXPECT_EQ(order(query).front(), id["/2"]);
  query.order = SuggestionQuery::Order::Entropy;
  query.ascending = false;
  EXPECT_EQ(order(query).front(), id["/2"]);
  // Filtered by margin (at most) and entropy (at least): /2 (0.60 vs 0.39) is the unsure one.
  query = {};
  query.maxMargin = 0.5;
  EXPECT_EQ(order(query), std::vector<std::int64_t>{id["/2"]});
  query.maxMargin = 0.21 - 1e-9;
  EXPECT_EQ(catalog.suggestionCount(query), 0);
  query = {};
  query.minEntropy = 0.5;  // /2: 0.71; /1: 0.15; /3: 0.06
  EXPECT_EQ(order(query), std::vector<std::int64_t>{id["/2"]});
  query.minEntropy = 0.1;
  EXPECT_EQ(order(query), (std::vector<std::int64_t>{id["/1"], id["/2"]}));
  query = {};
  query.categoryIds = {boots, sandals};
  EXPECT_EQ(order(query), (std::vector<std::int64_t>{id["/1"], id["/2"]}));
  query = {};
  query.subset = SuggestionQuery::Subset::All;
  EXPECT_EQ(catalog.suggestionCount(query), 4);
  // The labeled /l (Shoes > Boots) is suggested Bags at 0.90: a disagreement.
  query.subset = SuggestionQuery::Subset::Disagreements;
  EXPECT_EQ(order(query), std::vector<std::int64_t>{id["/l"]});
  query.minScore = 0.95;
  EXPECT_EQ(catalog.suggestionCount(query), 0);
  query = {};
  query.minScore = 0.95;
  EXPECT_EQ(catalog.suggestionCount(query), 2);

  // A newer suggestion replaces the image's earlier one.
  catalog.storeSuggestions(
      {suggestionFor(id["/2"], {{boots, 0.96}, {sandals, 0.04}}, "/runs/b", 3)});
  EXPECT_EQ(catalog.suggestion(id["/2"])->run, "/runs/b");
  EXPECT_EQ(catalog.suggestion(id["/2"])->top.size(), 2u);
  EXPECT_EQ(catalog.suggestionCount(query), 3);

  // Accept the sure ones of Shoes: one edit; undo reverts all of it.
  query.categoryIds = {boots, sandals};
  const auto edit = catalog.acceptSuggestions(query);
  EXPECT_NE(edit, 0);
  EXPECT_EQ(catalog.image(id["/1"])->categoryId, boots);
  EXPECT_EQ(catalog.image(id["/2"])->categoryId, boots);
  EXPECT_EQ(catalog.image(id["/3"])->categoryId, 0);  // Bags: not asked for
  EXPECT_EQ(catalog.imageCount(kUnlabeled), 2);
  const auto next = catalog.nextEdit(false);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->id, edit);
  EXPECT_EQ(next->kind, "accept");
  EXPECT_EQ(next->images, 2);
  EXPECT_EQ(catalog.suggestionCount(query), 0);  // labeled now: not listed among the unlabeled
  EXPECT_EQ(checkCatalog(catalog), std::vector<std::string>{});
  ASSERT_TRUE(catalog.undo());
  EXPECT_EQ(catalog.imageCount(kUnlabeled), 4);
  EXPECT_EQ(catalog.nextEdit(true)->id, edit);
  ASSERT_TRUE(catalog.redo());
  EXPECT_EQ(catalog.imageCount(kUnlabeled), 2);
  // Nothing to accept is no edit.
  EXPECT_EQ(catalog.acceptSuggestions(query), 0);
  // A suggestion for a category deleted since is neither listed nor accepted.
  query = {};
  catalog.storeSuggestions({suggestionFor(id["/4"], {{bags, 0.99}})});
  catalog.mergeCategories(bags, sandals);
  EXPECT_EQ(catalog.suggestions(query).size(), 0u);
  EXPECT_EQ(catalog.suggestionCount(query), 0);
  EXPECT_EQ(catalog.acceptSuggestions(query), 0);
}

// A model's category that the project no longer has is explained: renamed to what, merged into
// what, deleted, or never there.
TEST(Catalog, MissingCategoriesAreExplained) {
  TempDir dir;
  Catalog catalog(dir.path(), true);
  catalog.insertImages({image("/1", "Shoes > Boots"), image("/2", "Shoes > Sandals"),
                        image("/3", "Bags"), image("/4", "Hats")});
  catalog.createCategory("Belts");
  const std::vector<std::string> model = {"Shoes > Boots", "Shoes > Sandals", "Bags",
                                          "Hats",          "Belts",           "Scarves"};
  EXPECT_EQ(catalog.missingCategories({"Shoes > Boots", "Bags"}), std::vector<std::string>{});
  catalog.renameCategory(catalog.findCategory("Shoes > Boots")->id, "Shoes > Ankle boots");
  catalog.mergeCategories(catalog.findCategory("Hats")->id, catalog.findCategory("Bags")->id);
  catalog.deleteCategory(catalog.findCategory("Belts")->id);
  EXPECT_EQ(catalog.missingCategories(model),
            (std::vector<std::string>{"\"Shoes > Boots\" was renamed to \"Shoes > Ankle boots\"",
                                      "\"Hats\" was merged into \"Bags\"", "\"Belts\" was deleted",
                                      "\"Scarves\" is not a category of the project"}));
  // Undone, the edits no longer explain anything: the names are back.
  ASSERT_TRUE(catalog.undo());
  ASSERT_TRUE(catalog.undo());
  ASSERT_TRUE(catalog.undo());
  EXPECT_EQ(catalog.missingCategories(model),
            std::vector<std::string>{"\"Scarves\" is not a category of the project"});
}

}  // namespace
}  // namespace taxon::project
