#include "eval/ReportReader.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/Csv.hpp"
#include "core/Error.hpp"
#include "core/Files.hpp"
#include "core/JsonNumbers.hpp"

namespace taxon::eval {
namespace {

// One CSV file parsed into rows of fields, each row with the line it starts on (1-based).
class CsvFile {
 public:
  CsvFile(std::filesystem::path path, const std::string& text)
      : path_(std::move(path)), rows_(core::parseCsv(text, path_)) {}

  [[noreturn]] void fail(std::size_t row, const std::string& what) const {
    core::throwFileError(path_, "line " + std::to_string(rows_[row].line) + ": " + what);
  }

  // Checks the header row and that every row has as many fields; returns the data row count.
  std::size_t expectColumns(const std::vector<std::string_view>& header) const {
    if (rows_.empty()) {
      core::throwFileError(path_, "the file is empty (expected a header row)");
    }
    if (rows_[0].fields.size() != header.size() ||
        !std::equal(header.begin(), header.end(), rows_[0].fields.begin())) {
      std::string expected;
      for (const auto& name : header) {
        expected += (expected.empty() ? "" : ",") + std::string(name);
      }
      fail(0, "unexpected header (expected \"" + expected + "\")");
    }
    for (std::size_t r = 1; r < rows_.size(); ++r) {
      if (rows_[r].fields.size() != header.size()) {
        fail(r, "expected " + std::to_string(header.size()) + " fields, found " +
                    std::to_string(rows_[r].fields.size()));
      }
    }
    return rows_.size() - 1;
  }

  // Field `column` of data row `row` (0-based; the header is not counted).
  const std::string& text(std::size_t row, std::size_t column) const {
    return rows_[row + 1].fields[column];
  }

  std::int64_t integer(std::size_t row, std::size_t column) const {
    const auto& field = text(row, column);
    std::int64_t value = 0;
    const auto result = std::from_chars(field.data(), field.data() + field.size(), value);
    if (field.empty() || result.ec != std::errc() || result.ptr != field.data() + field.size()) {
      fail(row + 1, "field " + std::to_string(column + 1) + " \"" + field + "\" is not an integer");
    }
    return value;
  }

  double number(std::size_t row, std::size_t column) const {
    const auto& field = text(row, column);
    double value = 0;
    // from_chars, not strtod: the app sets a locale whose decimal separator may be ','.
    const auto result = std::from_chars(field.data(), field.data() + field.size(), value);
    if (field.empty() || result.ec != std::errc() || result.ptr != field.data() + field.size()) {
      fail(row + 1, "field " + std::to_string(column + 1) + " \"" + field + "\" is not a number");
    }
    return value;
  }

  // A class id that must be in [0, classes).
  std::int64_t classId(std::size_t row, std::size_t column, std::size_t classes) const {
    const auto value = integer(row, column);
    if (value < 0 || static_cast<std::size_t>(value) >= classes) {
      fail(row + 1, "class " + std::to_string(value) + " is outside the " +
                        std::to_string(classes) + " categories");
    }
    return value;
  }

