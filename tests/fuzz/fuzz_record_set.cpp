// A records folder's labels.txt and manifest.json (records/RecordSet), as training, evaluation
// and classification open it. Input: labels.txt, then manifest.json (FuzzInput.hpp's separator).
#include <filesystem>

#include "FuzzInput.hpp"
#include "core/Error.hpp"
#include "records/RecordSet.hpp"

using namespace taxon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parts = fuzz::splitParts(fuzz::asText(data, size), 2);
  const auto dir = fuzz::scratchDir() / "records";
  std::filesystem::remove_all(dir);
  fuzz::writeScratch("records/labels.txt", parts[0]);
  if (!parts[1].empty()) {
    fuzz::writeScratch("records/manifest.json", parts[1]);
  }
  fuzz::writeScratch("records/train-00000-of-00001", "");
  try {
    records::openRecordSet(dir);
  } catch (const core::Error&) {
  }
  return 0;
}
