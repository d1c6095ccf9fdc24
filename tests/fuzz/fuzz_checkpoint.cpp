// Checkpoint files (checkpoint/Checkpoint): the trailer, the JSON index, the sections and the
// LibTorch archives inside them, read for a prediction and for a resume. (Fuzz builds accept a
// stored checksum of 0; see records/Crc32c.hpp.)
#include "FuzzInput.hpp"
#include "checkpoint/Checkpoint.hpp"
#include "core/Error.hpp"

using namespace taxon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fuzz::writeScratch("model.ckpt-1.taxon", fuzz::asText(data, size));
  for (const auto parts :
       {checkpoint::CheckpointParts::Inference, checkpoint::CheckpointParts::Everything}) {
    try {
      checkpoint::readCheckpoint(path, parts);
    } catch (const core::Error&) {
    }
  }
  return 0;
}
