#include "data/InceptionPreprocess.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <sstream>

#include <opencv2/core.hpp>
#include <opencv2/core/hal/intrin.hpp>
#include <opencv2/imgproc.hpp>

#include "core/Error.hpp"
#include "image/ImageDecode.hpp"

namespace taxon::data {

namespace {

// Per-thread scratch buffers: the loader's workers are long-lived, so these are allocated once.
thread_local cv::Mat tResized;
thread_local cv::Mat tFlipped;
thread_local cv::Mat tBytes[3];
thread_local cv::Mat tPlanes[3];

std::string number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// The seed's adjust_saturation followed by adjust_hue (TensorFlow's HSV kernels) on 4 pixels of
// planes r, g, b, values around [0, 1] (brightness and contrast may push them outside; the final
// clamp handles that). The two are fused: converting back to HSV between them would give the same
// hue and saturation. In OpenCV's portable SIMD (SSE, NEON, or plain C++), branch-free:
//   h = the hue as a position in [0, 6); s = chroma / value, scaled and clamped to [0, 1] (0 when
//   value <= 0, as TensorFlow does); back with channel = v - v s clamp(min(k, 4 - k), 0, 1) where
//   k = (n + h) mod 6 and n = 5, 3, 1 for r, g, b.
void adjustSaturationHue4(float* r, float* g, float* b, float saturation, float hue) {
  using cv::v_float32x4;
  const v_float32x4 zero = cv::v_setzero_f32();
  const v_float32x4 one = cv::v_setall_f32(1.0f);
  const v_float32x4 four = cv::v_setall_f32(4.0f);
  const v_float32x4 six = cv::v_setall_f32(6.0f);
  const v_float32x4 tiny = cv::v_setall_f32(1e-20f);
  const auto wrap = [&](const v_float32x4& k) { return cv::v_select(k >= six, k - six, k); };
  const auto ramp = [&](const v_float32x4& k) {
    return cv::v_min(cv::v_max(cv::v_min(k, four - k), zero), one);
  };
  const v_float32x4 red = cv::v_load(r);
  const v_float32x4 green = cv::v_load(g);
  const v_float32x4 blue = cv::v_load(b);
  const v_float32x4 v = cv::v_max(red, cv::v_max(green, blue));
  const v_float32x4 chroma = v - cv::v_min(red, cv::v_min(green, blue));
  const v_float32x4 inverseChroma = one / cv::v_max(chroma, tiny);
  const v_float32x4 fromRed = (green - blue) * inverseChroma;
  const v_float32x4 fromGreen = cv::v_setall_f32(2.0f) + (blue - red) * inverseChroma;
  const v_float32x4 fromBlue = four + (red - green) * inverseChroma;
  v_float32x4 h = cv::v_select(v == red, fromRed, cv::v_select(v == green, fromGreen, fromBlue)) +
                  cv::v_setall_f32(hue * 6.0f);  // in [-2.2, 6.2)
  h = wrap(cv::v_select(h < zero, h + six, h));
  const v_float32x4 s =
      cv::v_min(cv::v_max(chroma / cv::v_max(v, tiny) * cv::v_setall_f32(saturation), zero), one);
  const v_float32x4 vs = v * cv::v_select(v > zero, s, zero);
  cv::v_store(r, v - vs * ramp(wrap(h + cv::v_setall_f32(5.0f))));
  cv::v_store(g, v - vs * ramp(wrap(h + cv::v_setall_f32(3.0f))));
  cv::v_store(b, v - vs * ramp(wrap(h + one)));
}

void adjustSaturationHue(float* r, float* g, float* b, std::size_t n, float saturation, float hue) {
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    adjustSaturationHue4(r + i, g + i, b + i, saturation, hue);
  }
  if (i < n) {  // the last 1 to 3 pixels, through a padded copy
    float tail[3][4] = {};
    const std::size_t left = n - i;
    std::copy_n(r + i, left, tail[0]);
    std::copy_n(g + i, left, tail[1]);
    std::copy_n(b + i, left, tail[2]);
    adjustSaturationHue4(tail[0], tail[1], tail[2], saturation, hue);
    std::copy_n(tail[0], left, r + i);
    std::copy_n(tail[1], left, g + i);
    std::copy_n(tail[2], left, b + i);
  }
}

// `crop`, drawn in a width x height image, in that image decoded at 1/reduction (pixel i of the
// reduced image covers full-size pixels [i * reduction, (i + 1) * reduction)). Nothing when the
// decoded size is not the one the header announced.
std::optional<cv::Rect> reduceCrop(const cv::Rect& crop, int width, int height, int reduction,
                                   const cv::Mat& decoded) {
  const int d = reduction;
  if (decoded.cols != (width + d - 1) / d || decoded.rows != (height + d - 1) / d) {
    return std::nullopt;
  }
  const auto scale = [d](int v) { return (2 * v + d) / (2 * d); };  // round(v / d)
  const int x0 = std::clamp(scale(crop.x), 0, decoded.cols - 1);
  const int y0 = std::clamp(scale(crop.y), 0, decoded.rows - 1);
  const int x1 = std::clamp(scale(crop.x + crop.width), x0 + 1, decoded.cols);
  const int y1 = std::clamp(scale(crop.y + crop.height), y0 + 1, decoded.rows);
  return cv::Rect(x0, y0, x1 - x0, y1 - y0);
}

}  // namespace

