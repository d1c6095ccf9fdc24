#include "core/Text.hpp"

#include <gtest/gtest.h>

namespace taxon::core {
namespace {

TEST(Text, DisplayWidthCountsColumnsNotBytes) {
  EXPECT_EQ(displayWidth(""), 0u);
  EXPECT_EQ(displayWidth("Women > Shoes"), 13u);
  EXPECT_EQ(displayWidth("靴"), 2u);  // three bytes, two columns
  EXPECT_EQ(displayWidth("レディース > 靴 > サンダル"), 26u);
  EXPECT_EQ(displayWidth("Café"), 4u);
  EXPECT_EQ(displayWidth("Cafe\u0301"), 4u);  // e and a combining acute accent
  EXPECT_EQ(displayWidth("\xff\xfe"), 2u);    // not UTF-8: a column per byte
}

TEST(Text, PaddingReachesTheColumnsWhateverTheCharacters) {
  EXPECT_EQ(padRight("靴", 5), "靴   ");
  EXPECT_EQ(displayWidth(padRight("レディース > 靴", 20)), 20u);
  EXPECT_EQ(padRight("too long", 3), "too long");
  EXPECT_EQ(padLeft("12", 4), "  12");
  EXPECT_EQ(displayWidth(padLeft("サンダル", 10)), 10u);
}

}  // namespace
}  // namespace taxon::core
