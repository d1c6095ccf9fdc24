// Timings of the scale benchmark (run.sh) that the CLI has no command for.
//   taxon_bench_scale relabel PROJECT [COUNT=10000]
//     One relabel edit of COUNT images (every k-th image of the catalog, so that they come from
//     many categories) into one category, then its undo. Prints
//     "relabel images=N relabel_sec=S undo_sec=S".
//   taxon_bench_scale report OUT_DIR [CLASSES=1000] [EXAMPLES=100000]
//     The evaluation report of EXAMPLES synthetic predictions over CLASSES three-level
//     categories: accumulating (batches of 64 softmax rows), report() and writeReport(), each
//     timed. Prints "report classes=C examples=N add_sec=S report_sec=S write_sec=S".
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <random>
#include <string>
#include <vector>

#include "eval/Metrics.hpp"
#include "project/Catalog.hpp"

using namespace taxon;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int relabel(const std::string& projectDir, std::int64_t count) {
  project::Catalog catalog(projectDir, false);
  const std::int64_t total = catalog.imageCount();
  if (total < count) {
    std::fprintf(stderr, "the project has %lld images, fewer than %lld\n",
                 static_cast<long long>(total), static_cast<long long>(count));
    return 1;
  }
  const auto categories = catalog.categories();
  const std::int64_t target = categories.front().id;
  std::vector<std::int64_t> ids;
  const std::int64_t step = total / count;
  for (const auto& image : catalog.images()) {  // id order
    if (static_cast<std::int64_t>(ids.size()) < count && (image.id % step) == 0) {
      ids.push_back(image.id);
    }
  }
  auto start = Clock::now();
  const std::int64_t edit = catalog.relabel(ids, target);
  const double relabelSec = since(start);
  start = Clock::now();
  const bool undone = catalog.undo();
  const double undoSec = since(start);
  if (edit == 0 || !undone) {
    std::fprintf(stderr, "relabel edit %lld, undone %d\n", static_cast<long long>(edit), undone);
    return 1;
  }
  std::printf("relabel images=%zu relabel_sec=%.3f undo_sec=%.3f\n", ids.size(), relabelSec,
              undoSec);
  return 0;
}

int report(const std::string& outDir, int classes, std::int64_t examples) {
  std::vector<std::string> names;
  for (int c = 0; c < classes; ++c) {
    names.push_back("L1-" + std::to_string(c / 200) + " > L2-" + std::to_string(c / 20) + " > L3-" +
                    std::to_string(c));
  }
  eval::MetricsAccumulator metrics(names);
  std::mt19937 rng(1);
  std::uniform_int_distribution<int> pick(0, classes - 1);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  constexpr std::size_t kBatch = 64;
  std::vector<float> rows(kBatch * static_cast<std::size_t>(classes));
  std::vector<std::int64_t> labels(kBatch);
  std::vector<std::string> keys(kBatch);
  double addSec = 0;
  for (std::int64_t done = 0; done < examples;) {
    const auto n = static_cast<std::size_t>(std::min<std::int64_t>(kBatch, examples - done));
    // A model that is right about 60% of the time, unsure otherwise.
    for (std::size_t i = 0; i < n; ++i) {
      labels[i] = pick(rng);
      const int top = unit(rng) < 0.6f ? static_cast<int>(labels[i]) : pick(rng);
      float* row = &rows[i * static_cast<std::size_t>(classes)];
      float sum = 0;
      for (int c = 0; c < classes; ++c) {
        row[c] = unit(rng) * 0.01f + (c == top ? 2.0f : 0.0f);
        sum += row[c];
      }
      for (int c = 0; c < classes; ++c) {
        row[c] /= sum;
      }
      keys[i] = "train-00000-of-00064@" + std::to_string(done + static_cast<std::int64_t>(i));
    }
    keys.resize(n);
    const auto start = Clock::now();
    metrics.add(rows.data(), n, labels.data(), keys);
    addSec += since(start);
    done += static_cast<std::int64_t>(n);
  }
  auto start = Clock::now();
  const auto result = metrics.report();
  const double reportSec = since(start);
  start = Clock::now();
  eval::writeReport(result, outDir);
  const double writeSec = since(start);
  std::printf("report classes=%d examples=%lld add_sec=%.3f report_sec=%.3f write_sec=%.3f\n",
              classes, static_cast<long long>(examples), addSec, reportSec, writeSec);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string what = argc > 1 ? argv[1] : "";
    if (what == "relabel" && argc >= 3) {
      return relabel(argv[2], argc > 3 ? std::atoll(argv[3]) : 10000);
    }
    if (what == "report" && argc >= 3) {
      return report(argv[2], argc > 3 ? std::atoi(argv[3]) : 1000,
                    argc > 4 ? std::atoll(argv[4]) : 100000);
    }
    std::fprintf(stderr,
                 "usage: taxon_bench_scale relabel PROJECT [COUNT]\n"
                 "       taxon_bench_scale report OUT_DIR [CLASSES] [EXAMPLES]\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
