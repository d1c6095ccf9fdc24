// A run's metrics.jsonl (train/MetricsLog: the app's charts read it while a run writes it):
// whatever the bytes, the lines that read are returned and the others reported.
#include "FuzzInput.hpp"
#include "core/Error.hpp"
#include "train/MetricsLog.hpp"

using namespace taxon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fuzz::writeScratch("metrics.jsonl", fuzz::asText(data, size));
  try {
    train::readMetricsLog(path);
  } catch (const core::Error&) {
  }
  return 0;
}
