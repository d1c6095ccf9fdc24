#include "core/Csv.hpp"

#include "core/Error.hpp"

namespace taxon::core {

std::string csvField(std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    return std::string(field);
  }
  std::string out = "\"";
  for (const char c : field) {
    out += c;
    if (c == '"') {
      out += '"';
    }
  }
  out += '"';
  return out;
}

void appendCsvRow(std::string& out, std::initializer_list<std::string_view> fields) {
  bool first = true;
  for (const auto field : fields) {
    if (!first) {
      out += ',';
    }
    first = false;
    out += csvField(field);
  }
  out += '\n';
}

namespace {

// The state of parseCsv between characters.
class CsvParser {
 public:
  CsvParser(std::string_view text, const std::filesystem::path& source)
      : text_(text), source_(source) {}

  std::vector<CsvRow> parse() {
    for (i_ = 0; i_ < text_.size(); ++i_) {
      if (quoted_) {
        quotedChar(text_[i_]);
      } else {
        unquotedChar(text_[i_]);
      }
    }
    if (quoted_) {
      fail(rowLine_, "a quoted field is not closed before the end of the file");
    }
    if (!field_.empty() || !row_.empty() || fieldWasQuoted_) {
      endRow();  // a last line without "\n"
    }
    return std::move(rows_);
  }

 private:
  [[noreturn]] void fail(std::size_t line, const std::string& what) const {
    throwFileError(source_, "line " + std::to_string(line) + ": " + what);
  }

  void quotedChar(char c) {
    if (c == '"' && i_ + 1 < text_.size() && text_[i_ + 1] == '"') {
      field_ += '"';
      ++i_;
    } else if (c == '"') {
      quoted_ = false;
    } else {
      line_ += c == '\n' ? 1 : 0;
      field_ += c;
    }
  }

  void unquotedChar(char c) {
    if (c == '"') {
      if (!field_.empty() || fieldWasQuoted_) {
        fail(line_, "a quote inside an unquoted field");
      }
      quoted_ = true;
      fieldWasQuoted_ = true;
    } else if (c == ',') {
      row_.push_back(std::move(field_));
      field_.clear();
      fieldWasQuoted_ = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i_ + 1 < text_.size() && text_[i_ + 1] == '\n') {
        ++i_;
      }
      endRow();
      ++line_;
      rowLine_ = line_;
    } else {
      if (fieldWasQuoted_) {
        fail(line_, "text after the closing quote of a field");
      }
      field_ += c;
    }
  }

  void endRow() {
    row_.push_back(std::move(field_));
    field_.clear();
    rows_.push_back({std::move(row_), rowLine_});
    row_.clear();
    fieldWasQuoted_ = false;
  }

  std::string_view text_;
  const std::filesystem::path& source_;
  std::size_t i_ = 0;
  std::vector<CsvRow> rows_;
  std::vector<std::string> row_;
  std::string field_;
  bool quoted_ = false;
  bool fieldWasQuoted_ = false;
  std::size_t line_ = 1;
  std::size_t rowLine_ = 1;
};

}  // namespace

std::vector<CsvRow> parseCsv(std::string_view text, const std::filesystem::path& source) {
  return CsvParser(text, source).parse();
}

std::vector<std::string> splitCsvLine(std::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  return fields;
}

}  // namespace taxon::core
