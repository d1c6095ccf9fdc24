#include "records/Crc32c.hpp"

#include <gtest/gtest.h>

#include <string>

namespace taxon::records {
namespace {

TEST(Crc32c, MatchesKnownVectors) {
  // The check value of CRC-32C and the vectors of RFC 3720 (iSCSI), appendix B.4.
  EXPECT_EQ(crc32c("123456789"), 0xe3069283u);
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8a9136aau);
  EXPECT_EQ(crc32c(std::string(32, '\xff')), 0x62a8ab43u);
  std::string ascending;
  for (int i = 0; i < 32; ++i) {
    ascending += static_cast<char>(i);
  }
  EXPECT_EQ(crc32c(ascending), 0x46dd794eu);
  EXPECT_EQ(crc32c(""), 0u);
}

TEST(Crc32c, ContinuesAcrossPiecesAndOddAlignments) {
  std::string text;
  for (int i = 0; i < 1000; ++i) {
    text += static_cast<char>(i * 7 + 3);
  }
  const auto whole = crc32c(text);
  for (std::size_t cut : {1u, 7u, 8u, 9u, 500u, 999u}) {
    const auto first = crc32c(text.data(), cut);
    EXPECT_EQ(crc32c(text.data() + cut, text.size() - cut, first), whole) << cut;
  }
  EXPECT_EQ(crc32c(text.substr(3)), crc32c(text.data() + 3, text.size() - 3));
}

TEST(Crc32c, HardwareAndPortableAgree) {
  std::string text;
  for (int i = 0; i < 4099; ++i) {
    text += static_cast<char>(i * 31 + i / 7);
  }
  EXPECT_EQ(crc32cPortable("123456789", 9), 0xe3069283u);
  for (std::size_t begin : {0u, 1u, 5u}) {
    for (std::size_t size : {0u, 3u, 8u, 13u, 64u, 4000u}) {
      EXPECT_EQ(crc32c(text.data() + begin, size), crc32cPortable(text.data() + begin, size))
          << begin << " " << size;
      EXPECT_EQ(crc32c(text.data() + begin, size, 0x1234u),
                crc32cPortable(text.data() + begin, size, 0x1234u));
    }
  }
}

TEST(Crc32c, MaskIsTensorFlowsAndReversible) {
  // TensorFlow's mask: rotate right by 15 bits and add a constant.
  EXPECT_EQ(maskCrc(0), 0xa282ead8u);
  EXPECT_EQ(maskCrc(0x12345678u), ((0x12345678u >> 15) | (0x12345678u << 17)) + 0xa282ead8u);
  for (std::uint32_t v : {0u, 1u, 0xe3069283u, 0xffffffffu}) {
    EXPECT_EQ(unmaskCrc(maskCrc(v)), v);
  }
}

}  // namespace
}  // namespace taxon::records
