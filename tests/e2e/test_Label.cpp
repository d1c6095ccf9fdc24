// Model-assisted labeling from the command line, on a real project and a real (tiny) trained
// model: `taxon import --unlabeled`, `taxon suggest` (incremental, refused after a category
// changed, killed at random moments and run again), `taxon accept` with its preview, and
// `taxon undo` / `taxon redo`.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <sstream>

#include "RunCommand.hpp"
#include "TestFiles.hpp"
#include "TrainTestData.hpp"
#include "core/CategoryPath.hpp"
#include "project/Catalog.hpp"

namespace taxon::test {
namespace {

namespace fs = std::filesystem;

// One project for the whole suite: three categories of real JPEGs, 12 unlabeled ones, records,
// and a model trained for a few steps (what takes the time).
class LabelCli : public ::testing::Test {
 protected:
  // Made once, by the first test; a failure fails every test (a failure in SetUpTestSuite would
  // only skip them, which CTest counts as passing).
  void SetUp() override {
    static const std::string problem = prepare();
    ASSERT_EQ(problem, "");
  }
  static std::string prepare() {
    static TempDir dir;
    dir_ = &dir;
    std::uint32_t seed = 1;
    for (const std::string category : {"Shoes > Boots", "Shoes > Sandals", "Bags"}) {
      fs::path folder = dir.path() / "photos";
      for (const auto& level : core::categorySegments(category)) {
        folder /= level;
      }
      for (int i = 0; i < 12; ++i) {
        writeFile(folder / (std::to_string(i) + ".jpg"), makeJpeg(96, 80, seed++));
      }
    }
    for (int i = 0; i < 12; ++i) {
      writeFile(dir.path() / "new" / (std::to_string(i) + ".jpg"), makeJpeg(96, 80, 500 + seed++));
    }
    const auto imported = taxon({"import", project().string(), (dir.path() / "photos").string(),
                                 "--unlabeled", (dir.path() / "new").string()});
    if (imported.exitCode != 0) {
      return "import: " + imported.err;
    }
    // A copy with no suggestions yet, for the kill test.
    fs::copy(project(), dir.path() / "pristine", fs::copy_options::recursive);
    const auto built = taxon({"build-records", project().string(), "--train_shards=1"});
    if (built.exitCode != 0) {
      return "build-records: " + built.err;
    }
    const auto trained = taxon(tinyTrainArgs(run(), project() / "records", 4));
    return trained.exitCode == 0 ? "" : "train: " + trained.err;
  }
  static const fs::path& dir() { return dir_->path(); }
  static fs::path project() { return dir() / "project"; }
  static fs::path run() { return dir() / "run"; }

