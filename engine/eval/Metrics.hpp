// Evaluation metrics of a classifier (pure C++, no tensors): precision@1 and recall@K as the
// seed's imagenet_eval prints them, per-category precision/recall, accuracy per level of the
// category tree, a sparse confusion matrix, the most confused category pairs and the examples
// whose given label looks wrong.
//
// writeReport() writes these files into one folder (the app reads them; keep them stable):
//
//   summary.json        {"examples": N, "num_classes": C, "precision_at_1": x, "recall_at_k": x,
//                        "top_k": K, "mean_loss": x,
//                        "levels": [{"level": 1, "examples": N, "correct": N, "accuracy": x}, ...],
//                        "files": {"categories": "categories.csv", "levels": "levels.csv",
//                                  "confusion": "confusion.csv",
//                                  "confused_pairs": "confused_pairs.csv",
//                                  "mislabeled": "mislabeled.csv",
//                                  "predictions": "predictions.csv"}}
//                       Numbers in full double precision. Written last, so that when it exists
//                       the files it names are complete.
//   categories.csv      class,name,support,predicted,true_positives,precision,recall
//                       one row per class in class order (class = 0-based label)
//   levels.csv          level,examples,correct,accuracy        levels 1..deepest category path
//   confusion.csv       actual,predicted,count,actual_name,predicted_name
//                       nonzero cells only (diagonal included), sorted by (actual, predicted)
//   confused_pairs.csv  a,a_name,b,b_name,a_as_b,b_as_a,total
//                       a < b; a_as_b = examples of a predicted as b; by total descending
//   mislabeled.csv      key,label,label_name,label_probability,predicted,predicted_name,
//                       predicted_probability
//                       by label_probability ascending, then predicted_probability descending
//   predictions.csv     key,label,predicted,label_probability,predicted_probability
//                       one row per example in the order added (label, predicted: class ids;
//                       predicted = the top-1); lets the app show the images of a confusion cell
//
// CSV files: UTF-8, a header row, lines end in "\n", fields holding a comma, a quote or a line
// break are quoted with quotes doubled (RFC 4180). Fractions and probabilities are written with
// 6 significant digits ("0.433212", "1e-05"), always with a '.' whatever the locale.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace taxon::eval {

struct MetricsSettings {
  int topK = 5;                                    // recall@K
  std::size_t maxConfusedPairs = 100;              // rows of the most-confused list
  std::size_t maxMislabeled = 100;                 // rows of the likely-mislabeled list
  double mislabeledMaxLabelProbability = 0.1;      // the given label got at most this
  double mislabeledMinPredictedProbability = 0.5;  // another label got at least this

  // Every problem, one sentence each; empty when the settings are usable.
  std::vector<std::string> validate() const;
};

struct CategoryMetrics {
  std::string name;
  std::int64_t support = 0;        // examples labelled with this class
  std::int64_t predicted = 0;      // examples whose top-1 is this class
  std::int64_t truePositives = 0;  // both
  double precision = 0;            // truePositives / predicted, 0 when never predicted
  double recall = 0;               // truePositives / support, 0 when no examples
};

// Level L of the category tree: an example counts when its category's path has at least L
// components, and is correct when the top-1 category's path starts with the same L components.
struct LevelAccuracy {
  int level = 0;  // 1-based
  std::int64_t examples = 0;
  std::int64_t correct = 0;
  double accuracy = 0;  // correct / examples, 0 when no examples
};

struct ConfusionCell {
  std::int64_t actual = 0;
  std::int64_t predicted = 0;
  std::int64_t count = 0;
};

// An unordered pair of classes a < b and how often each was taken for the other.
struct ConfusedPair {
  std::int64_t a = 0;
  std::int64_t b = 0;
  std::int64_t aAsB = 0;  // examples of a predicted as b
  std::int64_t bAsA = 0;  // examples of b predicted as a
  std::int64_t total() const { return aAsB + bAsA; }
};

// An example the model confidently puts in another class than its label: a candidate for a
// labelling mistake.
struct LikelyMislabeled {
  std::string key;  // image name or path as given to add()
  std::int64_t label = 0;
  double labelProbability = 0;
  std::int64_t predicted = 0;  // the top-1 class
  double predictedProbability = 0;
};

// One evaluated example: its label, its top-1 and the probabilities of both.
struct Prediction {
  std::string key;  // image name or path as given to add()
  std::int64_t label = 0;
  std::int64_t predicted = 0;  // the top-1 class
  float labelProbability = 0;
  float predictedProbability = 0;
};

