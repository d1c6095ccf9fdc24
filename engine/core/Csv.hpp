// CSV as RFC 4180 writes it: fields separated by commas, a field holding a comma, a quote or a
// line break is quoted and its quotes doubled. One writer (evaluation reports) and one reader
// (reports read back, import manifests) so that what we write always reads back the same.
#pragma once

#include <cstddef>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace taxon::core {

// `field` as it goes into a CSV file: unchanged, or quoted when it holds a comma, a quote, "\r"
// or "\n".
std::string csvField(std::string_view field);

// Appends `fields` as one CSV row ending in "\n".
void appendCsvRow(std::string& out, std::initializer_list<std::string_view> fields);

struct CsvRow {
  std::vector<std::string> fields;
  std::size_t line = 1;  // the 1-based line of the text the row starts on
};

// Every row of a whole CSV text. Rows end at "\n", "\r\n" or "\r"; a quoted field may span lines
// (the next row then starts on a later line); a last row without a line break counts. Throws
// core::Error naming `source` and the line for a quote inside an unquoted field, text after a
// closing quote, or a quoted field still open at the end.
std::vector<CsvRow> parseCsv(std::string_view text, const std::filesystem::path& source);

// The fields of one line read on its own (an import manifest is read line by line, each problem
// reported against its line and the rest imported). Lenient where parseCsv throws, because a
// manifest's line is judged by its columns afterwards: a quote opens or closes quoting wherever it
// stands, an unclosed quote runs to the end of the line, and "\r" outside quotes is dropped.
std::vector<std::string> splitCsvLine(std::string_view line);

}  // namespace taxon::core
