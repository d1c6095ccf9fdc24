// A duplicates report (similar/Duplicates.hpp's readDuplicateGroups: the Inspect page's
// Duplicates tab reads duplicates.csv from a report folder, also one copied from elsewhere).
// Input: the file's bytes.
#include "FuzzInput.hpp"
#include "core/Error.hpp"
#include "similar/Duplicates.hpp"

using namespace taxon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = fuzz::writeScratch("duplicates.csv", fuzz::asText(data, size));
  try {
    for (const auto& group : similar::readDuplicateGroups(file)) {
      if (group.members.empty()) {
        __builtin_trap();  // every group read has its rows
      }
    }
  } catch (const core::Error&) {
  }
  return 0;
}
