#include "records/ImageExample.hpp"

#include <gtest/gtest.h>

#include "core/Error.hpp"
#include "example.pb.h"

namespace taxon::records {
namespace {

TEST(ImageExample, RoundTripsTheSeedsFeatures) {
  static constexpr char kBytes[] = "\xff\xd8\xff\xe0 jpeg bytes \0 with nul";
  ImageExample in;
  in.encoded = std::string(kBytes, sizeof kBytes - 1);
  ASSERT_EQ(in.encoded.size(), 26u);
  in.filename = "n01440764_10026.JPEG";
  in.label = 449;
  in.text = "Women > Shoes > Sneakers";
  in.height = 375;
  in.width = 500;
  const ImageExample out = decodeExample(encodeExample(in));
  EXPECT_EQ(out.encoded, in.encoded);
  EXPECT_EQ(out.filename, in.filename);
  EXPECT_EQ(out.label, 449);
  EXPECT_EQ(out.text, in.text);
  EXPECT_EQ(out.height, 375);
  EXPECT_EQ(out.width, 500);
  EXPECT_EQ(out.format, "JPEG");
  EXPECT_EQ(out.colorspace, "RGB");
  EXPECT_EQ(out.channels, 3);
}

TEST(ImageExample, UsesTensorFlowsFeatureKeysAndFieldNumbers) {
  ImageExample in;
  in.encoded = "abc";
  in.label = 7;
  const std::string bytes = encodeExample(in);
  tensorflow::Example proto;
  ASSERT_TRUE(proto.ParseFromString(bytes));
  const auto& f = proto.features().feature();
  for (const char* key :
       {"image/encoded", "image/format", "image/filename", "image/class/label", "image/class/text",
        "image/height", "image/width", "image/channels", "image/colorspace"}) {
    EXPECT_TRUE(f.count(key)) << key;
  }
  EXPECT_EQ(f.at("image/class/label").int64_list().value(0), 7);
  // Example.features is field 1 (tag 0x0a), Features.feature map entries are field 1 too.
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(static_cast<unsigned char>(bytes[0]), 0x0a);
}

TEST(ImageExample, RejectsBytesThatAreNotAnImageExample) {
  EXPECT_THROW(decodeExample("\xff\xff\xff garbage"), core::Error);
  tensorflow::Example empty;
  EXPECT_THROW(decodeExample(empty.SerializeAsString()), core::Error);
}

}  // namespace
}  // namespace taxon::records
