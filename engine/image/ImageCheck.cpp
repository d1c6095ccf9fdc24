#include "image/ImageCheck.hpp"

#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <limits>
#include <opencv2/imgcodecs.hpp>

#include "core/Error.hpp"
#include "core/Files.hpp"

namespace taxon::image {

namespace {

std::uint32_t be16(const unsigned char* p) {
  return (p[0] << 8) | p[1];
}
std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}
std::uint32_t le16(const unsigned char* p) {
  return p[0] | (p[1] << 8);
}
std::uint32_t le32(const unsigned char* p) {
  return p[0] | (p[1] << 8) | (p[2] << 16) | (std::uint32_t{p[3]} << 24);
}

bool startsWith(std::string_view bytes, std::string_view magic) {
  return bytes.substr(0, magic.size()) == magic;
}

// Walks JPEG segments to the first start-of-frame marker.
void jpegSize(std::string_view bytes, ImageHeader& header) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t at = 2;
  while (at + 4 <= bytes.size()) {
    if (p[at] != 0xff) {
      return;
    }
    const unsigned marker = p[at + 1];
    if (marker == 0xff) {  // fill byte
      ++at;
      continue;
    }
    if (marker == 0xd8 || marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    const std::size_t length = be16(p + at + 2);
    const bool startOfFrame =
        marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
    if (startOfFrame) {
      if (at + 9 <= bytes.size()) {
        header.height = static_cast<int>(be16(p + at + 5));
        header.width = static_cast<int>(be16(p + at + 7));
      }
      return;
    }
    if (length < 2) {
      return;
    }
    at += 2 + length;
  }
}

void tiffSize(std::string_view bytes, ImageHeader& header) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const bool little = p[0] == 'I';
  auto u16 = [&](std::size_t at) { return little ? le16(p + at) : be16(p + at); };
  auto u32 = [&](std::size_t at) { return little ? le32(p + at) : be32(p + at); };
  if (bytes.size() < 8) {
    return;
  }
  const std::size_t ifd = u32(4);
  if (ifd + 2 > bytes.size()) {
    return;
  }
  const std::size_t entries = u16(ifd);
  bool seenWidth = false;
  bool seenHeight = false;
  for (std::size_t i = 0; i < entries; ++i) {
    const std::size_t e = ifd + 2 + 12 * i;
    if (e + 12 > bytes.size()) {
      return;
    }
    const auto tag = u16(e);
    const auto type = u16(e + 2);
    const std::uint32_t count = u32(e + 4);
    const std::uint32_t value = type == 3 ? u16(e + 8) : u32(e + 8);
    // A tag given twice counts once, the first time, as libtiff reads it (a later width of 1 made
    // a 2817 x 131081 image pass the pixel limit here; found by fuzz_image).
    if (tag == 256 && !seenWidth) {
      header.width = static_cast<int>(value);
      seenWidth = true;
    } else if (tag == 257 && !seenHeight) {
      header.height = static_cast<int>(value);
      seenHeight = true;
    } else if (tag == 258 && type == 3) {
      // BitsPerSample, one per channel: inline for up to two, else at an offset. OpenCV sizes its
      // buffers by it: only the depths it decodes are taken.
      for (std::uint32_t c = 0; c < std::min<std::uint32_t>(count, 8); ++c) {
        const std::size_t at = count <= 2 ? e + 8 + 2 * c : std::size_t{value} + 2 * c;
        const unsigned bits = at + 2 <= bytes.size() ? u16(at) : 0;
        if (bits != 1 && bits != 2 && bits != 4 && bits != 8 && bits != 16) {
          header.format = "TIFF with " + std::to_string(bits) + " bits per sample";
          header.supported = false;
          return;
        }
      }
    } else if (tag == 277 && (value == 0 || value > 4)) {  // SamplesPerPixel
      header.format = "TIFF with " + std::to_string(value) + " samples per pixel";
      header.supported = false;
      return;
    }
  }
}

