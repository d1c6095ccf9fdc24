// Nearest neighbours of image features: what the float16 store costs in neighbour agreement, and
// exact search against hnswlib's and FAISS's graph (HNSW) and FAISS's inverted-file index, at the
// size asked for. Real features come from a project and a checkpoint (the classifier's pooled
// features); past the project's size, rows are the real ones with noise added (a generated set
// with the real set's spread), so the store, index sizes and latencies are those of --rows.
//
//   taxon_bench_similar --project P --checkpoint_dir RUN --rows 1000000 --work DIR [--queries 200]
//
// Prints one line per measurement, and a CSV table (--csv FILE).
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFFlat.h>
#include <omp.h>

#include <opencv2/core.hpp>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "infer/Classifier.hpp"
#include "project/Catalog.hpp"
#include "similar/EmbeddingStore.hpp"

namespace fs = std::filesystem;
using namespace taxon;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

long rssKb() {
  std::ifstream status("/proc/self/status");
  std::string key;
  long value = 0;
  while (status >> key) {
    if (key == "VmRSS:") {
      status >> value;
      return value;
    }
  }
  return 0;
}

void normalize(float* v, std::size_t d) {
  double s = 0;
  for (std::size_t i = 0; i < d; ++i)
    s += double(v[i]) * v[i];
  const float k = s > 0 ? float(1.0 / std::sqrt(s)) : 0.f;
  for (std::size_t i = 0; i < d; ++i)
    v[i] *= k;
}

// Exact top k by inner product over fp32 rows (the reference).
std::vector<std::int64_t> exactTop(const std::vector<float>& rows, std::size_t d, const float* q,
                                   int k, std::int64_t skip) {
  const std::size_t n = rows.size() / d;
  std::vector<std::pair<float, std::int64_t>> best;
  for (std::size_t i = 0; i < n; ++i) {
    if (static_cast<std::int64_t>(i) == skip)
      continue;
    float dot = 0;
    const float* r = rows.data() + i * d;
    for (std::size_t j = 0; j < d; ++j)
      dot += r[j] * q[j];
    best.emplace_back(-dot, static_cast<std::int64_t>(i));
  }
  std::partial_sort(best.begin(), best.begin() + k, best.end());
  std::vector<std::int64_t> out;
  for (int i = 0; i < k; ++i)
    out.push_back(best[static_cast<std::size_t>(i)].second);
  return out;
}

// A store of `flat`'s rows (`d` floats each), ids 0, 1, ...
void writeStore(const fs::path& dir, const std::vector<float>& flat, std::size_t d) {
  similar::EmbeddingWriter w(dir, {"bench", 0, std::int64_t(d), 0});
  std::vector<std::int64_t> ids;
  std::vector<std::vector<float>> rows;
  for (std::size_t i = 0; i < flat.size() / d; ++i) {
    ids.push_back(std::int64_t(i));
    rows.emplace_back(flat.begin() + long(i * d), flat.begin() + long((i + 1) * d));
  }
  w.append(ids, rows);
}

