// A run's metrics.jsonl (train/MetricsLog: the app's charts read it while a run writes it):
// whatever the bytes, the lines that read are returned and the others reported.
#include "FuzzInput.hpp"
#include "train/MetricsLog.hpp"

using namespace taxon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::readAsFile("metrics.jsonl", data, size,
                   [](const auto& path) { train::readMetricsLog(path); });
  return 0;
}