// "P6\n640 480\n255\n" and friends, with comments.
void pnmSize(std::string_view bytes, ImageHeader& header) {
  std::size_t at = 2;
  int values[2] = {0, 0};
  for (int& value : values) {
    while (at < bytes.size()) {
      if (bytes[at] == '#') {
        while (at < bytes.size() && bytes[at] != '\n') {
          ++at;
        }
      } else if (std::isspace(static_cast<unsigned char>(bytes[at]))) {
        ++at;
      } else {
        break;
      }
    }
    long long parsed = 0;
    const std::size_t first = at;
    while (at < bytes.size() && std::isdigit(static_cast<unsigned char>(bytes[at]))) {
      parsed = parsed * 10 + (bytes[at++] - '0');
      if (parsed > (1LL << 31)) {
        return;
      }
    }
    // A number must end in whitespace: decoders differ on anything else ("555'5" is 555 to one
    // and 5555 to another; OpenCV takes the character after a number with it, so in
    // "766#773717\n1" the '#' starts no comment and the height is 773717, not 1), so such a
    // header's size is unreadable.
    if (at == first || at >= bytes.size() || !std::isspace(static_cast<unsigned char>(bytes[at]))) {
      return;
    }
    value = static_cast<int>(parsed);
  }
  header.width = values[0];
  header.height = values[1];
}

// True when the encoded data visibly ends early (a cut download): OpenCV's JPEG decoder fills
// missing data with grey and still succeeds, so the end marker is checked by hand.
bool looksTruncated(std::string_view bytes, const ImageHeader& header) {
  if (header.format == "JPEG") {
    // The EOI marker, possibly followed by a little padding.
    const std::size_t from = bytes.size() > 64 ? bytes.size() - 64 : 0;
    return bytes.find("\xff\xd9", from) == std::string_view::npos;
  }
  if (header.format == "PNG") {
    return bytes.size() < 12 || bytes.find("IEND", bytes.size() - 12) == std::string_view::npos;
  }
  return false;
}

}  // namespace

std::optional<ImageHeader> readImageHeader(std::string_view bytes) {
  ImageHeader header;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (startsWith(bytes, "\xff\xd8\xff")) {
    header.format = "JPEG";
    header.supported = true;
    jpegSize(bytes, header);
  } else if (startsWith(bytes, "\x89PNG\r\n\x1a\n")) {
    header.format = "PNG";
    header.supported = true;
    if (bytes.size() >= 24 && bytes.substr(12, 4) == "IHDR") {
      header.width = static_cast<int>(std::min<std::uint32_t>(be32(p + 16), 1u << 31));
      header.height = static_cast<int>(std::min<std::uint32_t>(be32(p + 20), 1u << 31));
    }
  } else if (startsWith(bytes, "BM") && bytes.size() >= 26) {
    header.format = "BMP";
    header.supported = true;
    header.width = static_cast<int>(le32(p + 18));
    // Negative: top-down rows. In 64 bits, so that -2^31 (found by taxon_fuzz_image) negates.
    const std::int64_t height = static_cast<std::int32_t>(le32(p + 22));
    header.height = static_cast<int>(
        std::min<std::int64_t>(height < 0 ? -height : height, std::numeric_limits<int>::max()));
  } else if (startsWith(bytes, "RIFF") && bytes.size() >= 30 && bytes.substr(8, 4) == "WEBP") {
    header.format = "WEBP";
    header.supported = true;
    const auto chunk = bytes.substr(12, 4);
    if (chunk == "VP8 " && bytes.size() >= 30) {
      header.width = static_cast<int>(le16(p + 26) & 0x3fff);
      header.height = static_cast<int>(le16(p + 28) & 0x3fff);
    } else if (chunk == "VP8L" && bytes.size() >= 25) {
      const std::uint32_t bits = le32(p + 21);
      header.width = static_cast<int>((bits & 0x3fff) + 1);
      header.height = static_cast<int>(((bits >> 14) & 0x3fff) + 1);
    } else if (chunk == "VP8X" && bytes.size() >= 30) {
      header.width = static_cast<int>((p[24] | (p[25] << 8) | (p[26] << 16)) + 1);
      header.height = static_cast<int>((p[27] | (p[28] << 8) | (p[29] << 16)) + 1);
    }
  } else if (startsWith(bytes, "II*\0") || startsWith(bytes, std::string_view("MM\0*", 4))) {
    header.format = "TIFF";
    header.supported = true;
    tiffSize(bytes, header);
  } else if (bytes.size() >= 3 && bytes[0] == 'P' && bytes[1] >= '1' && bytes[1] <= '6' &&
             std::isspace(static_cast<unsigned char>(bytes[2]))) {
    header.format = "PNM";
    header.supported = true;
    pnmSize(bytes, header);
  } else if (startsWith(bytes, "GIF87a") || startsWith(bytes, "GIF89a")) {
    header.format = "GIF";
    if (bytes.size() >= 10) {
      header.width = static_cast<int>(le16(p + 6));
      header.height = static_cast<int>(le16(p + 8));
    }
  } else if (bytes.size() >= 12 && bytes.substr(4, 4) == "ftyp" &&
             (bytes.substr(8, 4) == "heic" || bytes.substr(8, 4) == "heix" ||
              bytes.substr(8, 4) == "avif" || bytes.substr(8, 4) == "mif1")) {
    header.format = bytes.substr(8, 4) == "avif" ? "AVIF" : "HEIF";
  } else {
    return std::nullopt;
  }
  return header;
}

