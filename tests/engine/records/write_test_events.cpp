// Writes known scalars with EventFileWriter for read_events.py, which reads them back with
// TensorBoard's own reader: taxon_write_test_events DIRECTORY
//
// Prints one JSON object a line on stdout: {"file": PATH}, then one {"tag", "step", "value",
// "wall_time"} per scalar written ("value" as text with 17 digits, so that nan and inf survive;
// "wall_time" null where the writer chose it), {"flushed": true} once the first part is flushed.
// It then waits for a line on stdin (so that the reader can look at the file while it is open
// and growing), writes the second part, closes the file and prints {"closed": true, "events": N}.
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/Error.hpp"
#include "records/EventFile.hpp"

namespace {

using taxon::records::EventFileWriter;

void report(const nlohmann::json& line) {
  std::cout << line.dump() << std::endl;
}

std::string text(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

void reportScalar(const std::string& tag, std::int64_t step, double value,
                  std::optional<double> wallTime) {
  report({{"tag", tag},
          {"step", step},
          {"value", text(value)},
          {"wall_time", wallTime ? nlohmann::json(*wallTime) : nlohmann::json(nullptr)}});
}

void scalar(EventFileWriter& writer, const std::string& tag, std::int64_t step, double value,
            std::optional<double> wallTime = {}) {
  writer.addScalar(tag, step, value, wallTime);
  reportScalar(tag, step, value, wallTime);
}

void scalars(EventFileWriter& writer, std::int64_t step,
             const std::vector<std::pair<std::string, double>>& values,
             std::optional<double> wallTime = {}) {
  writer.addScalars(step, values, wallTime);
  for (const auto& [tag, value] : values) {
    reportScalar(tag, step, value, wallTime);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " DIRECTORY\n";
    return 2;
  }
  try {
    EventFileWriter writer(argv[1]);
    report({{"file", writer.path().string()}});

    // Part one: explicit wall times, float32 rounding, special values, a large step.
    scalar(writer, "loss/train", 0, 2.302585092994046, 1700000000.125);
    scalar(writer, "loss/train", 1, 0.1, 1700000001.5);
    scalars(writer, 1, {{"accuracy/top1", 0.3333333333333333}, {"learning_rate", 0.045}},
            1700000001.75);
    scalar(writer, "loss/train", std::int64_t{1} << 40, 1e-7, 1700000002.0);
    scalar(writer, "special/nan", 2, std::numeric_limits<double>::quiet_NaN(), 1700000003.0);
    scalar(writer, "special/inf", 2, std::numeric_limits<double>::infinity(), 1700000003.0);
    scalar(writer, "special/overflow", 2, -1e300, 1700000003.0);
    scalar(writer, "r\xc3\xa9sum\xc3\xa9/caf\xc3\xa9 ratio", 3, -42.5, 1700000004.0);
    writer.flush();
    report({{"flushed", true}});

    std::string line;
    std::getline(std::cin, line);

    // Part two: wall times chosen by the writer, and many steps.
    for (std::int64_t step = 100; step < 1600; ++step) {
      const double x = static_cast<double>(step);
      scalars(writer, step, {{"curve/loss", 1.0 / x}, {"curve/accuracy", 1.0 - 1.0 / x}});
    }
    scalar(writer, "learning_rate", 1600, 0.0405);
    writer.close();
    report({{"closed", true}, {"events", writer.events()}});
  } catch (const taxon::core::Error& e) {
    std::cerr << "taxon_write_test_events: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
