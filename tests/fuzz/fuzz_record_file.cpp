// The TFRecord framing (records/RecordFile): a shard's bytes read strictly, then skipping damage
// with the forward search for the next header, then counted.
#include <string>

#include "FuzzInput.hpp"
#include "core/Error.hpp"
#include "records/RecordFile.hpp"

using namespace taxon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fuzz::writeScratch("shard.tfrecord", fuzz::asText(data, size));
  std::string payload;
  try {
    records::RecordReader strict(path);
    while (strict.next(payload)) {
    }
  } catch (const core::Error&) {
  }
  records::RecordReader::Options options;
  options.skipCorrupt = true;
  options.bufferBytes = 64;  // small, so records cross buffer refills
  std::int64_t damaged = 0;
  options.onDamage = [&](const records::RecordDamage&) { ++damaged; };
  records::RecordReader lenient(path, options);
  std::int64_t offset = 0;
  while (lenient.next(payload)) {
    if (lenient.offset() <= offset) {
      __builtin_trap();  // every record read moves forward
    }
    offset = lenient.offset();
  }
  if (damaged != lenient.damagedRecords()) {
    __builtin_trap();
  }
  try {
    records::countRecords(path, true);
  } catch (const core::Error&) {
  }
  return 0;
}
