// Active learning: which unlabeled images a person should label next, chosen from the model's
// stored suggestions (`taxon suggest`), and marked in the catalog (Catalog::storePick) for the
// app's "Label next" queue.
//   random   a seeded draw: the baseline every other strategy must beat, and the default while
//            none does (bench/active: margin fell below it by 0.03 to 0.17 at every round)
//   entropy  the most uncertain distributions first
//   margin   the smallest gap between the top two first
//   diverse  uncertainty and coverage together: among the most uncertain images (5 per pick, by
//            entropy), greedy k-center in the space of the model's predicted distributions (each
//            image's stored top 5 as a sparse vector), each distance weighted by the candidate's
//            entropy, so that a cluster of near-identical uncertain images costs one pick, not all
//            of them, and a far but sure image is not taken for coverage. The model's
//            predictions stand in for its pooled features, which the catalog does not keep.
// No torch; reads and writes the catalog on the calling thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "project/Catalog.hpp"

namespace taxon::label {

enum class PickStrategy { Random, Entropy, Margin, Diverse };
std::string_view pickStrategyName(PickStrategy strategy);
std::optional<PickStrategy> parsePickStrategy(std::string_view name);

struct PickSettings {
  std::int64_t count = 0;
  PickStrategy strategy = PickStrategy::Random;  // the best measured so far (bench/active)
  std::uint64_t seed = 0;                        // random's draw
  int poolPerPick = 5;  // diverse: candidates per image picked, the most uncertain
};

// The ids of at most `count` unlabeled images with a suggestion, best first, stored as the
// project's pick (replacing the previous one). Fewer when fewer are left.
std::vector<std::int64_t> pickToLabel(project::Catalog& catalog, const PickSettings& settings);

}  // namespace taxon::label
