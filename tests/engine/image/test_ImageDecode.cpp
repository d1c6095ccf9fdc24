#include "image/ImageDecode.hpp"

#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <string>
#include <vector>

#include "TestFiles.hpp"
#include "TestPaths.hpp"
#include "core/Error.hpp"
#include "image/ImageCheck.hpp"

namespace taxon::image {
namespace {

std::filesystem::path fixtures() {
  return test::sourceDir() / "tests/fixtures/images";
}

// The decoded R, G, B of pixel (x, y).
cv::Vec3b rgbAt(const cv::Mat& image, int x, int y) {
  return image.at<cv::Vec3b>(y, x);
}

void expectNear(const cv::Vec3b& actual, int r, int g, int b, int tolerance, const char* where) {
  EXPECT_NEAR(actual[0], r, tolerance) << where;
  EXPECT_NEAR(actual[1], g, tolerance) << where;
  EXPECT_NEAR(actual[2], b, tolerance) << where;
}

// Left half red, right half blue, given as OpenCV's B, G, R.
cv::Mat redBlue(int width, int height, int type = CV_8UC3, double one = 255.0) {
  cv::Mat image(height, width, type, cv::Scalar(0, 0, one, one));
  image(cv::Rect(width / 2, 0, width - width / 2, height)).setTo(cv::Scalar(one, 0, 0, one));
  return image;
}

TEST(ImageDecode, JpegComesOutAsRgb) {
  const auto image = decodeImage(test::encode(redBlue(64, 32), ".jpg"), "red-blue.jpg");
  ASSERT_EQ(image.type(), CV_8UC3);
  EXPECT_EQ(image.cols, 64);
  EXPECT_EQ(image.rows, 32);
  expectNear(rgbAt(image, 8, 16), 255, 0, 0, 8, "left");
  expectNear(rgbAt(image, 56, 16), 0, 0, 255, 8, "right");
}

TEST(ImageDecode, BgrOrderOnRequest) {
  const auto image = decodeImage(test::encode(redBlue(64, 32), ".png"), "red-blue.png", {1, true});
  expectNear(rgbAt(image, 8, 16), 0, 0, 255, 0, "left, as B G R");
}

TEST(ImageDecode, GrayscaleBecomesThreeEqualChannels) {
  const cv::Mat gray = test::makePicture(40, 30, 7, 1);
  ASSERT_EQ(gray.channels(), 1);
  for (const char* extension : {".png", ".jpg"}) {
    const auto image = decodeImage(test::encode(gray, extension), extension);
    ASSERT_EQ(image.type(), CV_8UC3) << extension;
    const auto p = rgbAt(image, 20, 15);
    EXPECT_EQ(p[0], p[1]) << extension;
    EXPECT_EQ(p[1], p[2]) << extension;
    if (std::string(extension) == ".png") {
      EXPECT_EQ(p[0], gray.at<std::uint8_t>(15, 20));
    }
  }
}

TEST(ImageDecode, AlphaIsDropped) {
  cv::Mat rgba = redBlue(40, 20, CV_8UC4);
  rgba(cv::Rect(0, 0, 10, 20)).forEach<cv::Vec4b>([](cv::Vec4b& p, const int*) { p[3] = 0; });
  const auto image = decodeImage(test::encode(rgba, ".png"), "rgba.png");
  ASSERT_EQ(image.type(), CV_8UC3);
  expectNear(rgbAt(image, 2, 10), 255, 0, 0, 0, "transparent red keeps its colour");
  expectNear(rgbAt(image, 30, 10), 0, 0, 255, 0, "opaque blue");
}

TEST(ImageDecode, SixteenBitKeepsTheHighByte) {
  cv::Mat deep(10, 12, CV_16UC3, cv::Scalar(0x1234, 0x8080, 0xabcd));  // B, G, R
  const auto image = decodeImage(test::encode(deep, ".png"), "deep.png");
  ASSERT_EQ(image.type(), CV_8UC3);
  expectNear(rgbAt(image, 5, 5), 0xab, 0x80, 0x12, 0, "16-bit colour");

  cv::Mat deepGray(10, 12, CV_16UC1, cv::Scalar(0xfe01));
  const auto gray = decodeImage(test::encode(deepGray, ".png"), "deep-gray.png");
  ASSERT_EQ(gray.type(), CV_8UC3);
  expectNear(rgbAt(gray, 5, 5), 0xfe, 0xfe, 0xfe, 0, "16-bit gray");
}

TEST(ImageDecode, CmykJpegIsConverted) {
  const auto image = decodeImage(test::readFile(fixtures() / "cmyk.jpg"), "cmyk.jpg");
  ASSERT_EQ(image.type(), CV_8UC3);
  EXPECT_EQ(image.cols, 64);
  EXPECT_EQ(image.rows, 48);
  expectNear(rgbAt(image, 8, 24), 255, 0, 0, 12, "left red");
  expectNear(rgbAt(image, 56, 24), 0, 0, 255, 12, "right blue");
}

TEST(ImageDecode, PalettePngIsExpanded) {
  const auto image = decodeImage(test::readFile(fixtures() / "palette.png"), "palette.png");
  ASSERT_EQ(image.type(), CV_8UC3);
  expectNear(rgbAt(image, 5, 10), 255, 0, 0, 0, "left red");
  expectNear(rgbAt(image, 35, 10), 0, 255, 0, 0, "right green");
}

// The fixtures store 64 x 32 pixels: top-left red, top-right green, bottom-left blue,
// bottom-right white (see tests/fixtures/images/make_fixtures.py).
void expectQuadrants(const cv::Mat& image, const cv::Vec3b& tl, const cv::Vec3b& tr,
                     const cv::Vec3b& bl, const cv::Vec3b& br) {
  const int w = image.cols;
  const int h = image.rows;
  expectNear(rgbAt(image, w / 4, h / 4), tl[0], tl[1], tl[2], 12, "top left");
  expectNear(rgbAt(image, 3 * w / 4, h / 4), tr[0], tr[1], tr[2], 12, "top right");
  expectNear(rgbAt(image, w / 4, 3 * h / 4), bl[0], bl[1], bl[2], 12, "bottom left");
  expectNear(rgbAt(image, 3 * w / 4, 3 * h / 4), br[0], br[1], br[2], 12, "bottom right");
}

const cv::Vec3b kRed(255, 0, 0), kGreen(0, 255, 0), kBlue(0, 0, 255), kWhite(255, 255, 255);

TEST(ImageDecode, ExifOrientationIsApplied) {
  const auto bytes6 = test::readFile(fixtures() / "exif_orientation6.jpg");
  for (int reduction : {1, 2}) {
    SCOPED_TRACE(reduction);
    const auto rotated = decodeImage(bytes6, "exif6.jpg", {reduction, false});
    EXPECT_EQ(rotated.cols, 32 / reduction);
    EXPECT_EQ(rotated.rows, 64 / reduction);
    // Rotated 90 degrees clockwise.
    expectQuadrants(rotated, kBlue, kRed, kWhite, kGreen);
  }
  const auto upsideDown =
      decodeImage(test::readFile(fixtures() / "exif_orientation3.jpg"), "exif3.jpg");
  EXPECT_EQ(upsideDown.cols, 64);
  EXPECT_EQ(upsideDown.rows, 32);
  expectQuadrants(upsideDown, kWhite, kBlue, kGreen, kRed);
}

TEST(ImageDecode, JpegHeaderGivesTheDisplayedSize) {
  const auto plain = readJpegHeader(test::makeJpeg(123, 45));
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->width, 123);
  EXPECT_EQ(plain->height, 45);
  EXPECT_EQ(plain->orientation, 1);

