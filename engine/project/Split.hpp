// The splits an image can be in, and the stratified, seeded train/validation split (the seed's
// 90/10, per category).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace taxon::project {

class Catalog;

enum class Split { Unassigned, Train, Validation, Test };
std::string_view splitName(Split split);  // "unassigned", "train", "validation", "test"
std::optional<Split> parseSplit(std::string_view name);

struct SplitSettings {
  double validationFraction = 0.1;  // share of each category held out for validation, in [0, 1)
  std::uint64_t seed = 0;
  // false: images already in train or validation stay there and only unassigned ones are placed
  // (so that importing more data never moves an image between splits). true: start over.
  // Images in the test split are never touched.
  bool resplit = false;
};

struct SplitSummary {
  std::int64_t assigned = 0;  // images whose split this call set or changed
  std::int64_t train = 0;
  std::int64_t validation = 0;
};

// Places images so that each category's validation share comes as close to the fraction as the
// images already placed allow. Deterministic for a seed: the same catalog gives the same split.
SplitSummary assignSplits(Catalog& catalog, const SplitSettings& settings);

}  // namespace taxon::project