  static TempDir* dir_;
};

TempDir* LabelCli::dir_ = nullptr;

std::int64_t unlabeledCount(const fs::path& project) {
  project::Catalog catalog(project, /*create=*/false);
  return catalog.imageCount(project::kUnlabeled);
}

TEST_F(LabelCli, SuggestAcceptUndoRedo) {
  const auto first = taxon({"suggest", project().string(), "--checkpoint_dir", run().string()});
  ASSERT_EQ(first.exitCode, 0) << first.err;
  EXPECT_NE(first.out.find("Suggested categories for 12 images"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("at step 4 (0 of 12 unlabeled images already had one"),
            std::string::npos)
      << first.out;
  EXPECT_NE(first.out.find("Unlabeled images whose top suggestion scores at least: "),
            std::string::npos)
      << first.out;
  const auto again = taxon({"suggest", project().string(), "--checkpoint_dir", run().string()});
  ASSERT_EQ(again.exitCode, 0) << again.err;
  EXPECT_NE(again.out.find("Suggested categories for 0 images"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("(12 of 12 unlabeled images already had one"), std::string::npos)
      << again.out;

  // The preview, then the edit; undo and redo replay it whole.
  const auto preview = taxon({"accept", project().string(), "--min_score", "0", "--dry_run"});
  ASSERT_EQ(preview.exitCode, 0) << preview.err;
  EXPECT_NE(preview.out.find("12 unlabeled images would be labeled"), std::string::npos)
      << preview.out;
  EXPECT_EQ(unlabeledCount(project()), 12);
  std::int64_t inBags = 0;
  {
    project::Catalog catalog(project(), /*create=*/false);
    project::SuggestionQuery query;
    query.categoryIds = {catalog.findCategory("Bags")->id};
    inBags = catalog.suggestionCount(query);
  }
  const auto bags = taxon({"accept", project().string(), "--min_score", "0", "--category", "Bags"});
  if (inBags == 0) {
    EXPECT_EQ(bags.exitCode, 1);
    EXPECT_NE(bags.err.find("no unlabeled image has a suggestion"), std::string::npos) << bags.err;
  } else {
    ASSERT_EQ(bags.exitCode, 0) << bags.err;
    EXPECT_EQ(unlabeledCount(project()), 12 - inBags);
    ASSERT_EQ(taxon({"undo", project().string()}).exitCode, 0);
  }
  const auto unknown = taxon({"accept", project().string(), "--category", "Hats"});
  EXPECT_EQ(unknown.exitCode, 2);
  EXPECT_NE(unknown.err.find("no category \"Hats\""), std::string::npos) << unknown.err;

  const auto all = taxon({"accept", project().string(), "--min_score", "0"});
  ASSERT_EQ(all.exitCode, 0) << all.err;
  EXPECT_NE(all.out.find("Labeled 12 images with their top suggestion"), std::string::npos)
      << all.out;
  EXPECT_NE(all.out.find("0 images are unlabeled now"), std::string::npos) << all.out;
  EXPECT_EQ(unlabeledCount(project()), 0);
  const auto undo = taxon({"undo", project().string()});
  ASSERT_EQ(undo.exitCode, 0) << undo.err;
  EXPECT_NE(undo.out.find("(accept, 12 images)"), std::string::npos) << undo.out;
  EXPECT_EQ(unlabeledCount(project()), 12);
  const auto redo = taxon({"redo", project().string()});
  ASSERT_EQ(redo.exitCode, 0) << redo.err;
  EXPECT_EQ(unlabeledCount(project()), 0);
  EXPECT_EQ(taxon({"redo", project().string()}).exitCode, 1);  // nothing left to redo
  ASSERT_EQ(taxon({"undo", project().string()}).exitCode, 0);
  EXPECT_EQ(unlabeledCount(project()), 12);
  const auto info = taxon({"info", project().string()});
  EXPECT_NE(info.out.find("Catalog check: ok."), std::string::npos) << info.out << info.err;
}

TEST_F(LabelCli, SuggestRefusesAModelWhoseCategoriesChanged) {
  {
    project::Catalog catalog(project(), /*create=*/false);
    catalog.renameCategory(catalog.findCategory("Bags")->id, "Handbags");
  }
  const auto refused = taxon({"suggest", project().string(), "--checkpoint_dir", run().string()});
  EXPECT_EQ(refused.exitCode, 1);
  EXPECT_NE(refused.err.find("\"Bags\" was renamed to \"Handbags\""), std::string::npos)
      << refused.err;
  ASSERT_EQ(taxon({"undo", project().string()}).exitCode, 0);
  EXPECT_EQ(taxon({"suggest", project().string(), "--checkpoint_dir", run().string()}).exitCode, 0);
}

TEST_F(LabelCli, PickMarksTheImagesToLabelNext) {
  const fs::path list = dir() / "next.txt";
  const auto picked = taxon({"suggest", project().string(), "--checkpoint_dir", run().string(),
                             "--pick", "5", "--strategy", "diverse", "--pick_list", list.string()});
  ASSERT_EQ(picked.exitCode, 0) << picked.err;
  EXPECT_NE(picked.out.find("Picked 5 unlabeled images to label next (strategy diverse)"),
            std::string::npos)
      << picked.out;
  std::istringstream lines(readFile(list));
  std::vector<std::string> paths;
  for (std::string line; std::getline(lines, line);) {
    paths.push_back(line);
  }
  ASSERT_EQ(paths.size(), 5u);
  project::Catalog catalog(project(), /*create=*/false);
  std::vector<std::int64_t> ids;
  for (const auto& path : paths) {
    EXPECT_EQ(fs::path(path).parent_path(), dir() / "new") << path;
    const auto image = catalog.imageByPath(path);
    ASSERT_TRUE(image) << path;
    EXPECT_EQ(image->categoryId, 0);
    ids.push_back(image->id);
  }
  EXPECT_EQ(catalog.picked(), ids);
  const auto unknown = taxon({"suggest", project().string(), "--checkpoint_dir", run().string(),
                              "--pick", "5", "--strategy", "smart"});
  EXPECT_EQ(unknown.exitCode, 2);
}

// Killed at random moments and run again: every unlabeled image ends with one suggestion, the
// same as a run never stopped gave, and the catalog passes its check.
TEST_F(LabelCli, SuggestKilledAtRandomMomentsThenRunAgainSuggestsEachImageOnce) {
  const fs::path killed = dir() / "killed";
  fs::copy(dir() / "pristine", killed, fs::copy_options::recursive);
  const std::vector<std::string> args = {"suggest",      killed.string(),  "--checkpoint_dir",
                                         run().string(), "--commit_every", "1"};
  const auto begin = std::chrono::steady_clock::now();
  ASSERT_EQ(taxon({"suggest", (dir() / "pristine").string(), "--checkpoint_dir", run().string()})
                .exitCode,
            0);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - begin);
  std::mt19937 rng(17);
  for (int round = 0; round < 3; ++round) {
    killAfter(start(taxonCli(), args),
              std::chrono::milliseconds(rng() % static_cast<unsigned>(took.count() + 1)));
  }
  const auto last = taxon(args);
  ASSERT_EQ(last.exitCode, 0) << last.err;
  project::Catalog reference(dir() / "pristine", /*create=*/false);
  project::Catalog resumed(killed, /*create=*/false);
  int compared = 0;
  for (const auto& image : resumed.images(project::kUnlabeled)) {
    const auto mine = resumed.suggestion(image.id);
    const auto theirs =
        reference.suggestion(reference.imageByPath(resumed.resolve(image.path))->id);
    ASSERT_TRUE(mine && theirs) << image.path;
    ASSERT_EQ(mine->top.size(), theirs->top.size());
    EXPECT_EQ(mine->top[0].first, theirs->top[0].first) << image.path;
    EXPECT_NEAR(mine->top[0].second, theirs->top[0].second, 1e-4) << image.path;
    ++compared;
  }
  EXPECT_EQ(compared, 12);
  const auto info = taxon({"info", killed.string()});
  EXPECT_EQ(info.exitCode, 0) << info.err;
  EXPECT_NE(info.out.find("Catalog check: ok."), std::string::npos) << info.out << info.err;
}

}  // namespace
}  // namespace taxon::test
