// The roll-up of a model's ranked categories to a shared parent: by the tree's prefix, by the
// departments' common suffix, and not at all when a leaf is confident or the parent is not.
#include "infer/Rollup.hpp"

#include <gtest/gtest.h>

namespace taxon::infer {
namespace {

std::vector<RankedCategory> ranked(const std::vector<std::pair<std::string, double>>& scores) {
  std::vector<RankedCategory> out;
  for (const auto& [name, score] : scores) {
    out.push_back({static_cast<std::int64_t>(out.size()), name, score});
  }
  return out;
}

TEST(Rollup, TheSeedsDepartmentsRollUpIntoTheKindOfGoods) {
  const auto rollup = rollUp(ranked({{"Men > Shoes > Sneakers", 0.48},
                                     {"Women > Shoes > Sneakers", 0.45},
                                     {"Women > Bags", 0.05},
                                     {"Kids > Shoes > Sneakers", 0.02}}));
  ASSERT_TRUE(rollup);
  EXPECT_EQ(rollup->parent, "Shoes > Sneakers");
  EXPECT_NEAR(rollup->score, 0.95, 1e-12);  // every category ending with it, Kids' too
  ASSERT_EQ(rollup->leaves.size(), 3u);
  EXPECT_EQ(rollup->leaves[0].first, "Men");
  EXPECT_EQ(rollup->leaves[2].first, "Kids");
  const auto top2 = rollUp(ranked({{"Men > Shoes > Sneakers", 0.48},
                                   {"Women > Shoes > Sneakers", 0.45},
                                   {"Women > Bags", 0.07}}));
  ASSERT_TRUE(top2);
  EXPECT_EQ(describeRollup(*top2), "Shoes > Sneakers 0.93: Men 0.48, Women 0.45");
}

TEST(Rollup, SiblingsRollUpIntoTheirParentInTheTree) {
  const auto rollup = rollUp(ranked({{"Shoes > Sneakers > Running", 0.40},
                                     {"Shoes > Sneakers > Court", 0.35},
                                     {"Bags > Totes", 0.15},
                                     {"Shoes > Boots", 0.10}}));
  ASSERT_TRUE(rollup);
  EXPECT_EQ(rollup->parent, "Shoes > Sneakers");
  EXPECT_NEAR(rollup->score, 0.75, 1e-12);  // not the boots: they are not below it
  EXPECT_EQ(describeRollup(*rollup), "Shoes > Sneakers 0.75: Running 0.40, Court 0.35");
  // Two levels shared: the deeper parent.
  const auto shoes =
      rollUp(ranked({{"Shoes > Boots", 0.45}, {"Shoes > Sandals", 0.40}, {"Bags", 0.15}}));
  ASSERT_TRUE(shoes);
  EXPECT_EQ(describeRollup(*shoes), "Shoes 0.85: Boots 0.45, Sandals 0.40");
}

TEST(Rollup, NoneWhenALeafIsConfidentOrNothingIsShared) {
  // A confident leaf needs no roll-up.
  EXPECT_FALSE(rollUp(ranked(
      {{"Men > Shoes > Sneakers", 0.60}, {"Women > Shoes > Sneakers", 0.39}, {"Bags", 0.01}})));
  // Nothing shared.
  EXPECT_FALSE(rollUp(ranked({{"Shoes", 0.45}, {"Bags", 0.40}, {"Hats", 0.15}})));
  // The parent is no surer than a confident threshold allows.
  EXPECT_FALSE(rollUp(ranked({{"Shoes > Boots", 0.25},
                              {"Shoes > Sandals", 0.20},
                              {"Bags", 0.19},
                              {"Hats", 0.18},
                              {"Belts", 0.18}})));
  EXPECT_TRUE(rollUp(ranked({{"Shoes > Boots", 0.25},
                             {"Shoes > Sandals", 0.20},
                             {"Bags", 0.19},
                             {"Hats", 0.18},
                             {"Belts", 0.18}}),
                     0.4));
  // One path above the other: a parent and its own child share no parent to roll into.
  EXPECT_FALSE(rollUp(ranked({{"Shoes", 0.45}, {"Shoes > Boots", 0.40}, {"Bags", 0.15}})));
  // Fewer than two categories.
  EXPECT_FALSE(rollUp(ranked({{"Shoes", 0.45}})));
}

}  // namespace
}  // namespace taxon::infer
