#include "image/ImageDecode.hpp"

#include <cstdint>
#include <string>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/Error.hpp"
#include "image/ImageCheck.hpp"

namespace taxon::image {

namespace {

std::uint32_t readUnsigned(const unsigned char* p, int bytes, bool bigEndian) {
  std::uint32_t value = 0;
  for (int i = 0; i < bytes; ++i) {
    const int index = bigEndian ? i : bytes - 1 - i;
    value = (value << 8) | p[index];
  }
  return value;
}

// The orientation tag (0x0112) of IFD0 in an APP1 "Exif\0\0" payload; 1 when absent or invalid.
int exifOrientation(const unsigned char* data, std::size_t size) {
  if (size < 14 ||
      std::string_view(reinterpret_cast<const char*>(data), 6) != std::string_view("Exif\0\0", 6)) {
    return 1;
  }
  const unsigned char* tiff = data + 6;
  const std::size_t tiffSize = size - 6;
  bool bigEndian = false;
  if (tiff[0] == 'M' && tiff[1] == 'M') {
    bigEndian = true;
  } else if (!(tiff[0] == 'I' && tiff[1] == 'I')) {
    return 1;
  }
  const std::size_t ifd = readUnsigned(tiff + 4, 4, bigEndian);
  if (ifd + 2 > tiffSize) {
    return 1;
  }
  const std::uint32_t entries = readUnsigned(tiff + ifd, 2, bigEndian);
  for (std::uint32_t i = 0; i < entries; ++i) {
    const std::size_t entry = ifd + 2 + 12 * static_cast<std::size_t>(i);
    if (entry + 12 > tiffSize) {
      return 1;
    }
    if (readUnsigned(tiff + entry, 2, bigEndian) == 0x0112) {
      const std::uint32_t value = readUnsigned(tiff + entry + 8, 2, bigEndian);
      return value >= 1 && value <= 8 ? static_cast<int>(value) : 1;
    }
  }
  return 1;
}

bool isStartOfFrame(unsigned marker) {
  // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
  return marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
}

}  // namespace

std::optional<JpegHeader> readJpegHeader(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t size = bytes.size();
  if (size < 4 || p[0] != 0xff || p[1] != 0xd8) {
    return std::nullopt;
  }
  int orientation = 1;
  std::size_t pos = 2;
  while (pos + 4 <= size) {
    if (p[pos] != 0xff) {
      return std::nullopt;
    }
    const unsigned marker = p[pos + 1];
    if (marker == 0xff) {  // fill byte
      ++pos;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {  // no length field
      pos += 2;
      continue;
    }
    if (marker == 0xd9 || marker == 0xda) {  // end of image or start of scan before any frame
      return std::nullopt;
    }
    const std::size_t length = readUnsigned(p + pos + 2, 2, true);
    if (length < 2 || pos + 2 + length > size) {
      return std::nullopt;
    }
    const unsigned char* payload = p + pos + 4;
    const std::size_t payloadSize = length - 2;
    if (marker == 0xe1) {
      const int found = exifOrientation(payload, payloadSize);
      if (found != 1) {
        orientation = found;
      }
    } else if (isStartOfFrame(marker)) {
      if (payloadSize < 5) {
        return std::nullopt;
      }
      JpegHeader header;
      header.height = static_cast<int>(readUnsigned(payload + 1, 2, true));
      header.width = static_cast<int>(readUnsigned(payload + 3, 2, true));
      header.orientation = orientation;
      if (header.width <= 0 || header.height <= 0) {
        return std::nullopt;
      }
      if (orientation >= 5) {
        std::swap(header.width, header.height);
      }
      return header;
    }
    pos += 2 + length;
  }
  return std::nullopt;
}

cv::Mat decodeImage(std::string_view bytes, std::string_view name, DecodeOptions options) {
  if (bytes.empty()) {
    throw core::Error(std::string(name) + ": the image is empty (0 bytes)");
  }
  // Only the formats we read reach OpenCV: imdecode would otherwise hand unknown bytes to any
  // decoder it was built with (Debian's OpenCV has GDAL, which reads dozens of formats and first
  // writes the bytes to a file in /tmp).
  const auto header = readImageHeader(bytes);
  if (!header || !header->supported) {
    throw core::Error(std::string(name) + ": cannot decode the image (" +
                      std::to_string(bytes.size()) + " bytes): " +
                      (header ? header->format + " is not a format Taxon reads"
                              : std::string("not a JPEG, PNG, BMP, TIFF or WebP file")));
  }
  if (header->width <= 0 || header->height <= 0) {
    throw core::Error(std::string(name) + ": cannot decode the image (" +
                      std::to_string(bytes.size()) + " bytes): its " + header->format +
                      " header is damaged (no readable size)");
  }
  if (std::int64_t{header->width} * header->height > options.maxPixels) {
    throw core::Error(std::string(name) + ": the image claims " + std::to_string(header->width) +
                      " x " + std::to_string(header->height) + " pixels, more than the " +
                      std::to_string(options.maxPixels) + " allowed");
  }
  int flags = cv::IMREAD_COLOR;
  if (options.reduction > 1 && header->format == "JPEG") {  // its size was read above
    flags = options.reduction >= 8   ? cv::IMREAD_REDUCED_COLOR_8
            : options.reduction >= 4 ? cv::IMREAD_REDUCED_COLOR_4
                                     : cv::IMREAD_REDUCED_COLOR_2;
  }
  // imdecode only reads its input; the header wraps the bytes without copying them.
  const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
  cv::Mat image;
  try {
    image = cv::imdecode(buffer, flags);
  } catch (const cv::Exception& e) {
    throw core::Error(std::string(name) + ": cannot decode the image (" +
                      std::to_string(bytes.size()) + " bytes): " + e.err);
  }
  if (image.empty()) {
    throw core::Error(std::string(name) + ": cannot decode the image (" +
                      std::to_string(bytes.size()) +
                      " bytes): not a JPEG, PNG, BMP, TIFF or WebP file, or damaged");
  }
  if (image.type() != CV_8UC3) {  // IMREAD_COLOR always gives CV_8UC3; be safe anyway
    throw core::Error(std::string(name) + ": the decoder returned an unexpected pixel type");
  }
  if (!options.bgr) {
    cv::cvtColor(image, image, cv::COLOR_BGR2RGB);
  }
  return image;
}

int chooseReduction(int cropWidth, int cropHeight, int outWidth, int outHeight) {
  for (int reduction : {8, 4, 2}) {
    if (cropWidth >= outWidth * reduction && cropHeight >= outHeight * reduction) {
      return reduction;
    }
  }
  return 1;
}

}  // namespace taxon::image
