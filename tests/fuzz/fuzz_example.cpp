// tf.train.Example wire bytes (records/ImageExample): parsed, and what parses is written again
// and must parse to the same example.
#include "FuzzInput.hpp"
#include "core/Error.hpp"
#include "records/ImageExample.hpp"

using namespace taxon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  records::ImageExample example;
  try {
    example = records::decodeExample(fuzz::asText(data, size));
  } catch (const core::Error&) {
    return 0;
  }
  const auto again = records::decodeExample(records::encodeExample(example));
  if (again.encoded != example.encoded || again.label != example.label ||
      again.text != example.text || again.filename != example.filename) {
    __builtin_trap();
  }
  return 0;
}
