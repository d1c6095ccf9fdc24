#include "infer/Rollup.hpp"

#include <algorithm>
#include <cstdio>

#include "core/CategoryPath.hpp"

namespace taxon::infer {

namespace {

std::string join(const std::vector<std::string>& segments, std::size_t begin, std::size_t end) {
  std::string out;
  for (std::size_t i = begin; i < end; ++i) {
    out += (out.empty() ? "" : " > ") + segments[i];
  }
  return out;
}

// The shared part of two paths: a common prefix (the tree's parent), else a common suffix; its
// number of segments and whether it is the prefix. 0 segments: none, or one path holds the other.
std::pair<std::size_t, bool> sharedPart(const std::vector<std::string>& a,
                                        const std::vector<std::string>& b) {
  const std::size_t shorter = std::min(a.size(), b.size());
  std::size_t prefix = 0;
  while (prefix < shorter && a[prefix] == b[prefix]) {
    ++prefix;
  }
  if (prefix > 0 && prefix < shorter) {
    return {prefix, true};
  }
  if (prefix > 0) {
    return {0, true};  // one is an ancestor of the other: nothing to roll up
  }
  std::size_t suffix = 0;
  while (suffix < shorter && a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix]) {
    ++suffix;
  }
  return {suffix < shorter ? suffix : 0, false};
}

}  // namespace

std::optional<Rollup> rollUp(const std::vector<RankedCategory>& ranked, double confident) {
  if (ranked.size() < 2 || ranked[0].score >= confident) {
    return std::nullopt;
  }
  const auto first = core::categorySegments(ranked[0].name);
  const auto second = core::categorySegments(ranked[1].name);
  const auto [length, isPrefix] = sharedPart(first, second);
  if (length == 0) {
    return std::nullopt;
  }
  Rollup rollup;
  rollup.parent =
      isPrefix ? join(first, 0, length) : join(first, first.size() - length, first.size());
  for (const auto& category : ranked) {
    const auto segments = core::categorySegments(category.name);
    if (segments.size() <= length) {
      continue;
    }
    const bool covered =
        isPrefix ? join(segments, 0, length) == rollup.parent
                 : join(segments, segments.size() - length, segments.size()) == rollup.parent;
    if (!covered) {
      continue;
    }
    rollup.score += category.score;
    if (rollup.leaves.size() < 3) {
      rollup.leaves.emplace_back(isPrefix ? join(segments, length, segments.size())
                                          : join(segments, 0, segments.size() - length),
                                 category.score);
    }
  }
  if (rollup.score < confident) {
    return std::nullopt;
  }
  return rollup;
}

std::string describeRollup(const Rollup& rollup) {
  char score[32];
  std::snprintf(score, sizeof score, " %.2f:", rollup.score);
  std::string out = rollup.parent + score;
  for (std::size_t i = 0; i < rollup.leaves.size(); ++i) {
    std::snprintf(score, sizeof score, " %.2f", rollup.leaves[i].second);
    out += (i == 0 ? " " : ", ") + rollup.leaves[i].first + score;
  }
  return out;
}

}  // namespace taxon::infer