std::string contentHash(std::string_view bytes) {
  const XXH128_hash_t hash = XXH3_128bits(bytes.data(), bytes.size());
  char text[33];
  std::snprintf(text, sizeof text, "%016llx%016llx", static_cast<unsigned long long>(hash.high64),
                static_cast<unsigned long long>(hash.low64));
  return text;
}

CheckedImage checkImageBytes(std::string_view bytes, const ImageCheckLimits& limits) {
  CheckedImage result;
  result.bytes = static_cast<std::int64_t>(bytes.size());
  if (bytes.empty()) {
    result.reason = "empty file (0 bytes)";
    return result;
  }
  const auto header = readImageHeader(bytes);
  if (!header) {
    result.reason = "not an image (unrecognized content)";
    return result;
  }
  result.header = *header;
  if (!header->supported) {
    result.reason = "unsupported image format " + header->format;
    return result;
  }
  if (header->width <= 0 || header->height <= 0) {
    result.reason = "corrupt " + header->format + " header (no image size)";
    return result;
  }
  const auto pixels = static_cast<std::int64_t>(header->width) * header->height;
  if (pixels > limits.maxPixels || header->width > limits.maxSide ||
      header->height > limits.maxSide) {
    result.reason = "image too large: " + std::to_string(header->width) + "x" +
                    std::to_string(header->height) + " pixels (limit " +
                    std::to_string(limits.maxPixels) + " pixels, " +
                    std::to_string(limits.maxSide) + " per side)";
    return result;
  }
  if (looksTruncated(bytes, *header)) {
    result.reason = "truncated " + header->format + " data (the file ends early)";
    return result;
  }
  if (!limits.decode) {
    result.hash = contentHash(bytes);
    result.ok = true;
    return result;
  }
  // Decoding at 1/8 size still reads every compressed byte of a JPEG, at a fraction of the cost.
  const cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
  cv::Mat decoded;
  try {
    decoded = cv::imdecode(raw, cv::IMREAD_REDUCED_GRAYSCALE_8 | cv::IMREAD_IGNORE_ORIENTATION);
  } catch (const cv::Exception& e) {
    result.reason = "cannot be decoded as " + header->format + ": " + e.err;
    return result;
  }
  if (decoded.empty()) {
    result.reason = "cannot be decoded as " + header->format + " (corrupt data)";
    return result;
  }
  result.hash = contentHash(bytes);
  result.ok = true;
  return result;
}

CheckedImage checkImageFile(const std::filesystem::path& path, const ImageCheckLimits& limits) {
  try {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (!ec && size > (std::uint64_t{2} << 30)) {
      CheckedImage result;
      result.reason = "file too large for an image (" + std::to_string(size >> 20) + " MiB)";
      return result;
    }
    return checkImageBytes(core::readFile(path), limits);
  } catch (const core::Error& e) {
    CheckedImage result;
    const std::string message = e.what();
    const auto colon = message.find(": ");
    result.reason = colon == std::string::npos ? message : message.substr(colon + 2);
    return result;
  }
}

}  // namespace taxon::image