 private:
  std::filesystem::path path_;
  std::vector<core::CsvRow> rows_;
};

CsvFile readCsv(const std::filesystem::path& path) {
  return CsvFile(path, core::readFile(path));
}

}  // namespace

MetricsReport readReport(const std::filesystem::path& directory) {
  const auto summaryPath = directory / "summary.json";
  nlohmann::json summary;
  try {
    summary = nlohmann::json::parse(core::readFile(summaryPath));
  } catch (const nlohmann::json::exception& e) {
    core::throwFileError(summaryPath, std::string("malformed JSON: ") + e.what());
  }

  MetricsReport report;
  std::size_t classes = 0;
  nlohmann::json files = nlohmann::json::object();
  try {
    report.examples = core::wholeField<std::int64_t>(summary, "examples");
    classes = core::wholeField<std::size_t>(summary, "num_classes");
    report.precisionAt1 = summary.at("precision_at_1").get<double>();
    report.recallAtK = summary.at("recall_at_k").get<double>();
    report.topK = core::wholeField<int>(summary, "top_k");
    report.meanLoss = summary.at("mean_loss").get<double>();
    if (summary.contains("files")) {
      files = summary.at("files");
    }
  } catch (const nlohmann::json::exception& e) {
    core::throwFileError(summaryPath, std::string("missing or malformed field: ") + e.what());
  }
  const auto fileOf = [&](const char* key, const char* fallback) {
    const auto it = files.find(key);
    return directory / (it != files.end() && it->is_string() ? it->get<std::string>() : fallback);
  };

  {
    const auto csv = readCsv(fileOf("categories", "categories.csv"));
    const auto rows = csv.expectColumns(
        {"class", "name", "support", "predicted", "true_positives", "precision", "recall"});
    if (rows != classes) {
      csv.fail(rows, "the file has " + std::to_string(rows) + " categories, summary.json says " +
                         std::to_string(classes));
    }
    for (std::size_t r = 0; r < rows; ++r) {
      if (csv.integer(r, 0) != static_cast<std::int64_t>(r)) {
        csv.fail(r + 1, "classes must be listed in order 0, 1, 2, ...");
      }
      CategoryMetrics category;
      category.name = csv.text(r, 1);
      category.support = csv.integer(r, 2);
      category.predicted = csv.integer(r, 3);
      category.truePositives = csv.integer(r, 4);
      category.precision = csv.number(r, 5);
      category.recall = csv.number(r, 6);
      report.categoryNames.push_back(category.name);
      report.categories.push_back(std::move(category));
    }
  }

  {
    const auto csv = readCsv(fileOf("levels", "levels.csv"));
    const auto rows = csv.expectColumns({"level", "examples", "correct", "accuracy"});
    for (std::size_t r = 0; r < rows; ++r) {
      report.levels.push_back(LevelAccuracy{static_cast<int>(csv.integer(r, 0)), csv.integer(r, 1),
                                            csv.integer(r, 2), csv.number(r, 3)});
    }
  }

  {
    const auto csv = readCsv(fileOf("confusion", "confusion.csv"));
    const auto rows =
        csv.expectColumns({"actual", "predicted", "count", "actual_name", "predicted_name"});
    for (std::size_t r = 0; r < rows; ++r) {
      report.confusion.push_back(
          ConfusionCell{csv.classId(r, 0, classes), csv.classId(r, 1, classes), csv.integer(r, 2)});
    }
  }

  {
    const auto csv = readCsv(fileOf("confused_pairs", "confused_pairs.csv"));
    const auto rows =
        csv.expectColumns({"a", "a_name", "b", "b_name", "a_as_b", "b_as_a", "total"});
    for (std::size_t r = 0; r < rows; ++r) {
      report.mostConfused.push_back(ConfusedPair{csv.classId(r, 0, classes),
                                                 csv.classId(r, 2, classes), csv.integer(r, 4),
                                                 csv.integer(r, 5)});
    }
  }

  {
    const auto csv = readCsv(fileOf("mislabeled", "mislabeled.csv"));
    const auto rows = csv.expectColumns({"key", "label", "label_name", "label_probability",
                                         "predicted", "predicted_name", "predicted_probability"});
    for (std::size_t r = 0; r < rows; ++r) {
      LikelyMislabeled row;
      row.key = csv.text(r, 0);
      row.label = csv.classId(r, 1, classes);
      row.labelProbability = csv.number(r, 3);
      row.predicted = csv.classId(r, 4, classes);
      row.predictedProbability = csv.number(r, 6);
      report.mislabeled.push_back(std::move(row));
    }
  }

  // Reports written before predictions.csv existed do not name it: no predictions then.
  if (files.contains("predictions")) {
    const auto csv = readCsv(fileOf("predictions", "predictions.csv"));
    const auto rows = csv.expectColumns(
        {"key", "label", "predicted", "label_probability", "predicted_probability"});
    report.predictions.reserve(rows);
    for (std::size_t r = 0; r < rows; ++r) {
      Prediction row;
      row.key = csv.text(r, 0);
      row.label = csv.classId(r, 1, classes);
      row.predicted = csv.classId(r, 2, classes);
      row.labelProbability = static_cast<float>(csv.number(r, 3));
      row.predictedProbability = static_cast<float>(csv.number(r, 4));
      report.predictions.push_back(std::move(row));
    }
  }
  return report;
}

}  // namespace taxon::eval
