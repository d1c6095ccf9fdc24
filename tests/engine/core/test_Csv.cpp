#include "core/Csv.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/Error.hpp"

namespace taxon::core {
namespace {

using Fields = std::vector<std::string>;

TEST(Csv, PlainFieldsAreWrittenAsTheyAre) {
  EXPECT_EQ(csvField("Women > Shoes"), "Women > Shoes");
  EXPECT_EQ(csvField(""), "");
  std::string out;
  appendCsvRow(out, {"a", "b", ""});
  EXPECT_EQ(out, "a,b,\n");
}

TEST(Csv, AwkwardFieldsRoundTrip) {
  const Fields awkward = {"comma, inside", "say \"hi\"", "two\nlines", "cr\r\nlf", "\"", ",", ""};
  std::string text;
  appendCsvRow(text, {"header", "second"});
  for (const auto& field : awkward) {
    appendCsvRow(text, {field, "x"});
  }
  const auto rows = parseCsv(text, "round.csv");
  ASSERT_EQ(rows.size(), awkward.size() + 1);
  for (std::size_t i = 0; i < awkward.size(); ++i) {
    EXPECT_EQ(rows[i + 1].fields, (Fields{awkward[i], "x"})) << "field " << i;
  }
}

TEST(Csv, RowsKnowTheLineTheyStartOnWhenQuotedFieldsSpanLines) {
  const auto rows = parseCsv("a,b\n\"one\ntwo\nthree\",c\nd,e\n", "lines.csv");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].line, 1u);
  EXPECT_EQ(rows[1].fields, (Fields{"one\ntwo\nthree", "c"}));
  EXPECT_EQ(rows[1].line, 2u);
  EXPECT_EQ(rows[2].fields, (Fields{"d", "e"}));
  EXPECT_EQ(rows[2].line, 5u);
}

TEST(Csv, CrlfAndAMissingLastLineBreakEndRows) {
  const auto rows = parseCsv("a,b\r\nc,\"d\"\r\ne,f", "crlf.csv");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].fields, (Fields{"a", "b"}));
  EXPECT_EQ(rows[1].fields, (Fields{"c", "d"}));
  EXPECT_EQ(rows[2].fields, (Fields{"e", "f"}));
  EXPECT_EQ(rows[2].line, 3u);
  EXPECT_TRUE(parseCsv("", "empty.csv").empty());
}

void expectError(const std::string& text, const std::string& message) {
  try {
    parseCsv(text, "bad.csv");
    ADD_FAILURE() << "no error for " << text;
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("bad.csv"), std::string::npos) << what;
    EXPECT_NE(what.find(message), std::string::npos) << what;
  }
}

TEST(Csv, MalformedQuotesNameTheFileAndLine) {
  expectError("a,b\nc,d\"e\n", "line 2: a quote inside an unquoted field");
  expectError("a,\"b\"c\n", "line 1: text after the closing quote of a field");
  expectError("a,b\n\"open\nstill open", "line 2: a quoted field is not closed before the end");
}

TEST(Csv, SplitCsvLineIsLenientOnOneLine) {
  EXPECT_EQ(splitCsvLine("a,\"b,c\",\"say \"\"hi\"\"\"\r"), (Fields{"a", "b,c", "say \"hi\""}));
  EXPECT_EQ(splitCsvLine(""), (Fields{""}));
  EXPECT_EQ(splitCsvLine("x,\"unclosed,y"), (Fields{"x", "unclosed,y"}));
  EXPECT_EQ(splitCsvLine("a\"b\",c"), (Fields{"ab", "c"}));
}

}  // namespace
}  // namespace taxon::core
