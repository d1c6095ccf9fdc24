#include "label/Pick.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "core/Error.hpp"
#include "core/SeededRandom.hpp"

namespace taxon::label {

namespace {

using Sparse = std::vector<std::pair<std::int64_t, double>>;  // category id, score; by id

Sparse sparseOf(const project::Suggestion& s) {
  Sparse v = s.top;
  std::sort(v.begin(), v.end());
  return v;
}

// Squared Euclidean distance of two sparse distributions (ids sorted).
double distance2(const Sparse& a, const Sparse& b) {
  double sum = 0.0;
  std::size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && a[i].first < b[j].first)) {
      sum += a[i].second * a[i].second;
      ++i;
    } else if (i == a.size() || b[j].first < a[i].first) {
      sum += b[j].second * b[j].second;
      ++j;
    } else {
      const double d = a[i].second - b[j].second;
      sum += d * d;
      ++i;
      ++j;
    }
  }
  return sum;
}

std::vector<std::int64_t> ordered(project::Catalog& catalog, project::SuggestionQuery::Order order,
                                  bool ascending, std::int64_t limit) {
  project::SuggestionQuery query;
  query.order = order;
  query.ascending = ascending;
  query.limit = limit;
  std::vector<std::int64_t> ids;
  for (const auto& s : catalog.suggestions(query)) {
    ids.push_back(s.imageId);
  }
  return ids;
}

std::vector<std::int64_t> randomPick(project::Catalog& catalog, const PickSettings& settings) {
  auto ids = ordered(catalog, project::SuggestionQuery::Order::Score, false, -1);
  std::sort(ids.begin(), ids.end());  // the draw depends on the seed, not on the scores
  core::SeededRandom random(core::SeededRandom::mix({settings.seed, 0x7069636bULL}));
  for (std::size_t i = ids.size(); i > 1; --i) {
    std::swap(ids[i - 1], ids[random.below(i)]);
  }
  ids.resize(std::min<std::size_t>(ids.size(), static_cast<std::size_t>(settings.count)));
  return ids;
}

std::vector<std::int64_t> diversePick(project::Catalog& catalog, const PickSettings& settings) {
  project::SuggestionQuery query;
  query.order = project::SuggestionQuery::Order::Entropy;
  query.limit = settings.count * std::max(1, settings.poolPerPick);
  const auto pool = catalog.suggestions(query);
  std::vector<Sparse> vectors;
  for (const auto& s : pool) {
    vectors.push_back(sparseOf(s));
  }
  std::vector<double> nearest(pool.size(), std::numeric_limits<double>::infinity());
  std::vector<bool> taken(pool.size(), false);
  std::vector<std::int64_t> ids;
  // The most uncertain first; then each time the candidate whose distance to the nearest image
  // picked, times its own entropy, is largest (ties: the more uncertain, first in the pool).
  std::size_t next = 0;
  while (!pool.empty() && static_cast<std::int64_t>(ids.size()) < settings.count) {
    taken[next] = true;
    ids.push_back(pool[next].imageId);
    double farthest = -1.0;
    std::size_t choice = pool.size();
    for (std::size_t i = 0; i < pool.size(); ++i) {
      if (taken[i]) {
        continue;
      }
      nearest[i] = std::min(nearest[i], distance2(vectors[i], vectors[next]));
      const double worth = nearest[i] * pool[i].entropy;
      if (worth > farthest) {
        farthest = worth;
        choice = i;
      }
    }
    if (choice == pool.size()) {
      break;
    }
    next = choice;
  }
  return ids;
}

}  // namespace

std::string_view pickStrategyName(PickStrategy strategy) {
  switch (strategy) {
    case PickStrategy::Random:
      return "random";
    case PickStrategy::Entropy:
      return "entropy";
    case PickStrategy::Margin:
      return "margin";
    case PickStrategy::Diverse:
      break;
  }
  return "diverse";
}

std::optional<PickStrategy> parsePickStrategy(std::string_view name) {
  for (const auto s :
       {PickStrategy::Random, PickStrategy::Entropy, PickStrategy::Margin, PickStrategy::Diverse}) {
    if (pickStrategyName(s) == name) {
      return s;
    }
  }
  return std::nullopt;
}

std::vector<std::int64_t> pickToLabel(project::Catalog& catalog, const PickSettings& settings) {
  if (settings.count < 0) {
    throw core::UsageError("pick: the count must not be negative");
  }
  std::vector<std::int64_t> ids;
  switch (settings.strategy) {
    case PickStrategy::Random:
      ids = randomPick(catalog, settings);
      break;
    case PickStrategy::Entropy:
      ids = ordered(catalog, project::SuggestionQuery::Order::Entropy, false, settings.count);
      break;
    case PickStrategy::Margin:
      ids = ordered(catalog, project::SuggestionQuery::Order::Margin, true, settings.count);
      break;
    case PickStrategy::Diverse:
      ids = diversePick(catalog, settings);
      break;
  }
  catalog.storePick(ids, pickStrategyName(settings.strategy));
  return ids;
}

}  // namespace taxon::label
