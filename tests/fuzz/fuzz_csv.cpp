// CSV manifests (core/Csv, project/import's CSV source): the RFC 4180 parser on its own, and a
// manifest file through the import's shape check and row reader.
#include "FuzzInput.hpp"
#include "core/Csv.hpp"
#include "core/Error.hpp"
#include "project/import/ImportSources.hpp"

using namespace taxon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::asText(data, size);
  try {
    core::parseCsv(text, "fuzz.csv");
  } catch (const core::Error&) {
  }
  core::splitCsvLine(text.substr(0, text.find('\n')));
  const auto file = fuzz::writeScratch("manifest.csv", text);
  try {
    project::importer::checkCsvShape(file);
    project::importer::Collected collected;
    project::importer::CsvListings listings;
    project::importer::collectCsv(file, collected, listings);
  } catch (const core::Error&) {
  }
  return 0;
}
