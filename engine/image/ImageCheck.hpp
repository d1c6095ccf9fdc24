// Checks an image file before it enters a project: reads the header to learn the format and
// size without decoding (so a decompression bomb is refused before it allocates anything),
// then decodes it at reduced size to prove the data is whole. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace taxon::image {

struct ImageHeader {
  std::string format;  // "JPEG", "PNG", "BMP", "WEBP", "TIFF", "PNM"; or an unsupported one: "GIF"
  int width = 0;
  int height = 0;
  bool supported = false;  // OpenCV can decode this format
};

// Parses the header of encoded image bytes. Empty when the bytes are not a known image format;
// width/height stay 0 when the header is too damaged to read them.
std::optional<ImageHeader> readImageHeader(std::string_view bytes);

struct ImageCheckLimits {
  std::int64_t maxPixels = 178'956'970;  // 2^31 / 12: larger images are refused (and PIL's limit)
  int maxSide = 65'500;                  // JPEG's own limit
  // true: decode at 1/8 size to prove the compressed data is whole (about 1 ms per photo).
  // false: header, size and end-marker checks only, at the speed of reading the file.
  bool decode = true;
};

struct CheckedImage {
  bool ok = false;
  std::string reason;  // why not, for the import report: "empty file (0 bytes)", ...
  ImageHeader header;
  std::int64_t bytes = 0;
  std::string hash;  // XXH3-128 of the file's bytes, 32 hex digits
};

// Checks encoded bytes (`name` is only used in messages).
CheckedImage checkImageBytes(std::string_view bytes, const ImageCheckLimits& limits = {});
// Reads and checks a file; I/O errors become a reason, never an exception.
CheckedImage checkImageFile(const std::filesystem::path& path, const ImageCheckLimits& limits = {});

// XXH3-128 of the bytes as 32 hex digits.
std::string contentHash(std::string_view bytes);

}  // namespace taxon::image
