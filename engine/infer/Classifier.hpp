// Classifying image files with a trained model: the weight-averaged network of a checkpoint in its
// inference form (deploy/torch/GraphRunner.hpp: batch norm folded, channels-last, fused
// convolutions; fp32 or bf16), the same evaluation preprocessing as `taxon eval` (central crop,
// resize), ranked categories with their softmax scores. Used by `taxon classify` and the app's
// drop target.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "core/Progress.hpp"

namespace taxon::infer {

struct RankedCategory {
  std::int64_t index = 0;  // class index, 0-based
  std::string name;        // "Women > Shoes > Sneakers"
  double score = 0.0;      // softmax probability
};

struct Classification {
  std::filesystem::path path;
  std::vector<RankedCategory> top;  // best first; empty when the file failed
  std::string error;                // why the file could not be classified; empty when it was
  // With ClassifierSettings::features: the pooled features after the last mixed block (what the
  // classifier layer sees), float32; empty otherwise and when the file failed.
  std::vector<float> features;
};

struct ClassifierSettings {
  std::string device = "cpu";
  int batchSize = 32;
  int decodeThreads = 0;  // 0: one per core
  // "fp32", "bf16", or "auto": bf16 where the device computes it natively (core::nativeBf16).
  std::string precision = "fp32";
  bool features = false;  // also return each image's pooled feature vector (similar/)
};

class Classifier {
 public:
  // Loads the newest readable checkpoint of `checkpointDir` (or that checkpoint file). Throws
  // core::Error naming the folder when there is none.
  explicit Classifier(const std::filesystem::path& checkpointDir, ClassifierSettings settings = {});
  ~Classifier();
  Classifier(const Classifier&) = delete;
  Classifier& operator=(const Classifier&) = delete;

  const std::vector<std::string>& categories() const;
  std::int64_t step() const;
  const std::filesystem::path& checkpoint() const;
  const std::vector<std::string>& warnings() const;  // damaged newer checkpoints passed over
  const char* precision() const;                     // "fp32" or "bf16", as resolved
  std::int64_t featureSize() const;                  // length of Classification::features
  int inputSize() const;                             // the side images are resized to

  // The topK best categories for each file, in the order given. A file that cannot be read or
  // decoded gets its error and no categories; the others are still classified. Cancelled: the
  // files not reached yet get the error "cancelled".
  std::vector<Classification> classifyFiles(const std::vector<std::filesystem::path>& files,
                                            int topK, std::stop_token stop = {},
                                            const core::ProgressFn& progress = {});
  // One image already in memory (its encoded bytes); `name` appears in errors.
  Classification classifyBytes(const std::string& bytes, const std::string& name, int topK);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace taxon::infer