std::vector<std::string> PreprocessSettings::validate() const {
  std::vector<std::string> problems;
  if (height < 1 || width < 1 || height > 8192 || width > 8192) {
    problems.push_back("the output size must be 1 to 8192 pixels per side (got " +
                       std::to_string(width) + " x " + std::to_string(height) + ")");
  }
  if (!(minArea > 0.0 && minArea <= maxArea && maxArea <= 1.0)) {
    problems.push_back("the crop area range must satisfy 0 < minimum <= maximum <= 1 (got " +
                       number(minArea) + " to " + number(maxArea) + ")");
  }
  if (!(minAspect > 0.0 && minAspect <= maxAspect)) {
    problems.push_back("the crop aspect ratio range must satisfy 0 < minimum <= maximum (got " +
                       number(minAspect) + " to " + number(maxAspect) + ")");
  }
  if (cropAttempts < 1) {
    problems.push_back("cropAttempts must be at least 1 (got " + std::to_string(cropAttempts) +
                       ")");
  }
  if (!(brightnessDelta >= 0.0f && brightnessDelta <= 1.0f)) {
    problems.push_back("brightnessDelta must be in [0, 1] (got " + number(brightnessDelta) + ")");
  }
  if (!(saturationLower >= 0.0f && saturationLower <= saturationUpper)) {
    problems.push_back("the saturation range must satisfy 0 <= lower <= upper (got " +
                       number(saturationLower) + " to " + number(saturationUpper) + ")");
  }
  if (!(hueDelta >= 0.0f && hueDelta <= 0.5f)) {
    problems.push_back("hueDelta must be in [0, 0.5] (got " + number(hueDelta) + ")");
  }
  if (!(contrastLower >= 0.0f && contrastLower <= contrastUpper)) {
    problems.push_back("the contrast range must satisfy 0 <= lower <= upper (got " +
                       number(contrastLower) + " to " + number(contrastUpper) + ")");
  }
  if (!(centralFraction > 0.0 && centralFraction <= 1.0)) {
    problems.push_back("centralFraction must be in (0, 1] (got " + number(centralFraction) + ")");
  }
  return problems;
}

InceptionPreprocess::InceptionPreprocess(PreprocessSettings settings)
    : settings_(std::move(settings)) {
  core::throwIfInvalid("preprocessing", settings_.validate());
}

cv::Rect InceptionPreprocess::sampleCrop(int width, int height, core::SeededRandom& random) const {
  const double area = static_cast<double>(width) * height;
  const double logMin = std::log(settings_.minAspect);
  const double logMax = std::log(settings_.maxAspect);
  for (int attempt = 0; attempt < settings_.cropAttempts; ++attempt) {
    const double target = area * random.uniform(settings_.minArea, settings_.maxArea);
    const double ratio = std::exp(random.uniform(logMin, logMax));
    const int w = static_cast<int>(std::lround(std::sqrt(target * ratio)));
    const int h = static_cast<int>(std::lround(std::sqrt(target / ratio)));
    if (w >= 1 && h >= 1 && w <= width && h <= height) {
      const int x = static_cast<int>(random.below(static_cast<std::uint64_t>(width - w + 1)));
      const int y = static_cast<int>(random.below(static_cast<std::uint64_t>(height - h + 1)));
      return {x, y, w, h};
    }
  }
  // No draw fitted: the whole image, its ratio clamped into the range, centred.
  int w = width;
  int h = height;
  const double ratio = static_cast<double>(width) / height;
  if (ratio < settings_.minAspect) {
    h = std::max(1, static_cast<int>(std::lround(width / settings_.minAspect)));
  } else if (ratio > settings_.maxAspect) {
    w = std::max(1, static_cast<int>(std::lround(height * settings_.maxAspect)));
  }
  return {(width - w) / 2, (height - h) / 2, w, h};
}

