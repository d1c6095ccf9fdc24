// Hierarchical roll-up of a model's ranked categories: when no leaf is confident but the leading
// two share a parent, the parent is (the leaves' scores summed), and saying so is the honest
// suggestion: "Shoes > Sneakers 0.93: Men 0.48, Women 0.45".
//
// Two kinds of shared parent are recognised, the tree's and the catalog's:
// - a common prefix: "Shoes > Sneakers > Men" and "Shoes > Sneakers > Women" roll up into
//   "Shoes > Sneakers", summing every category below it;
// - failing that, a common suffix: "Men > Shoes > Sneakers" and "Women > Shoes > Sneakers" (the
//   seed's departments over the same kinds of goods) roll up into "Shoes > Sneakers", summing
//   every category whose path ends with it.
// No torch; any thread.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "infer/Classifier.hpp"

namespace taxon::infer {

struct Rollup {
  std::string parent;  // the shared part of the paths ("Shoes > Sneakers")
  double score = 0.0;  // the summed score of every category it covers
  // The leading covered categories (up to 3, best first), each named by what is left of its path
  // once the shared part is taken away ("Men"), with its score.
  std::vector<std::pair<std::string, double>> leaves;
};

// `ranked`: categories with their scores, best first (all of them for exact sums; the sum covers
// the ones given). A roll-up when the best score is under `confident` and the best two share a
// parent whose summed score reaches `confident`; nothing otherwise.
std::optional<Rollup> rollUp(const std::vector<RankedCategory>& ranked, double confident = 0.5);

// "Shoes > Sneakers 0.93: Men 0.48, Women 0.45" (scores with two decimals).
std::string describeRollup(const Rollup& rollup);

}  // namespace taxon::infer
