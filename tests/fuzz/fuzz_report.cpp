// An evaluation report folder (eval/ReportReader: the Inspect page opens reports, also ones copied
// from elsewhere). Input: summary.json, then categories.csv, levels.csv, confusion.csv,
// confused_pairs.csv, mislabeled.csv and predictions.csv (FuzzInput.hpp's separator); an empty
// part is a missing file.
#include <filesystem>

#include "FuzzInput.hpp"
#include "core/Error.hpp"
#include "eval/ReportReader.hpp"

using namespace taxon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto dir =
      fuzz::writeFolder("report",
                        {"summary.json", "categories.csv", "levels.csv", "confusion.csv",
                         "confused_pairs.csv", "mislabeled.csv", "predictions.csv"},
                        fuzz::asText(data, size));
  try {
    eval::readReport(dir);
  } catch (const core::Error&) {
  }
  return 0;
}
