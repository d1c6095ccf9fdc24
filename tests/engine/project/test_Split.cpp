#include "project/Split.hpp"

#include <gtest/gtest.h>

#include "TestFiles.hpp"
#include "project/Catalog.hpp"

namespace taxon::project {
namespace {

void fill(Catalog& catalog, const std::string& category, int count, int start) {
  std::vector<NewImage> images;
  for (int i = start; i < start + count; ++i) {
    images.push_back(NewImage{"/" + category + std::to_string(i), "h" + std::to_string(i), 1, 1,
                              "JPEG", 1, category, Split::Unassigned, "t"});
  }
  catalog.insertImages(images);
}

std::vector<std::pair<std::int64_t, Split>> splitsOf(Catalog& catalog) {
  std::vector<std::pair<std::int64_t, Split>> out;
  for (const auto& image : catalog.images()) {
    out.emplace_back(image.id, image.split);
  }
  return out;
}

TEST(Split, StratifiedNinetyTenPerCategory) {
  test::TempDir dir;
  Catalog catalog(dir.path(), true);
  fill(catalog, "A", 100, 0);
  fill(catalog, "B", 30, 1000);
  fill(catalog, "C", 1, 2000);
  assignSplits(catalog, SplitSettings{0.1, 7, false});
  EXPECT_EQ(catalog.imageCount(catalog.findCategory("A")->id, Split::Validation), 10);
  EXPECT_EQ(catalog.imageCount(catalog.findCategory("B")->id, Split::Validation), 3);
  EXPECT_EQ(catalog.imageCount(catalog.findCategory("C")->id, Split::Validation), 0);
  EXPECT_EQ(catalog.imageCount(std::nullopt, Split::Unassigned), 0);
}

TEST(Split, SameSeedSameSplitAndNewImagesDoNotMoveOldOnes) {
  test::TempDir dir;
  Catalog one(dir / "one", true);
  Catalog two(dir / "two", true);
  fill(one, "A", 50, 0);
  fill(two, "A", 50, 0);
  assignSplits(one, SplitSettings{0.2, 3, false});
  assignSplits(two, SplitSettings{0.2, 3, false});
  EXPECT_EQ(splitsOf(one), splitsOf(two));
  const auto before = splitsOf(one);

  fill(one, "A", 50, 100);
  const auto summary = assignSplits(one, SplitSettings{0.2, 3, false});
  EXPECT_EQ(summary.assigned, 50);
  const auto after = splitsOf(one);
  for (std::size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(after[i], before[i]) << "image " << before[i].first << " moved";
  }
  EXPECT_EQ(one.imageCount(std::nullopt, Split::Validation), 20);

  Catalog three(dir / "three", true);
  fill(three, "A", 50, 0);
  assignSplits(three, SplitSettings{0.2, 4, false});
  EXPECT_NE(splitsOf(three), before) << "another seed, another split";
}

TEST(Split, ResplitRedrawsButNeverTouchesTheTestSplit) {
  test::TempDir dir;
  Catalog catalog(dir.path(), true);
  fill(catalog, "A", 40, 0);
  catalog.setSplits({{1, Split::Test}, {2, Split::Test}});
  assignSplits(catalog, SplitSettings{0.25, 1, false});
  const auto first = splitsOf(catalog);
  assignSplits(catalog, SplitSettings{0.25, 2, true});
  EXPECT_EQ(catalog.image(1)->split, Split::Test);
  EXPECT_EQ(catalog.image(2)->split, Split::Test);
  EXPECT_EQ(catalog.imageCount(std::nullopt, Split::Validation), 10) << "25% of 38, rounded";
  EXPECT_NE(splitsOf(catalog), first);
}

}  // namespace
}  // namespace taxon::project