double overlap(const std::vector<std::int64_t>& a, const std::vector<std::int64_t>& b) {
  const std::set<std::int64_t> s(a.begin(), a.end());
  int hit = 0;
  for (const auto x : b)
    hit += s.count(x) != 0;
  return double(hit) / double(a.size());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("taxon_bench_similar");
  std::string project, checkpoint, work, csv;
  std::int64_t rows = 100000;
  int queries = 200, k = 12, threads = 2;
  bool skipFaiss = false;
  app.add_option("--project", project)->required();
  app.add_option("--checkpoint_dir", checkpoint)->required();
  app.add_option("--work", work)->required();
  app.add_option("--rows", rows);
  app.add_option("--queries", queries);
  app.add_option("--threads", threads);
  app.add_option("--csv", csv);
  app.add_flag("--skip_faiss", skipFaiss);
  CLI11_PARSE(app, argc, argv);
  omp_set_num_threads(threads);
  std::FILE* table = csv.empty() ? nullptr : std::fopen(csv.c_str(), "w");
  const auto report = [&](const std::string& what, double value, const std::string& unit) {
    std::printf("%-58s %14.4f %s\n", what.c_str(), value, unit.c_str());
    std::fflush(stdout);
    if (table)
      std::fprintf(table, "%s,%.6g,%s\n", what.c_str(), value, unit.c_str());
  };
  if (table)
    std::fprintf(table, "measure,value,unit\n");

  // 1. Real features of the project's images.
  project::Catalog catalog(project, false);
  std::vector<fs::path> files;
  for (const auto& image : catalog.images())
    files.push_back(catalog.resolve(image.path));
  infer::ClassifierSettings cs;
  cs.features = true;
  cs.batchSize = 64;
  infer::Classifier classifier(checkpoint, cs);
  const auto d = static_cast<std::size_t>(classifier.featureSize());
  double t = now();
  const auto results = classifier.classifyFiles(files, 1);
  const double embedSeconds = now() - t;
  std::vector<float> real;
  for (const auto& r : results) {
    if (r.error.empty())
      real.insert(real.end(), r.features.begin(), r.features.end());
  }
  const std::size_t nReal = real.size() / d;
  report("embedding throughput (images/s, CPU, " + std::to_string(threads) + " cores)",
         double(nReal) / embedSeconds, "images/s");
  report("feature length", double(d), "floats");

  // 2. fp16 against fp32 on the real set: do the k nearest stay the same?
  std::vector<float> unitReal = real;
  for (std::size_t i = 0; i < nReal; ++i)
    normalize(unitReal.data() + i * d, d);
  const fs::path realStore = fs::path(work) / "real";
  fs::remove_all(realStore);
  writeStore(realStore, real, d);
  {
    const similar::EmbeddingStore store(realStore);
    double agree = 0;
    std::mt19937 rng(1);
    const int nq = std::min<int>(queries, int(nReal));
    for (int q = 0; q < nq; ++q) {
      const auto i = std::int64_t(rng() % nReal);
      const auto ref = exactTop(unitReal, d, unitReal.data() + i * std::int64_t(d), k, i);
      std::vector<std::int64_t> got;
      for (const auto& n : store.nearest(store.row(i), k, i))
        got.push_back(n.imageId);
      agree += overlap(ref, got);
    }
    report("float16 store: share of the fp32 " + std::to_string(k) + " nearest kept (real set)",
           agree / nq, "fraction");
  }

  // 2b. The same with the features centred first (the mean of the first 1,024 images taken away):
  // distances spread out, so float16 rounding reorders fewer near ties.
  {
    const std::size_t m = std::min<std::size_t>(1024, nReal);
    std::vector<float> centre(d, 0.f);
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < d; ++j)
        centre[j] += real[i * d + j] / float(m);
    std::vector<float> centred = real;
    for (std::size_t i = 0; i < nReal; ++i)
      for (std::size_t j = 0; j < d; ++j)
        centred[i * d + j] -= centre[j];
    std::vector<float> unitCentred = centred;
    for (std::size_t i = 0; i < nReal; ++i)
      normalize(unitCentred.data() + i * d, d);
    const fs::path centredStore = fs::path(work) / "centred";
    fs::remove_all(centredStore);
    writeStore(centredStore, centred, d);
    const similar::EmbeddingStore cstore(centredStore);
    double agree = 0, sameAsRaw = 0, labelAgree = 0, labelAgreeRaw = 0, near1 = 0, near1Raw = 0;
    std::vector<std::int64_t> labelOf;
    for (const auto& image : catalog.images())
      labelOf.push_back(image.categoryId);
    std::mt19937 rng(1);
    const int nq = std::min<int>(queries, int(nReal));
    for (int q = 0; q < nq; ++q) {
      const auto i = std::int64_t(rng() % nReal);
      const auto ref = exactTop(unitCentred, d, unitCentred.data() + i * std::int64_t(d), k, i);
      const auto refRaw = exactTop(unitReal, d, unitReal.data() + i * std::int64_t(d), k, i);
      std::vector<std::int64_t> got;
      const auto found = cstore.nearest(cstore.row(i), k, i);
      for (const auto& n : found)
        got.push_back(n.imageId);
      agree += overlap(ref, got);
      sameAsRaw += overlap(refRaw, ref);
      for (const auto j : ref)
        labelAgree += labelOf[std::size_t(j)] == labelOf[std::size_t(i)];
      for (const auto j : refRaw)
        labelAgreeRaw += labelOf[std::size_t(j)] == labelOf[std::size_t(i)];
      near1 += found.front().distance;
      (void)near1Raw;
    }
    report("centred, float16: share of the fp32 " + std::to_string(k) + " nearest kept", agree / nq,
           "fraction");
    report("centred against raw fp32: share of the " + std::to_string(k) + " nearest in common",
           sameAsRaw / nq, "fraction");
    report("neighbours sharing the query's label, raw cosine", labelAgreeRaw / (nq * k),
           "fraction");
    report("neighbours sharing the query's label, centred cosine", labelAgree / (nq * k),
           "fraction");
    report("centred: mean distance to the nearest", near1 / nq, "cosine distance");
  }

  // 2c. PCA instead: a basis fitted on the first 4,096 images, rows projected to 64, 128 or 256
  // components (stored as float32 here, so only the reduction is measured).
  for (const int components : {64, 128, 256}) {
    if (std::size_t(components) >= d)
      continue;
    const int fit = int(std::min<std::size_t>(4096, nReal));
    const cv::Mat sample(fit, int(d), CV_32F, real.data());
    const cv::PCA pca(sample, cv::noArray(), cv::PCA::DATA_AS_ROW, components);
    const cv::Mat allRows(int(nReal), int(d), CV_32F, real.data());
    cv::Mat projected = pca.project(allRows);
    std::vector<float> reduced(projected.begin<float>(), projected.end<float>());
    for (std::size_t i = 0; i < nReal; ++i)
      normalize(reduced.data() + i * std::size_t(components), std::size_t(components));
    double agree = 0;
    std::mt19937 rng(1);
    const int nq = std::min<int>(queries, int(nReal));
    for (int q = 0; q < nq; ++q) {
      const auto i = std::int64_t(rng() % nReal);
      const auto ref = exactTop(unitReal, d, unitReal.data() + i * std::int64_t(d), k, i);
      const auto got = exactTop(reduced, std::size_t(components),
                                reduced.data() + i * std::int64_t(components), k, i);
      agree += overlap(ref, got);
    }
    report("PCA " + std::to_string(components) + ": share of the fp32 " + std::to_string(k) +
               " nearest kept",
           agree / nq, "fraction");
  }

  // 3. The generated set of --rows: real rows plus noise of a fifth of each feature's spread.
  std::vector<float> spread(d, 0.f), mean(d, 0.f);
  for (std::size_t i = 0; i < nReal; ++i)
    for (std::size_t j = 0; j < d; ++j)
      mean[j] += real[i * d + j] / float(nReal);
  for (std::size_t i = 0; i < nReal; ++i)
    for (std::size_t j = 0; j < d; ++j) {
      const float x = real[i * d + j] - mean[j];
      spread[j] += x * x / float(nReal);
    }
  for (auto& s : spread)
    s = std::sqrt(s);
  const fs::path bigStore = fs::path(work) / "generated";
  fs::remove_all(bigStore);
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.f, 0.2f);
  t = now();
  {
    similar::EmbeddingWriter w(bigStore, {"bench", 1, std::int64_t(d), 0});
    const std::int64_t chunk = 20000;
    for (std::int64_t first = 0; first < rows; first += chunk) {
      std::vector<std::int64_t> ids;
      std::vector<std::vector<float>> rowsIn;
      for (std::int64_t i = first; i < std::min(rows, first + chunk); ++i) {
        const float* base = real.data() + (std::size_t(i) % nReal) * d;
        std::vector<float> v(d);
        for (std::size_t j = 0; j < d; ++j)
          v[j] = std::max(0.f, base[j] + (i < std::int64_t(nReal) ? 0.f : noise(rng) * spread[j]));
        ids.push_back(i);
        rowsIn.push_back(std::move(v));
      }
      w.append(ids, rowsIn);
    }
  }
  const double writeSeconds = now() - t;
  const similar::EmbeddingStore store(bigStore);
  report("rows", double(store.rows()), "rows");
  report("store size (vectors.f16 + ids.i64)",
         double(fs::file_size(bigStore / "vectors.f16") + fs::file_size(bigStore / "ids.i64")) /
             1048576.0,
         "MiB");
  report("store write (generation included)", writeSeconds, "s");

  // Decoded fp32 rows (what the indexes take) and the queries with their exact answers.
  std::vector<float> all(std::size_t(store.rows()) * d);
  for (std::int64_t i = 0; i < store.rows(); ++i) {
    const auto r = store.row(i);
    std::copy(r.begin(), r.end(), all.begin() + long(std::size_t(i) * d));
  }
  std::vector<std::int64_t> qids;
  std::vector<std::vector<std::int64_t>> truth;
  std::mt19937 qrng(3);
  t = now();
  for (int q = 0; q < queries; ++q) {
    const auto i = std::int64_t(qrng() % std::uint64_t(store.rows()));
    qids.push_back(i);
    std::vector<std::int64_t> got;
    for (const auto& n : store.nearest(store.row(i), k + 1))
      got.push_back(n.imageId);
    truth.push_back(got);
  }
  report("exact search over the float16 store, per query", (now() - t) / queries * 1000, "ms");

  const auto recallOf = [&](const std::vector<std::vector<std::int64_t>>& got) {
    double s = 0;
    for (std::size_t q = 0; q < got.size(); ++q)
      s += overlap(truth[q], got[q]);
    return s / double(got.size());
  };

  // 4. hnswlib, as Taxon uses it (similar/EmbeddingStore: M 16, ef_construction 100, searches at
  // ef max(128, 2 (k + 1))). (hnswlib's header defines its functions outside any inline, so one
  // file may include it: the store's.)
  {
    similar::EmbeddingWriter writer(bigStore, {"bench", 1, std::int64_t(d), 0});
    t = now();
    writer.updateIndex();
    report("hnswlib HNSW (M 16, ef_construction 100): build", now() - t, "s");
    report("hnswlib HNSW: file", double(fs::file_size(bigStore / "hnsw.bin")) / 1048576.0, "MiB");
    const long before = rssKb();
    t = now();
    similar::EmbeddingStore indexed(bigStore);
    (void)indexed.nearest(indexed.row(qids[0]), k + 1);  // loads the index
    report("hnswlib HNSW: open and first search (loads and checks the index)", now() - t, "s");
    report("hnswlib HNSW: memory once loaded", double(rssKb() - before) / 1024.0, "MiB");
    for (const int ef : {64, 128, 256, 512}) {
      indexed.setSearchBreadth(ef);
      std::vector<std::vector<std::int64_t>> got;
      t = now();
      for (const auto i : qids) {
        std::vector<std::int64_t> ids;
        for (const auto& n : indexed.nearest(indexed.row(i), k + 1))
          ids.push_back(n.imageId);
        got.push_back(ids);
      }
      report("hnswlib HNSW ef " + std::to_string(ef) + ": per query", (now() - t) / queries * 1000,
             "ms");
      report("hnswlib HNSW ef " + std::to_string(ef) + ": recall@" + std::to_string(k + 1),
             recallOf(got), "fraction");
    }
  }
  if (skipFaiss)
    return 0;

  // 5. FAISS: HNSW and IVF-Flat (inner product).
  {
    const long before = rssKb();
    faiss::IndexHNSWFlat index(int(d), 16, faiss::METRIC_INNER_PRODUCT);
    index.hnsw.efConstruction = 100;
    t = now();
    index.add(store.rows(), all.data());
    report("FAISS HNSW (M 16, ef_construction 100): build", now() - t, "s");
    report("FAISS HNSW: memory", double(rssKb() - before) / 1024.0, "MiB");
    for (const int ef : {32, 64, 128}) {
      index.hnsw.efSearch = ef;
      std::vector<std::vector<std::int64_t>> got;
      std::vector<float> dist(std::size_t(k + 1));
      std::vector<faiss::Index::idx_t> labels(std::size_t(k + 1));
      t = now();
      for (const auto i : qids) {
        index.search(1, all.data() + std::size_t(i) * d, k + 1, dist.data(), labels.data());
        got.emplace_back(labels.begin(), labels.end());
      }
      report("FAISS HNSW ef " + std::to_string(ef) + ": per query", (now() - t) / queries * 1000,
             "ms");
      report("FAISS HNSW ef " + std::to_string(ef) + ": recall@" + std::to_string(k + 1),
             recallOf(got), "fraction");
    }
  }
  {
    const long before = rssKb();
    // 4 sqrt(N) lists up to 1,024, k-means of 10 rounds on 39 rows a list: Debian's FAISS calls
    // the reference BLAS, so more makes the 1,000,000-row run take hours.
    const int lists =
        int(std::min<double>(1024, std::max<double>(16, 4 * std::sqrt(double(store.rows())))));
    faiss::IndexFlatIP quantizer{static_cast<faiss::Index::idx_t>(d)};
    faiss::IndexIVFFlat index(&quantizer, int(d), std::size_t(lists), faiss::METRIC_INNER_PRODUCT);
    index.cp.niter = 10;
    t = now();
    const auto sample = std::min<std::int64_t>(store.rows(), std::int64_t(lists) * 39);
    index.train(sample, all.data());
    index.add(store.rows(), all.data());
    report("FAISS IVF-Flat (" + std::to_string(lists) + " lists): train and add", now() - t, "s");
    report("FAISS IVF-Flat: memory", double(rssKb() - before) / 1024.0, "MiB");
    for (const int probes : {8, 32}) {
      index.nprobe = std::size_t(probes);
      std::vector<std::vector<std::int64_t>> got;
      std::vector<float> dist(std::size_t(k + 1));
      std::vector<faiss::Index::idx_t> labels(std::size_t(k + 1));
      t = now();
      for (const auto i : qids) {
        index.search(1, all.data() + std::size_t(i) * d, k + 1, dist.data(), labels.data());
        got.emplace_back(labels.begin(), labels.end());
      }
      report("FAISS IVF-Flat nprobe " + std::to_string(probes) + ": per query",
             (now() - t) / queries * 1000, "ms");
      report(
          "FAISS IVF-Flat nprobe " + std::to_string(probes) + ": recall@" + std::to_string(k + 1),
          recallOf(got), "fraction");
    }
  }
  if (table)
    std::fclose(table);
  return 0;
}
