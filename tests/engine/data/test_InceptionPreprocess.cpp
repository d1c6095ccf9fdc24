#include "data/InceptionPreprocess.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "TestFiles.hpp"
#include "TestPaths.hpp"
#include "core/Error.hpp"
#include "image/ImageDecode.hpp"

namespace taxon::data {
namespace {

cv::Mat output(const PreprocessSettings& settings) {
  return cv::Mat(settings.height, settings.width, CV_8UC3, cv::Scalar::all(0));
}

// Settings with only the parts a test looks at switched on.
PreprocessSettings plain(int width, int height) {
  PreprocessSettings s;
  s.width = width;
  s.height = height;
  s.colour = false;
  s.flip = false;
  return s;
}

cv::Mat toRgb(const cv::Mat& bgr) {
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

double hueOf(const cv::Vec3b& rgb) {
  const double r = rgb[0] / 255.0, g = rgb[1] / 255.0, b = rgb[2] / 255.0;
  const double mx = std::max({r, g, b}), mn = std::min({r, g, b});
  const double c = mx - mn;
  double h = mx == r ? (g - b) / c : mx == g ? 2.0 + (b - r) / c : 4.0 + (r - g) / c;
  h /= 6.0;
  return h - std::floor(h);
}

TEST(InceptionPreprocess, CropsStayWithinAreaAndAspectBounds) {
  const InceptionPreprocess pre;
  const int width = 640, height = 480;
  double smallest = 1.0, largest = 0.0, narrowest = 10.0, widest = 0.0;
  for (std::uint64_t seed = 0; seed < 5000; ++seed) {
    core::SeededRandom random(seed);
    const cv::Rect crop = pre.sampleCrop(width, height, random);
    ASSERT_GE(crop.x, 0);
    ASSERT_GE(crop.y, 0);
    ASSERT_LE(crop.x + crop.width, width);
    ASSERT_LE(crop.y + crop.height, height);
    const double area = static_cast<double>(crop.area()) / (width * height);
    const double aspect = static_cast<double>(crop.width) / crop.height;
    // Rounding to whole pixels moves the bounds by well under 1%.
    EXPECT_GE(area, 0.05 * 0.99) << seed;
    EXPECT_LE(area, 1.0) << seed;
    EXPECT_GE(aspect, 0.75 * 0.99) << seed;
    EXPECT_LE(aspect, 4.0 / 3.0 * 1.01) << seed;
    smallest = std::min(smallest, area);
    largest = std::max(largest, area);
    narrowest = std::min(narrowest, aspect);
    widest = std::max(widest, aspect);
  }
  // The draws span the ranges.
  EXPECT_LT(smallest, 0.07);
  EXPECT_GT(largest, 0.9);
  EXPECT_LT(narrowest, 0.77);
  EXPECT_GT(widest, 1.3);
}

TEST(InceptionPreprocess, CropFallsBackToTheClampedWholeImage) {
  PreprocessSettings s;
  s.minArea = 0.9;  // a 10:1 image has no crop of 90% of its area with a ratio up to 4/3
  const InceptionPreprocess pre(s);
  core::SeededRandom random(1);
  const cv::Rect crop = pre.sampleCrop(1000, 100, random);
  EXPECT_EQ(crop, cv::Rect(433, 0, 133, 100));
}

TEST(InceptionPreprocess, CentralCropGeometryIsTensorFlows) {
  const InceptionPreprocess pre;
  // start = int((size - 0.875 * size) / 2); size - 2 * start kept.
  EXPECT_EQ(pre.centralCrop(400, 300), cv::Rect(25, 18, 350, 264));
  EXPECT_EQ(pre.centralCrop(299, 299), cv::Rect(18, 18, 263, 263));
  EXPECT_EQ(pre.centralCrop(1, 1), cv::Rect(0, 0, 1, 1));
}

TEST(InceptionPreprocess, EvaluationKeepsTheCentreOnly) {
  // A red frame 6% wide around a gray picture: the central 87.5% cuts 6.25% from each side.
  cv::Mat rgb(800, 600, CV_8UC3, cv::Scalar(255, 0, 0));
  rgb(cv::Rect(36, 48, 600 - 72, 800 - 96)).setTo(cv::Scalar(100, 110, 120));
  const InceptionPreprocess pre(plain(64, 48));
  cv::Mat out = output(pre.settings());
  pre.evalImage(rgb, out);
  cv::Mat diff;
  cv::absdiff(out, cv::Scalar(100, 110, 120), diff);
  double worst = 0.0;
  cv::minMaxLoc(diff.reshape(1), nullptr, &worst);
  EXPECT_LE(worst, 1.0);

  // The same through the JPEG path (reduced decoding: 525 x 700 crop, 64 x 48 out -> 1/8).
  const auto jpeg = test::encode(toRgb(rgb), ".jpg");
  pre.eval(jpeg, out, "frame.jpg");
  cv::Scalar mean = cv::mean(out);
  EXPECT_NEAR(mean[0], 100, 3);
  EXPECT_NEAR(mean[1], 110, 3);
  EXPECT_NEAR(mean[2], 120, 3);
}

TEST(InceptionPreprocess, OutputHasTheRequestedSize) {
  PreprocessSettings s;
  s.width = 61;
  s.height = 47;
  const InceptionPreprocess pre(s);
  for (const auto& bytes :
       {test::makeJpeg(500, 375), test::makeJpeg(30, 20), test::makePng(90, 200)}) {
    cv::Mat out = output(s);
    const auto* data = out.data;
    pre.train(bytes, 3, out, "image");
    EXPECT_EQ(out.data, data) << "written in place";
    EXPECT_EQ(out.cols, 61);
    EXPECT_EQ(out.rows, 47);
    pre.eval(bytes, out, "image");
    EXPECT_EQ(out.data, data);
  }
  cv::Mat wrong(47, 60, CV_8UC3);
  EXPECT_THROW(pre.train(test::makeJpeg(50, 50), 1, wrong, "image"), core::Error);
}

TEST(InceptionPreprocess, FlipMirrorsTheImage) {
  const cv::Mat rgb = toRgb(test::makePicture(64, 48, 5));
  PreprocessSettings s = plain(64, 48);
  s.flip = true;
  s.minArea = 1.0;  // the whole image, so the resize is the identity
  s.minAspect = s.maxAspect = 64.0 / 48.0;
  const InceptionPreprocess pre(s);
  cv::Mat mirrored;
  cv::flip(rgb, mirrored, 1);
  int flips = 0;
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    cv::Mat out = output(s);
    const TrainDraw draw = pre.trainImage(rgb, seed, out);
    ASSERT_EQ(draw.crop, cv::Rect(0, 0, 64, 48));
    EXPECT_EQ(cv::norm(out, draw.flipped ? mirrored : rgb, cv::NORM_INF), 0.0) << seed;
    flips += draw.flipped ? 1 : 0;
  }
  EXPECT_GT(flips, 5);
  EXPECT_LT(flips, 35);
}

TEST(InceptionPreprocess, GreyStaysGreyAndBrightnessShiftsIt) {
  PreprocessSettings s = plain(32, 32);
  s.colour = true;
  s.contrastLower = s.contrastUpper = 1.0f;  // a flat image has no contrast to change anyway
  const InceptionPreprocess pre(s);
  const cv::Mat grey(40, 40, CV_8UC3, cv::Scalar::all(128));
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    cv::Mat out = output(s);
    const TrainDraw draw = pre.trainImage(grey, seed, out);
    const double expected = 128.0 + draw.brightness * 255.0;
    const auto p = out.at<cv::Vec3b>(10, 10);
    EXPECT_EQ(p[0], p[1]);
    EXPECT_EQ(p[1], p[2]);
    EXPECT_NEAR(p[0], expected, 1.0) << seed;
    EXPECT_LE(std::abs(draw.brightness), 32.0f / 255.0f);
  }
}

TEST(InceptionPreprocess, HueTurnsByTheDrawnAmount) {
  PreprocessSettings s = plain(16, 16);
  s.colour = true;
  s.brightnessDelta = 0.0f;
  s.saturationLower = s.saturationUpper = 1.0f;
  s.contrastLower = s.contrastUpper = 1.0f;
  const InceptionPreprocess pre(s);
  const cv::Mat orange(16, 16, CV_8UC3, cv::Scalar(255, 128, 0));  // R, G, B
  const double hue = hueOf(cv::Vec3b(255, 128, 0));
  double largest = 0.0;
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    cv::Mat out = output(s);
    const TrainDraw draw = pre.trainImage(orange, seed, out);
    EXPECT_LE(std::abs(draw.hue), 0.2f);
    double expected = hue + draw.hue;
    expected -= std::floor(expected);
    double error = std::abs(hueOf(out.at<cv::Vec3b>(8, 8)) - expected);
    error = std::min(error, 1.0 - error);
    EXPECT_LT(error, 0.005) << seed << " hue " << draw.hue;
    largest = std::max(largest, static_cast<double>(std::abs(draw.hue)));
  }
  EXPECT_GT(largest, 0.1);
}

