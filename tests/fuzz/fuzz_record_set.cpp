// A records folder's labels.txt and manifest.json (records/RecordSet), as training, evaluation
// and classification open it. Input: labels.txt, then manifest.json (FuzzInput.hpp's separator;
// an empty part is a missing file).
#include <filesystem>

#include "FuzzInput.hpp"
#include "core/Error.hpp"
#include "records/RecordSet.hpp"

using namespace taxon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto dir =
      fuzz::writeFolder("records", {"labels.txt", "manifest.json"}, fuzz::asText(data, size));
  fuzz::writeScratch("records/train-00000-of-00001", "");
  try {
    records::openRecordSet(dir);
  } catch (const core::Error&) {
  }
  return 0;
}
