#include "image/ImageCheck.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "TestFiles.hpp"

namespace taxon::image {
namespace {

using test::TempDir;

TEST(ImageCheck, AcceptsRealImagesAndReadsTheirSizeFromTheHeader) {
  const auto jpeg = checkImageBytes(test::makeJpeg(64, 48));
  ASSERT_TRUE(jpeg.ok) << jpeg.reason;
  EXPECT_EQ(jpeg.header.format, "JPEG");
  EXPECT_EQ(jpeg.header.width, 64);
  EXPECT_EQ(jpeg.header.height, 48);
  EXPECT_EQ(jpeg.hash.size(), 32u);

  for (const char* ext : {".png", ".bmp", ".webp", ".tiff", ".ppm"}) {
    const auto checked = checkImageBytes(test::encode(test::makePicture(40, 30, 2), ext));
    EXPECT_TRUE(checked.ok) << ext << ": " << checked.reason;
    EXPECT_EQ(checked.header.width, 40) << ext;
    EXPECT_EQ(checked.header.height, 30) << ext;
  }
  const auto gray = checkImageBytes(test::encode(test::makePicture(40, 30, 2, 1), ".png"));
  EXPECT_TRUE(gray.ok) << gray.reason;
}

TEST(ImageCheck, ExplainsEveryKindOfBrokenFile) {
  const std::string jpeg = test::makeJpeg(64, 48);
  EXPECT_EQ(checkImageBytes("").reason, "empty file (0 bytes)");
  EXPECT_EQ(checkImageBytes("hello, this is text").reason, "not an image (unrecognized content)");
  EXPECT_NE(checkImageBytes(jpeg.substr(0, jpeg.size() / 2)).reason.find("truncated JPEG"),
            std::string::npos);
  const std::string png = test::makePng(64, 48);
  EXPECT_NE(checkImageBytes(png.substr(0, png.size() - 30)).reason.find("truncated PNG"),
            std::string::npos);
  EXPECT_EQ(checkImageBytes("GIF89a\x10\x00\x10\x00\x00\x00\x00;").reason,
            "unsupported image format GIF");

  // Damage in the middle of the compressed data of a PNG fails its checksum when decoded.
  std::string corrupt = png;
  for (std::size_t i = 60; i < corrupt.size() - 20; i += 7) {
    corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5a);
  }
  const auto broken = checkImageBytes(corrupt);
  EXPECT_FALSE(broken.ok);
  EXPECT_NE(broken.reason.find("PNG"), std::string::npos) << broken.reason;
}

TEST(ImageCheck, RefusesDecompressionBombsFromTheHeaderAlone) {
  // A PNG header claiming 100000 x 100000 pixels, followed by nothing worth decoding.
  std::string png = test::makePng(8, 8);
  const unsigned char big[8] = {0x00, 0x01, 0x86, 0xa0, 0x00, 0x01, 0x86, 0xa0};
  std::copy(big, big + 8, png.begin() + 16);
  const auto checked = checkImageBytes(png);
  EXPECT_FALSE(checked.ok);
  EXPECT_NE(checked.reason.find("image too large: 100000x100000"), std::string::npos)
      << checked.reason;

  ImageCheckLimits tight;
  tight.maxPixels = 100;
  EXPECT_NE(checkImageBytes(test::makeJpeg(20, 20), tight).reason.find("too large"),
            std::string::npos);
}

// A little-endian TIFF header with one IFD of SHORT entries (tag, value).
std::string tiff(const std::vector<std::pair<int, int>>& entries) {
  std::string bytes("II*\0\x08\0\0\0", 8);
  bytes += static_cast<char>(entries.size());
  bytes += '\0';
  for (const auto& [tag, value] : entries) {
    const unsigned char entry[12] = {static_cast<unsigned char>(tag & 0xff),
                                     static_cast<unsigned char>(tag >> 8),
                                     3,
                                     0,
                                     1,
                                     0,
                                     0,
                                     0,
                                     static_cast<unsigned char>(value & 0xff),
                                     static_cast<unsigned char>(value >> 8),
                                     0,
                                     0};
    bytes.append(reinterpret_cast<const char*>(entry), 12);
  }
  return bytes;
}

// Found by fuzz_image: a TIFF that gives its width twice is read as libtiff reads it (the first),
// so the pixel limit sees the size the decoder will allocate; a depth OpenCV cannot decode (which
// it would still size its buffers by) is refused as unsupported.
TEST(ImageCheck, TiffHeadersAreReadAsTheDecoderReadsThem) {
  auto header = readImageHeader(tiff({{256, 2817}, {257, 9000}, {256, 1}}));
  ASSERT_TRUE(header);
  EXPECT_EQ(header->width, 2817);
  EXPECT_EQ(header->height, 9000);
  EXPECT_TRUE(header->supported);
  header = readImageHeader(tiff({{256, 10}, {257, 10}, {258, 48640}}));
  ASSERT_TRUE(header);
  EXPECT_FALSE(header->supported);
  EXPECT_EQ(header->format, "TIFF with 48640 bits per sample");
  header = readImageHeader(tiff({{256, 10}, {257, 10}, {258, 8}, {277, 9}}));
  ASSERT_TRUE(header);
  EXPECT_FALSE(header->supported);
  EXPECT_TRUE(readImageHeader(tiff({{256, 10}, {257, 10}, {258, 16}, {277, 3}}))->supported);
}

// Found by taxon_fuzz_image: "P1 766#773717\n1 7\n2\n" read as 766 x 1 here while OpenCV, which
// takes the '#' with the width, read a height of 773717 and allocated 593 MB. A number that ends
// in anything but whitespace leaves the size unreadable; comments between numbers still count.
TEST(ImageCheck, PnmHeadersAreReadAsTheDecoderReadsThem) {
  const std::string fuzzed("P1 766#773717\n1 7\n2\n\0", 21);
  const auto refused = checkImageBytes(fuzzed, {});
  EXPECT_FALSE(refused.ok);
  EXPECT_EQ(refused.reason, "corrupt PNM header (no image size)");
  std::string pbm = "P1\n# a comment\n16 # another\n16\n";
  for (int i = 0; i < 16 * 16; ++i) {
    pbm += i % 3 == 0 ? "1 " : "0 ";
  }
  const auto header = readImageHeader(pbm);
  ASSERT_TRUE(header);
  EXPECT_EQ(header->width, 16);
  EXPECT_EQ(header->height, 16);
  const auto decoded = checkImageBytes(pbm, {});
  EXPECT_TRUE(decoded.ok) << decoded.reason;
}

TEST(ImageCheck, ReportsIoProblemsAsReasons) {
  TempDir dir;
  const auto missing = checkImageFile(dir / "missing.jpg");
  EXPECT_FALSE(missing.ok);
  EXPECT_NE(missing.reason.find("No such file"), std::string::npos) << missing.reason;
  test::writeFile(dir / "ok.jpg", test::makeJpeg(16, 16));
  EXPECT_TRUE(checkImageFile(dir / "ok.jpg").ok);
}

// Found by taxon_fuzz_image: a BMP whose height is -2^31 (top-down rows) overflowed the negation.
TEST(ImageCheck, ABmpHeightOfMinus2To31IsTooLargeNotUndefined) {
  std::string bmp = "BM" + std::string(24, '\0');
  bmp[18] = 4;                      // width 4
  bmp[22] = bmp[23] = bmp[24] = 0;  // height 0x80000000 = -2^31
  bmp[25] = static_cast<char>(0x80);
  const auto header = readImageHeader(bmp);
  ASSERT_TRUE(header.has_value());
  EXPECT_EQ(header->height, std::numeric_limits<int>::max());
  EXPECT_FALSE(checkImageBytes(bmp).ok);
}

TEST(ImageCheck, SameBytesSameHash) {
  const std::string a = test::makeJpeg(30, 30, 1);
  const std::string b = test::makeJpeg(30, 30, 2);
  EXPECT_EQ(contentHash(a), contentHash(std::string(a)));
  EXPECT_NE(contentHash(a), contentHash(b));
}

}  // namespace
}  // namespace taxon::image

namespace taxon::image {
namespace {

TEST(ImageCheck, HeaderOnlyModeSkipsTheDecodeButNotTheStructuralChecks) {
  ImageCheckLimits headerOnly;
  headerOnly.decode = false;
  std::string png = test::makePng(64, 48);
  std::string corrupt = png;
  for (std::size_t i = 60; i < corrupt.size() - 20; i += 7) {
    corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5a);
  }
  EXPECT_FALSE(checkImageBytes(corrupt).ok) << "the decode finds damage inside the data";
  EXPECT_TRUE(checkImageBytes(corrupt, headerOnly).ok) << "the header-only mode cannot";
  EXPECT_NE(checkImageBytes(png.substr(0, png.size() - 30), headerOnly).reason.find("truncated"),
            std::string::npos);
  EXPECT_EQ(checkImageBytes("", headerOnly).reason, "empty file (0 bytes)");
  EXPECT_EQ(checkImageBytes(png, headerOnly).hash, contentHash(png));
}

}  // namespace
}  // namespace taxon::image