cv::Rect InceptionPreprocess::centralCrop(int width, int height) const {
  // tf.image.central_crop: start = int((size - size * fraction) / 2), size - 2 * start kept.
  const double f = settings_.centralFraction;
  const int x = static_cast<int>((width - width * f) / 2.0);
  const int y = static_cast<int>((height - height * f) / 2.0);
  return {x, y, std::max(1, width - 2 * x), std::max(1, height - 2 * y)};
}

void InceptionPreprocess::drawRest(core::SeededRandom& random, TrainDraw& draw) const {
  const auto& s = settings_;
  // Always draw everything, in this order, so the sequence does not depend on the settings.
  const bool flip = random.coin();
  draw.colourOrder = random.coin() ? 1 : 0;
  const auto brightness = static_cast<float>(random.uniform(-1.0, 1.0)) * s.brightnessDelta;
  const auto saturation = static_cast<float>(random.uniform(s.saturationLower, s.saturationUpper));
  const auto hue = static_cast<float>(random.uniform(-1.0, 1.0)) * s.hueDelta;
  const auto contrast = static_cast<float>(random.uniform(s.contrastLower, s.contrastUpper));
  draw.flipped = s.flip && flip;
  if (s.colour) {
    draw.brightness = brightness;
    draw.saturation = saturation;
    draw.hue = hue;
    draw.contrast = contrast;
  } else {
    draw.colourOrder = 0;
  }
}

void InceptionPreprocess::checkOutput(const cv::Mat& out) const {
  if (out.type() != CV_8UC3 || out.rows != settings_.height || out.cols != settings_.width) {
    throw core::Error("preprocessing output must be a " + std::to_string(settings_.width) + " x " +
                      std::to_string(settings_.height) + " 8-bit 3-channel image");
  }
}

void InceptionPreprocess::finish(const cv::Mat& source, const cv::Rect& crop, bool sourceIsBgr,
                                 const TrainDraw* draw, cv::Mat& out) const {
  const int width = settings_.width;
  const int height = settings_.height;
  const cv::Mat region = source(crop);
  // Bilinear as in the seed; area averaging when shrinking by 2 or more, where bilinear aliases.
  const double scaleX = static_cast<double>(crop.width) / width;
  const double scaleY = static_cast<double>(crop.height) / height;
  const int interpolation = std::min(scaleX, scaleY) >= 1.0 && std::max(scaleX, scaleY) >= 2.0
                                ? cv::INTER_AREA
                                : cv::INTER_LINEAR;
  cv::Mat& resized = tResized;
  cv::resize(region, resized, cv::Size(width, height), 0.0, 0.0, interpolation);

  const bool flipped = draw != nullptr && draw->flipped;
  const cv::Mat* image = &resized;
  if (flipped) {
    cv::flip(resized, tFlipped, 1);
    image = &tFlipped;
  }
  if (draw == nullptr || !settings_.colour) {
    if (sourceIsBgr) {
      cv::cvtColor(*image, out, cv::COLOR_BGR2RGB);  // `out` has the right size: written in place
    } else {
      image->copyTo(out);
    }
    return;
  }

  // Colour distortion on three float planes in [0, 1], each step a vectorized pass.
  cv::split(*image, tBytes);
  const cv::Mat red = sourceIsBgr ? tBytes[2] : tBytes[0];
  const cv::Mat blue = sourceIsBgr ? tBytes[0] : tBytes[2];
  const cv::Mat* bytes[3] = {&red, &tBytes[1], &blue};
  const float brightness = draw->brightness;
  const float contrast = draw->contrast;
  constexpr double kInv = 1.0 / 255.0;
  if (draw->colourOrder == 1) {
    // Brightness then contrast is one affine map per channel: with m the channel's mean before
    // both, (x + b - (m + b)) * c + (m + b) = x * c + (1 - c) * m + b.
    for (int c = 0; c < 3; ++c) {
      const double mean = cv::mean(*bytes[c])[0] * kInv;
      bytes[c]->convertTo(tPlanes[c], CV_32F, contrast * kInv,
                          (1.0 - contrast) * mean + brightness);
    }
  } else {
    for (int c = 0; c < 3; ++c) {
      bytes[c]->convertTo(tPlanes[c], CV_32F, kInv, brightness);
    }
  }
  const auto n = static_cast<std::size_t>(width) * static_cast<std::size_t>(height);
  adjustSaturationHue(tPlanes[0].ptr<float>(), tPlanes[1].ptr<float>(), tPlanes[2].ptr<float>(), n,
                      draw->saturation, draw->hue);
  for (int c = 0; c < 3; ++c) {
    // Order 0 ends with contrast around the means of the result so far; order 1 is done.
    const double scale = draw->colourOrder == 1 ? 1.0 : contrast;
    const double shift = draw->colourOrder == 1 ? 0.0 : (1.0 - contrast) * cv::mean(tPlanes[c])[0];
    // Clamps to [0, 255] and rounds.
    tPlanes[c].convertTo(tBytes[c], CV_8U, 255.0 * scale, 255.0 * shift);
  }
  cv::merge(tBytes, 3, out);
}

