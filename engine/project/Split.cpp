#include "project/Split.hpp"

#include <cmath>
#include <vector>

#include "core/Error.hpp"
#include "core/SeededRandom.hpp"
#include "project/Catalog.hpp"

namespace taxon::project {

std::string_view splitName(Split split) {
  switch (split) {
    case Split::Train:
      return "train";
    case Split::Validation:
      return "validation";
    case Split::Test:
      return "test";
    case Split::Unassigned:
      break;
  }
  return "unassigned";
}

std::optional<Split> parseSplit(std::string_view name) {
  for (Split s : {Split::Unassigned, Split::Train, Split::Validation, Split::Test}) {
    if (splitName(s) == name) {
      return s;
    }
  }
  return std::nullopt;
}

SplitSummary assignSplits(Catalog& catalog, const SplitSettings& settings) {
  if (!(settings.validationFraction >= 0.0 && settings.validationFraction < 1.0)) {
    throw core::UsageError("validation fraction must be in [0, 1), got " +
                           std::to_string(settings.validationFraction));
  }
  SplitSummary summary;
  std::vector<std::pair<std::int64_t, Split>> changes;
  // Each category is a stratum, and so are the unlabeled images (they keep their split when
  // they get a label).
  std::vector<std::int64_t> strata;
  for (const auto& category : catalog.categories()) {
    strata.push_back(category.id);
  }
  strata.push_back(kUnlabeled);
  for (const auto stratum : strata) {
    std::vector<std::int64_t> open;  // ids to place, in id order
    std::int64_t total = 0;
    std::int64_t validation = 0;
    for (const auto& image : catalog.images(stratum)) {
      if (image.split == Split::Test) {
        continue;
      }
      ++total;
      if (settings.resplit || image.split == Split::Unassigned) {
        open.push_back(image.id);
      } else if (image.split == Split::Validation) {
        ++validation;
      }
    }
    // Fisher-Yates with our own generator so the split is the same on every platform.
    std::uint64_t state =
        core::mixSeed(settings.seed ^ core::mixSeed(static_cast<std::uint64_t>(stratum)));
    for (std::size_t i = open.size(); i > 1; --i) {
      state = core::mixSeed(state);
      std::swap(open[i - 1], open[state % i]);
    }
    const auto target = static_cast<std::int64_t>(
        std::llround(static_cast<double>(total) * settings.validationFraction));
    std::int64_t need = std::max<std::int64_t>(0, target - validation);
    for (const auto id : open) {
      const Split split = need > 0 ? Split::Validation : Split::Train;
      need -= split == Split::Validation ? 1 : 0;
      changes.emplace_back(id, split);
      ++(split == Split::Validation ? summary.validation : summary.train);
    }
  }
  summary.assigned = static_cast<std::int64_t>(changes.size());
  catalog.setSplits(changes);
  return summary;
}

}  // namespace taxon::project
