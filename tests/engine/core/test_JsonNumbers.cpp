// Whole numbers from untrusted JSON: in range they read as nlohmann reads them; out of range,
// fractional or not numbers they are a type_error, never a cast out of range (undefined
// behaviour that the fuzz targets found twice).
#include "core/JsonNumbers.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace taxon::core {
namespace {

using nlohmann::json;

TEST(JsonNumbers, WholeNumbersInRangeAreRead) {
  EXPECT_EQ(wholeNumber<std::int64_t>(json::parse("42"), "x"), 42);
  EXPECT_EQ(wholeNumber<std::int64_t>(json::parse("-7"), "x"), -7);
  EXPECT_EQ(wholeNumber<std::int64_t>(json::parse("3.0"), "x"), 3);
  EXPECT_EQ(wholeNumber<std::int64_t>(json::parse("9223372036854775807"), "x"), INT64_MAX);
  EXPECT_EQ(wholeNumber<std::uint64_t>(json::parse("18446744073709551615"), "x"), UINT64_MAX);
  EXPECT_EQ(wholeNumber<std::uint32_t>(json::parse("4294967295"), "x"), 4294967295u);
  EXPECT_EQ(wholeNumber<int>(json::parse("-2147483648"), "x"), INT32_MIN);
  EXPECT_EQ(wholeNumber<std::size_t>(json::parse("1e3"), "x"), 1000u);
}

TEST(JsonNumbers, AnythingElseIsATypeErrorNamingTheField) {
  for (const char* text : {"6.66667e+122", "1e31", "9223372036854775808.0", "3.5", "-1e300",
                           "\"seven\"", "null", "true", "[1]"}) {
    EXPECT_THROW(wholeNumber<std::int64_t>(json::parse(text), "step"), json::type_error) << text;
  }
  EXPECT_THROW(wholeNumber<std::uint64_t>(json::parse("-1"), "size"), json::type_error);
  EXPECT_THROW(wholeNumber<std::uint32_t>(json::parse("4294967296"), "crc"), json::type_error);
  EXPECT_THROW(wholeNumber<int>(json::parse("2147483648"), "top_k"), json::type_error);
  EXPECT_THROW(wholeNumber<std::int64_t>(json::parse("18446744073709551615"), "x"),
               json::type_error);
  try {
    wholeField<std::size_t>(json::parse(R"({"num_classes": 6.7e122})"), "num_classes");
    FAIL();
  } catch (const json::type_error& e) {
    EXPECT_NE(std::string(e.what()).find("\"num_classes\" is not a whole number"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(wholeFieldOr<std::int64_t>(json::object(), "records", -1), -1);
  EXPECT_THROW(wholeFieldOr<std::int64_t>(json::parse(R"({"records": 0.5})"), "records", -1),
               json::type_error);
  EXPECT_EQ(jsonAs<double>(json::parse("0.5"), "lr"), 0.5);
  EXPECT_EQ(jsonAs<bool>(json::parse("true"), "flag"), true);
  EXPECT_THROW(jsonAs<int>(json::parse("1e10"), "batch_size"), json::type_error);
}

}  // namespace
}  // namespace taxon::core
