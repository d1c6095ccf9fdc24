// Inception preprocessing of one image, as the seed's image_processing.py does it, on 8-bit
// pixels (the [-1, 1] scaling happens later on the tensor side, see BatchTensors.hpp).
//   training:   random crop covering minArea..maxArea of the image with aspect ratio
//               minAspect..maxAspect, resize to height x width, random horizontal flip, random
//               colour distortion (brightness, saturation, hue, contrast), clamp.
//   evaluation: central crop of centralFraction of each side, resize to height x width.
// The colour distortion follows the seed's distort_color in float in [0, 1]: brightness +-32/255,
// saturation x0.5..1.5 (clamped to [0, 1] in HSV), hue +-0.2 of a turn, contrast x0.5..1.5 around
// each channel's mean, then a clamp to [0, 1]. The seed picks one of its two orders by thread id;
// here each image picks one at random: brightness, saturation, hue, contrast or brightness,
// contrast, saturation, hue.
// JPEGs are cropped before they are decoded: the crop is drawn from the header's size, and the
// image is decoded at the largest 1/2, 1/4 or 1/8 reduction that keeps the crop at least the
// output size in both directions (chooseReduction), so the result is the one a full decode would
// give, up to resampling, for every crop down to 5% of the area.
// Every random choice comes from `seed`, so the output depends only on the bytes and the seed,
// never on the thread. An InceptionPreprocess is immutable: one instance serves every thread.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "core/SeededRandom.hpp"

namespace taxon::data {

using core::SeededRandom;

struct PreprocessSettings {
  int height = 299;  // output size in pixels (Inception v3: 299 x 299)
  int width = 299;
  // Training crop: fraction of the image's area and width/height ratio, drawn log-uniformly;
  // after cropAttempts draws that do not fit, the whole image (its ratio clamped to the range).
  double minArea = 0.05;
  double maxArea = 1.0;
  double minAspect = 3.0 / 4.0;
  double maxAspect = 4.0 / 3.0;
  int cropAttempts = 10;
  bool flip = true;    // random horizontal flip, probability 1/2
  bool colour = true;  // random brightness, saturation, hue and contrast
  float brightnessDelta = 32.0f / 255.0f;
  float saturationLower = 0.5f;
  float saturationUpper = 1.5f;
  float hueDelta = 0.2f;  // fraction of a full turn of hue
  float contrastLower = 0.5f;
  float contrastUpper = 1.5f;
  // Evaluation: the central crop keeps this fraction of each side (0.875: 76.6% of the area).
  double centralFraction = 0.875;
  // Decode JPEGs at reduced size when the crop allows it (see above).
  bool reducedDecode = true;

  // Every problem at once, one sentence each; empty when the settings are usable.
  std::vector<std::string> validate() const;
};

// What one training transform drew; returned for tests and debugging.
struct TrainDraw {
  cv::Rect crop;  // in the full-size image as displayed (after EXIF orientation)
  int reduction = 1;
  bool flipped = false;
  int colourOrder = 0;  // 0: brightness, saturation, hue, contrast; 1: brightness, contrast, ...
  float brightness = 0.0f;
  float saturation = 1.0f;
  float hue = 0.0f;
  float contrast = 1.0f;
};

class InceptionPreprocess {
 public:
  // Throws core::Error listing every problem when `settings` does not validate.
  explicit InceptionPreprocess(PreprocessSettings settings = {});

  const PreprocessSettings& settings() const { return settings_; }

  // Decodes `encoded` and writes the training transform into `out`, which must already be
  // height x width CV_8UC3 (it may wrap the caller's memory; it is written, never reallocated).
  // Output channels are R, G, B. Throws core::Error naming `name` when the bytes do not decode.
  TrainDraw train(std::string_view encoded, std::uint64_t seed, cv::Mat& out,
                  std::string_view name) const;
  // The evaluation transform, same contract; no randomness.
  void eval(std::string_view encoded, cv::Mat& out, std::string_view name) const;

  // The same transforms on an image already decoded to R, G, B CV_8UC3.
  TrainDraw trainImage(const cv::Mat& rgb, std::uint64_t seed, cv::Mat& out) const;
  void evalImage(const cv::Mat& rgb, cv::Mat& out) const;

  // The training crop for a width x height image, drawn from `random`.
  cv::Rect sampleCrop(int width, int height, core::SeededRandom& random) const;
  // The evaluation crop (TensorFlow's central_crop geometry).
  cv::Rect centralCrop(int width, int height) const;

 private:
  // Draws flip and colour after the crop, in a fixed sequence.
  void drawRest(core::SeededRandom& random, TrainDraw& draw) const;
  // Resizes `source(crop)` and writes the flipped, colour-distorted result as R, G, B to `out`.
  void finish(const cv::Mat& source, const cv::Rect& crop, bool sourceIsBgr, const TrainDraw* draw,
              cv::Mat& out) const;
  void checkOutput(const cv::Mat& out) const;

  PreprocessSettings settings_;
};

}  // namespace taxon::data
