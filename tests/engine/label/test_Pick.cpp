// Active learning's strategies on a catalog with known suggestions: each returns the count asked
// (or what is left), never a labeled image, in its own order; diverse spends one pick on a cluster
// of identical uncertain images; the pick is stored and follows labeling.
#include "label/Pick.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "TestFiles.hpp"
#include "core/Error.hpp"

namespace taxon::label {
namespace {

project::Suggestion suggestion(std::int64_t imageId,
                               std::vector<std::pair<std::int64_t, double>> top) {
  project::Suggestion s;
  s.imageId = imageId;
  s.run = "/runs/a";
  s.step = 1;
  s.top = std::move(top);
  s.margin = s.top[0].second - s.top[1].second;
  for (const auto& [id, p] : s.top) {
    s.entropy -= p * std::log(p);
  }
  return s;
}

// 20 unlabeled images: 6 identical and the most uncertain (a cluster), 4 uncertain in other ways,
// 10 sure; and 5 labeled images with suggestions of their own.
class Pick : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog_ = std::make_unique<project::Catalog>(dir_.path(), true);
    std::vector<project::NewImage> images;
    for (int i = 0; i < 25; ++i) {
      images.push_back({"/img/" + std::to_string(i), "h" + std::to_string(i), 8, 8, "PNG", 10,
                        i < 20 ? "" : "Shoes", project::Split::Train, "test"});
    }
    catalog_->insertImages(images);
    const std::int64_t a = catalog_->ensureCategory("A"), b = catalog_->ensureCategory("B"),
                       c = catalog_->ensureCategory("C"), d = catalog_->ensureCategory("D");
    for (const auto& image : catalog_->images()) {
      ids_.push_back(image.id);
    }
    std::vector<project::Suggestion> all;
    for (int i = 0; i < 6; ++i) {
      all.push_back(suggestion(ids_[i], {{a, 0.26}, {b, 0.25}, {c, 0.25}, {d, 0.24}}));
    }
    all.push_back(suggestion(ids_[6], {{a, 0.45}, {b, 0.44}, {c, 0.11}}));
    all.push_back(suggestion(ids_[7], {{c, 0.40}, {d, 0.39}, {a, 0.21}}));
    all.push_back(suggestion(ids_[8], {{b, 0.50}, {d, 0.30}, {a, 0.20}}));
    all.push_back(suggestion(ids_[9], {{d, 0.55}, {c, 0.25}, {b, 0.20}}));
    for (int i = 10; i < 25; ++i) {
      all.push_back(suggestion(ids_[static_cast<std::size_t>(i)], {{a, 0.97}, {b, 0.03}}));
    }
    catalog_->storeSuggestions(all);
  }

  std::vector<std::int64_t> pick(PickStrategy strategy, std::int64_t count,
                                 std::uint64_t seed = 0) {
    PickSettings settings;
    settings.strategy = strategy;
    settings.count = count;
    settings.seed = seed;
    return pickToLabel(*catalog_, settings);
  }

  test::TempDir dir_;
  std::unique_ptr<project::Catalog> catalog_;
  std::vector<std::int64_t> ids_;  // by image number
};

TEST_F(Pick, EveryStrategyReturnsTheCountAndNeverALabeledImage) {
  for (const auto strategy :
       {PickStrategy::Random, PickStrategy::Entropy, PickStrategy::Margin, PickStrategy::Diverse}) {
    for (const std::int64_t count : {0, 1, 4, 7, 20, 30}) {
      const auto ids = pick(strategy, count);
      EXPECT_EQ(static_cast<std::int64_t>(ids.size()), std::min<std::int64_t>(count, 20))
          << pickStrategyName(strategy) << " " << count;
      EXPECT_EQ(std::set<std::int64_t>(ids.begin(), ids.end()).size(), ids.size());
      for (const auto id : ids) {
        EXPECT_EQ(catalog_->image(id)->categoryId, 0) << pickStrategyName(strategy);
      }
    }
  }
}

TEST_F(Pick, EachStrategyInItsOwnOrder) {
  // Entropy: the uniform cluster first.
  for (const auto id : pick(PickStrategy::Entropy, 6)) {
    EXPECT_LT(std::find(ids_.begin(), ids_.end(), id) - ids_.begin(), 6);
  }
  // Margin: the smallest gaps (0.01, in the cluster and image 6 and 7) first; never a sure one.
  for (const auto id : pick(PickStrategy::Margin, 8)) {
    EXPECT_LT(std::find(ids_.begin(), ids_.end(), id) - ids_.begin(), 8);
  }
  // Diverse: one of the cluster, then the four images unlike it, before a second of the cluster.
  const auto diverse = pick(PickStrategy::Diverse, 5);
  int fromCluster = 0;
  for (const auto id : diverse) {
    const auto at = std::find(ids_.begin(), ids_.end(), id) - ids_.begin();
    EXPECT_LT(at, 10);
    fromCluster += at < 6 ? 1 : 0;
  }
  EXPECT_EQ(fromCluster, 1);
  // Random: seeded.
  EXPECT_EQ(pick(PickStrategy::Random, 5, 1), pick(PickStrategy::Random, 5, 1));
  EXPECT_NE(pick(PickStrategy::Random, 5, 1), pick(PickStrategy::Random, 5, 2));
}

TEST_F(Pick, ThePickIsStoredAndFollowsLabeling) {
  const auto ids = pick(PickStrategy::Diverse, 4);
  EXPECT_EQ(catalog_->picked(), ids);
  catalog_->relabel({ids[1]}, catalog_->ensureCategory("A"));
  EXPECT_EQ(catalog_->picked(), (std::vector<std::int64_t>{ids[0], ids[2], ids[3]}));
  pick(PickStrategy::Margin, 2);  // a new pick replaces the old one
  EXPECT_EQ(catalog_->picked().size(), 2u);
  EXPECT_EQ(parsePickStrategy("diverse"), PickStrategy::Diverse);
  EXPECT_FALSE(parsePickStrategy("smart"));
  EXPECT_THROW(pick(PickStrategy::Margin, -1), core::UsageError);
}

}  // namespace
}  // namespace taxon::label