TrainDraw InceptionPreprocess::train(std::string_view encoded, std::uint64_t seed, cv::Mat& out,
                                     std::string_view name) const {
  checkOutput(out);
  core::SeededRandom random(seed);
  TrainDraw draw;
  const auto header = settings_.reducedDecode ? image::readJpegHeader(encoded) : std::nullopt;
  cv::Mat image;
  std::optional<cv::Rect> crop;
  if (header) {
    draw.crop = sampleCrop(header->width, header->height, random);
    draw.reduction = image::chooseReduction(draw.crop.width, draw.crop.height, settings_.width,
                                            settings_.height);
    image = image::decodeImage(encoded, name, {draw.reduction, true});
    crop = reduceCrop(draw.crop, header->width, header->height, draw.reduction, image);
    if (!crop && draw.reduction > 1) {  // the header disagreed with the decoder: decode in full
      image = image::decodeImage(encoded, name, {1, true});
    }
  } else {
    image = image::decodeImage(encoded, name, {1, true});
  }
  if (!crop) {
    draw.reduction = 1;
    draw.crop = sampleCrop(image.cols, image.rows, random);
    crop = draw.crop;
  }
  drawRest(random, draw);
  finish(image, *crop, true, &draw, out);
  return draw;
}

void InceptionPreprocess::eval(std::string_view encoded, cv::Mat& out,
                               std::string_view name) const {
  checkOutput(out);
  const auto header = settings_.reducedDecode ? image::readJpegHeader(encoded) : std::nullopt;
  if (header) {
    const cv::Rect full = centralCrop(header->width, header->height);
    const int reduction =
        image::chooseReduction(full.width, full.height, settings_.width, settings_.height);
    const cv::Mat image = image::decodeImage(encoded, name, {reduction, true});
    if (const auto crop = reduceCrop(full, header->width, header->height, reduction, image)) {
      finish(image, *crop, true, nullptr, out);
      return;
    }
  }
  const cv::Mat image = image::decodeImage(encoded, name, {1, true});
  finish(image, centralCrop(image.cols, image.rows), true, nullptr, out);
}

TrainDraw InceptionPreprocess::trainImage(const cv::Mat& rgb, std::uint64_t seed,
                                          cv::Mat& out) const {
  checkOutput(out);
  if (rgb.type() != CV_8UC3 || rgb.empty()) {
    throw core::Error("preprocessing input must be an 8-bit 3-channel image");
  }
  core::SeededRandom random(seed);
  TrainDraw draw;
  draw.crop = sampleCrop(rgb.cols, rgb.rows, random);
  drawRest(random, draw);
  finish(rgb, draw.crop, false, &draw, out);
  return draw;
}

void InceptionPreprocess::evalImage(const cv::Mat& rgb, cv::Mat& out) const {
  checkOutput(out);
  if (rgb.type() != CV_8UC3 || rgb.empty()) {
    throw core::Error("preprocessing input must be an 8-bit 3-channel image");
  }
  finish(rgb, centralCrop(rgb.cols, rgb.rows), false, nullptr, out);
}

}  // namespace taxon::data