TEST(InceptionPreprocess, ContrastScalesAroundTheMean) {
  PreprocessSettings s = plain(2, 1);
  s.colour = true;
  s.brightnessDelta = 0.0f;
  s.saturationLower = s.saturationUpper = 1.0f;
  s.hueDelta = 0.0f;
  s.minArea = 1.0;
  s.minAspect = s.maxAspect = 2.0;
  const InceptionPreprocess pre(s);
  cv::Mat rgb(1, 2, CV_8UC3, cv::Scalar::all(100));
  rgb.at<cv::Vec3b>(0, 1) = cv::Vec3b(200, 200, 200);
  for (std::uint64_t seed = 0; seed < 30; ++seed) {
    cv::Mat out = output(s);
    const TrainDraw draw = pre.trainImage(rgb, seed, out);
    ASSERT_GE(draw.contrast, 0.5f);
    ASSERT_LE(draw.contrast, 1.5f);
    const double low = 150.0 - 50.0 * draw.contrast;
    const double high = 150.0 + 50.0 * draw.contrast;
    const int left = draw.flipped ? 1 : 0;
    EXPECT_NEAR(out.at<cv::Vec3b>(0, left)[0], low, 1.0) << seed;
    EXPECT_NEAR(out.at<cv::Vec3b>(0, 1 - left)[0], high, 1.0) << seed;
  }
}