  const auto rotated = readJpegHeader(test::readFile(fixtures() / "exif_orientation6.jpg"));
  ASSERT_TRUE(rotated);
  EXPECT_EQ(rotated->orientation, 6);
  EXPECT_EQ(rotated->width, 32);
  EXPECT_EQ(rotated->height, 64);

  const auto cmyk = readJpegHeader(test::readFile(fixtures() / "cmyk.jpg"));
  ASSERT_TRUE(cmyk);
  EXPECT_EQ(cmyk->width, 64);

  EXPECT_FALSE(readJpegHeader(test::makePng(10, 10)));
  EXPECT_FALSE(readJpegHeader("not an image"));
  EXPECT_FALSE(readJpegHeader(test::makeJpeg(100, 80).substr(0, 20)));
}

TEST(ImageDecode, ReducedJpegDecoding) {
  const auto jpeg = test::makeJpeg(801, 600);
  for (int reduction : {1, 2, 4, 8}) {
    const auto image = decodeImage(jpeg, "big.jpg", {reduction, false});
    EXPECT_EQ(image.cols, (801 + reduction - 1) / reduction) << reduction;
    EXPECT_EQ(image.rows, 600 / reduction) << reduction;
  }
  // Other formats are decoded at full size whatever the reduction.
  const auto png = decodeImage(test::makePng(80, 60), "big.png", {4, false});
  EXPECT_EQ(png.cols, 80);
  EXPECT_EQ(png.rows, 60);
}

TEST(ImageDecode, ReductionKeepsTheCropAtLeastTheOutputSize) {
  EXPECT_EQ(chooseReduction(299, 299, 299, 299), 1);
  EXPECT_EQ(chooseReduction(597, 1000, 299, 299), 1);
  EXPECT_EQ(chooseReduction(598, 598, 299, 299), 2);
  EXPECT_EQ(chooseReduction(1300, 1200, 299, 299), 4);
  EXPECT_EQ(chooseReduction(4000, 3000, 299, 299), 8);
  EXPECT_EQ(chooseReduction(100, 100, 299, 299), 1);
}

TEST(ImageDecode, UndecodableBytesNameTheImage) {
  for (const std::string& bytes : {std::string("definitely not an image"), std::string(),
                                   test::makeJpeg(64, 48).substr(0, 30)}) {
    try {
      decodeImage(bytes, "cats/broken.jpg");
      ADD_FAILURE() << "no error for " << bytes.size() << " bytes";
    } catch (const core::Error& e) {
      EXPECT_NE(std::string(e.what()).find("cats/broken.jpg"), std::string::npos) << e.what();
    }
  }
}

// Found by taxon_fuzz_image: a PNM header whose size one decoder reads as 555 x 0 and OpenCV as
// 555 x 555555 (a 925 MB allocation). A size that decoders can read differently is no size.
TEST(ImageDecode, AHeaderWhoseSizeReadsTwoWaysIsRefused) {
  const std::string bytes =
      test::readFile(test::sourceDir() / "tests/fuzz/corpus/image/pnm-size-read-two-ways");
  EXPECT_THROW(decodeImage(bytes, "hostile.ppm"), core::Error);
  EXPECT_FALSE(checkImageBytes(bytes).ok);
}

TEST(ImageDecode, AHeaderClaimingTooManyPixelsIsRefusedBeforeDecoding) {
  std::vector<unsigned char> png;
  cv::imencode(".png", redBlue(8, 8), png);
  std::string bytes(png.begin(), png.end());
  // IHDR's width and height (big-endian) at bytes 16..23: 100000 x 100000.
  const unsigned char huge[8] = {0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0};
  bytes.replace(16, 8, reinterpret_cast<const char*>(huge), 8);
  try {
    decodeImage(bytes, "huge.png");
    ADD_FAILURE() << "decoded";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("100000 x 100000 pixels"), std::string::npos) << e.what();
  }
  EXPECT_EQ(decodeImage(std::string(png.begin(), png.end()), "small.png", {.maxPixels = 64}).cols,
            8);
  EXPECT_THROW(decodeImage(std::string(png.begin(), png.end()), "small.png", {.maxPixels = 63}),
               core::Error);
}

// Only the formats Taxon reads reach OpenCV (whose other decoders, GDAL's among them, would read
// dozens more, writing each image to a temporary file first).
TEST(ImageDecode, FormatsTaxonDoesNotReadAreRefusedByName) {
  const std::string gif =
      std::string("GIF89a") + std::string("\x02\x00\x02\x00", 4) + std::string(20, '\0');
  try {
    decodeImage(gif, "anim.gif");
    ADD_FAILURE() << "decoded";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("GIF is not a format Taxon reads"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace taxon::image
