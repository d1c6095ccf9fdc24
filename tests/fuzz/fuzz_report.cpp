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
  static const char* const kFiles[] = {"summary.json",   "categories.csv",     "levels.csv",
                                       "confusion.csv",  "confused_pairs.csv", "mislabeled.csv",
                                       "predictions.csv"};
  const auto parts = fuzz::splitParts(fuzz::asText(data, size), std::size(kFiles));
  const auto dir = fuzz::scratchDir() / "report";
  std::filesystem::remove_all(dir);
  for (std::size_t i = 0; i < std::size(kFiles); ++i) {
    if (parts[i].empty()) {
      continue;
    }
    fuzz::writeScratch(std::filesystem::path("report") / kFiles[i], parts[i]);
  }
  try {
    eval::readReport(dir);
  } catch (const core::Error&) {
  }
  return 0;
}