TEST(InceptionPreprocess, ColourDistortionIsSeededAndVaried) {
  const InceptionPreprocess pre(PreprocessSettings{});
  const auto jpeg = test::makeJpeg(500, 375, 11);
  cv::Mat a = output(pre.settings()), b = output(pre.settings()), c = output(pre.settings());
  const TrainDraw first = pre.train(jpeg, 42, a, "a.jpg");
  const TrainDraw again = pre.train(jpeg, 42, b, "a.jpg");
  EXPECT_EQ(first.crop, again.crop);
  EXPECT_EQ(cv::norm(a, b, cv::NORM_INF), 0.0);
  pre.train(jpeg, 43, c, "a.jpg");
  EXPECT_GT(cv::norm(a, c, cv::NORM_L1), 0.0);
  int orders[2] = {0, 0};
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    core::SeededRandom random(seed);
    cv::Mat out = output(pre.settings());
    ++orders[pre.trainImage(toRgb(test::makePicture(50, 50, 1)), seed, out).colourOrder];
  }
  EXPECT_GT(orders[0], 5);
  EXPECT_GT(orders[1], 5);
}

TEST(InceptionPreprocess, ReducedDecodingMatchesFullDecoding) {
  // A smooth 1600 x 1200 photo-like image: big crops decode at 1/2 or 1/4, small ones in full.
  cv::Mat big;
  cv::resize(test::makePicture(200, 150, 3), big, cv::Size(1600, 1200), 0, 0, cv::INTER_CUBIC);
  const auto jpeg = test::encode(big, ".jpg");
  PreprocessSettings s = plain(299, 299);
  const InceptionPreprocess reduced(s);
  s.reducedDecode = false;
  const InceptionPreprocess full(s);
  int reductions[9] = {};
  for (std::uint64_t seed = 0; seed < 12; ++seed) {
    cv::Mat a = output(s), b = output(s);
    const TrainDraw dr = reduced.train(jpeg, seed, a, "big.jpg");
    const TrainDraw df = full.train(jpeg, seed, b, "big.jpg");
    EXPECT_EQ(dr.crop, df.crop) << seed;
    EXPECT_EQ(df.reduction, 1);
    EXPECT_GE(dr.crop.width, 299 * dr.reduction);
    EXPECT_GE(dr.crop.height, 299 * dr.reduction);
    ++reductions[dr.reduction];
    cv::Mat diff;
    cv::absdiff(a, b, diff);
    EXPECT_LT(cv::mean(diff)[0], 4.0) << seed << " reduction " << dr.reduction;
  }
  EXPECT_GT(reductions[2] + reductions[4], 0);
  EXPECT_GT(reductions[1], 0);
}

TEST(InceptionPreprocess, ExifRotatedJpegIsCroppedAsDisplayed) {
  const auto bytes =
      test::readFile(test::sourceDir() / "tests/fixtures/images/exif_orientation6.jpg");
  const InceptionPreprocess pre(plain(8, 8));
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    cv::Mat out = output(pre.settings());
    const TrainDraw draw = pre.train(bytes, seed, out, "exif6.jpg");
    EXPECT_LE(draw.crop.x + draw.crop.width, 32);
    EXPECT_LE(draw.crop.y + draw.crop.height, 64);
  }
  cv::Mat out = output(pre.settings());
  pre.eval(bytes, out, "exif6.jpg");
  const auto topRight = out.at<cv::Vec3b>(1, 6);  // red after the rotation
  EXPECT_GT(topRight[0], 200);
  EXPECT_LT(topRight[2], 60);
}

TEST(InceptionPreprocess, InvalidSettingsAreAllReported) {
  PreprocessSettings s;
  s.width = 0;
  s.minArea = 0.0;
  s.minAspect = 2.0;
  s.hueDelta = 0.7f;
  s.centralFraction = 1.5;
  EXPECT_EQ(s.validate().size(), 5u);
  EXPECT_THROW(InceptionPreprocess{s}, core::Error);
  EXPECT_TRUE(PreprocessSettings{}.validate().empty());
}

TEST(InceptionPreprocess, UndecodableBytesNameTheImage) {
  const InceptionPreprocess pre;
  cv::Mat out = output(pre.settings());
  try {
    pre.train("garbage", 1, out, "dogs/123.jpg");
    FAIL();
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("dogs/123.jpg"), std::string::npos);
  }
}

}  // namespace
}  // namespace taxon::data
