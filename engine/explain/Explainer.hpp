// Where a trained model looked, for image files: the checkpoint's network (its averaged weights,
// as `taxon eval` and `taxon classify` use them), the evaluation preprocessing, and a Grad-CAM map
// (GradCam.hpp) for each of the image's best categories and any others asked for (its label, say),
// with the picture the model saw (the central crop) to lay them over. Used by
// `taxon classify --explain`, the Classify page's "why" and the Inspect page's examples.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <opencv2/core/mat.hpp>
#include <string>
#include <vector>

namespace taxon::explain {

struct HeatMap {
  std::int64_t category = 0;
  std::string name;    // "Women > Shoes > Sneakers"
  double score = 0.0;  // softmax probability of the category for this image
  int rank = 0;        // 1 for the best category; 0 for a category asked for outside the top
  // CV_32F, the size of Explanation::view: 1 where the evidence for the category peaks, 0 where
  // there is none (everywhere, when nothing in the image speaks for it: see `empty`).
  cv::Mat map;
  bool empty = false;
};

struct Explanation {
  std::filesystem::path path;  // or the name given
  std::string error;           // why the image could not be explained; empty when it was
  // CV_8UC3, B, G, R: the central crop the model classified, at its own resolution (scaled so
  // that its longer side is between kMinViewSide and kMaxViewSide pixels).
  cv::Mat view;
  std::vector<HeatMap> maps;  // the top categories best first, then the extra ones asked for
  std::string block;          // the mixed block explained ("Mixed_7c"; GradCam.hpp)
  int mapSide = 0;            // the side of its map before upsampling
};

inline constexpr int kMinViewSide = 299;
// The names setBlock takes.
inline constexpr const char* kBlockChoices = "auto, Mixed_7c, Mixed_6e or Mixed_5d";
inline constexpr int kMaxViewSide = 768;

// `heat` (CV_32F in [0, 1]) in the jet colour map blended over `view` (CV_8UC3, B, G, R) with
// the given opacity where the map is strongest; both the same size. Returns B, G, R.
cv::Mat overlay(const cv::Mat& view, const cv::Mat& heat, double opacity = 0.5);

class Explainer {
 public:
  // Loads the newest readable checkpoint of `checkpointDir` (or that checkpoint file) on `device`
  // ("cpu", "cuda", "cuda:1"). Throws core::Error naming the folder when there is none.
  explicit Explainer(const std::filesystem::path& checkpointDir, const std::string& device = "cpu");
  ~Explainer();
  Explainer(const Explainer&) = delete;
  Explainer& operator=(const Explainer&) = delete;

  const std::vector<std::string>& categories() const;
  std::int64_t step() const;
  const std::filesystem::path& checkpoint() const;
  int inputSize() const;
  // The mixed block explained: "auto" (the default: the last whose map has at least
  // kMinMapSide positions a side, see GradCam.hpp), "Mixed_7c", "Mixed_6e" or "Mixed_5d". Throws
  // core::Error naming the choices for any other name.
  void setBlock(const std::string& name);
  std::string block() const;  // the block explained now ("Mixed_7c")

  // Maps for the image's `topK` best categories (0 to 5: Grad-CAM is asked of the top 5) and
  // for each of `extra` not among them, in that order. A file that cannot be read or decoded, or an
  // extra category out of range, gives an Explanation with its error.
  Explanation explainFile(const std::filesystem::path& file, int topK,
                          const std::vector<std::int64_t>& extra = {});
  Explanation explainBytes(const std::string& bytes, const std::string& name, int topK,
                           const std::vector<std::int64_t>& extra = {});

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace taxon::explain
