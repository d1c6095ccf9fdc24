// Image bytes from outside (image/ImageCheck, image/ImageDecode): the header sniffing, the import's
// check (which must refuse a header claiming more pixels than its limit before decoding), the
// JPEG header reader, and the decoder at reduced and full size, which shards' records reach
// without the import's check and which has its own pixel limit.
#include <opencv2/core.hpp>

#include "FuzzInput.hpp"
#include "core/Error.hpp"
#include "image/ImageCheck.hpp"
#include "image/ImageDecode.hpp"

using namespace taxon;

namespace {
constexpr std::int64_t kMaxPixels = 4'000'000;  // what the fuzzer may make a decoder allocate
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = fuzz::asText(data, size);
  image::readImageHeader(bytes);
  image::readJpegHeader(bytes);
  image::ImageCheckLimits limits;
  limits.maxPixels = kMaxPixels;
  const auto checked = image::checkImageBytes(bytes, limits);
  if (checked.ok &&
      static_cast<std::int64_t>(checked.header.width) * checked.header.height > kMaxPixels) {
    __builtin_trap();  // accepted above the limit
  }
  for (const int reduction : {8, 1}) {
    try {
      const cv::Mat pixels =
          image::decodeImage(bytes, "fuzz", {.reduction = reduction, .maxPixels = kMaxPixels});
      if (pixels.type() != CV_8UC3) {
        __builtin_trap();
      }
    } catch (const core::Error&) {
    }
  }
  return 0;
}