// An example an evaluation could not use: a damaged record ("SHARD@OFFSET") or an image that
// would not decode, and why.
struct SkippedExample {
  std::string key;
  std::string reason;
};

struct MetricsReport {
  std::int64_t examples = 0;
  // What the evaluation was asked for (the split's records, or the first N), and what it left out
  // to reach `examples`: the skips listed (the first 1,000) and the examples lost in all (a record
  // cut short takes every record after it in its shard with it).
  std::int64_t expectedExamples = 0;
  std::int64_t lostExamples = 0;
  std::vector<SkippedExample> skipped;
  int topK = 5;             // the K used: as requested, or the number of classes if fewer
  double precisionAt1 = 0;  // fraction of examples whose label is the top-1
  double recallAtK = 0;     // fraction of examples whose label is in the top-K
  double meanLoss = 0;      // mean cross-entropy -log p(label), p clamped at 1e-12
  std::vector<std::string> categoryNames;
  std::vector<CategoryMetrics> categories;  // one per class, in class order
  std::vector<LevelAccuracy> levels;        // level 1, 2, ... of the " > " paths
  std::vector<ConfusionCell> confusion;  // nonzero cells incl. the diagonal, by (actual, predicted)
  std::vector<ConfusedPair> mostConfused;    // off-diagonal pairs, by total desc (ties: a, b asc)
  std::vector<LikelyMislabeled> mislabeled;  // by labelProbability asc, predictedProbability desc
  std::vector<Prediction> predictions;       // every example, in the order added
};

// Collects the statistics batch by batch. Memory grows with the number of classes and the
// distinct confusions, plus one small Prediction row per example (its key and four numbers,
// about 60 bytes + the key's length: ~10 MB for 100,000 examples); the probability rows
// themselves are never kept. Not thread-safe.
class MetricsAccumulator {
 public:
  // categoryNames[c] is class c's path ("Women > Shoes > Sneakers"). Throws core::UsageError on
  // bad settings or no categories.
  explicit MetricsAccumulator(std::vector<std::string> categoryNames,
                              MetricsSettings settings = {});

  // probabilities: n rows of C floats (softmax outputs, row-major); labels: n 0-based class ids;
  // keys: n image names or paths (may be empty strings). Throws core::Error for a label outside
  // [0, C) or keys.size() != n, and then adds nothing of the batch.
  void add(const float* probabilities, std::size_t n, const std::int64_t* labels,
           const std::vector<std::string>& keys);

  // The metrics of everything added so far (callable at any time).
  MetricsReport report() const;

  std::int64_t examples() const { return examples_; }
  std::size_t categoryCount() const { return categoryNames_.size(); }

 private:
  struct Candidate {
    LikelyMislabeled row;
    std::int64_t sequence = 0;  // example number, the last tie-break (keeps the order stable)
  };
  static bool ranksBefore(const Candidate& x, const Candidate& y);

  std::vector<std::string> categoryNames_;
  MetricsSettings settings_;
  // nodes_[c][L-1]: id of the level-L prefix of class c's path, equal ids for equal prefixes.
  std::vector<std::vector<std::int32_t>> nodes_;
  std::size_t maxDepth_ = 0;

  std::int64_t examples_ = 0;
  std::int64_t top1Correct_ = 0;
  std::int64_t topKCorrect_ = 0;
  double lossSum_ = 0;
  std::vector<std::int64_t> support_;
  std::vector<std::int64_t> predicted_;
  std::vector<std::int64_t> truePositives_;
  std::vector<std::int64_t> levelExamples_;
  std::vector<std::int64_t> levelCorrect_;
  std::unordered_map<std::int64_t, std::int64_t> confusion_;  // actual * C + predicted -> count
  std::vector<Candidate> mislabeledHeap_;  // max-heap by ranksBefore: the top is dropped first
  std::vector<Prediction> predictions_;    // one per example, in the order added
};

// Path components of a category name split on '>' with surrounding spaces trimmed:
// "Women > Shoes" -> {"Women", "Shoes"}; a name without '>' is one level.
std::vector<std::string> categoryPath(std::string_view name);

// "precision @ 1 = 0.4332 recall @ 5 = 0.7033" (4 decimals, K from the report): the exact line
// the seed's imagenet_eval prints.
std::string seedLine(const MetricsReport& report);

// Writes the files described at the top of this header into `directory` (created if missing),
// each atomically. Throws core::Error.
void writeReport(const MetricsReport& report, const std::filesystem::path& directory);

}  // namespace taxon::eval
