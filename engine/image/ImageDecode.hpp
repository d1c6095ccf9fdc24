// Decoding image bytes (JPEG, PNG, BMP, TIFF, WebP: what OpenCV's imgcodecs reads) into 8-bit
// 3-channel pixels. Grayscale is replicated to three channels, alpha is dropped (as TensorFlow's
// decode_jpeg/decode_png with channels=3 and PIL's convert("RGB") do), 16-bit samples keep their
// high byte, CMYK JPEGs (plain and Adobe-inverted) are converted, and the EXIF orientation is
// applied (OpenCV 4.6's imdecode does this itself; the tests check it).
// JPEGs can be decoded at 1/2, 1/4 or 1/8 of their size straight from the DCT coefficients, which
// is several times faster than a full decode; readJpegHeader gives the size needed to choose the
// factor without decoding. All functions are thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include <opencv2/core/mat.hpp>

namespace taxon::image {

// Size of a JPEG as displayed, i.e. after its EXIF orientation (orientations 5 to 8 swap the
// stored width and height).
struct JpegHeader {
  int width = 0;        // pixels
  int height = 0;       // pixels
  int orientation = 1;  // EXIF orientation 1..8; 1 when absent
};

// Reads the SOF and EXIF markers of a JPEG; nothing when `bytes` is not a JPEG or its header is
// cut short. Reads at most the bytes before the first scan.
std::optional<JpegHeader> readJpegHeader(std::string_view bytes);

struct DecodeOptions {
  // 1, 2, 4 or 8: JPEGs are decoded at ceil(size / reduction) pixels per side. Other formats
  // ignore it (OpenCV would decode them at full size and then shrink them, which saves nothing).
  int reduction = 1;
  // true: OpenCV's native B, G, R channel order; false: R, G, B.
  bool bgr = false;
  // Images whose header claims more pixels are refused before anything is allocated, so that a
  // hostile record cannot make a decoder thread allocate gigabytes (ImageCheckLimits' default).
  std::int64_t maxPixels = 178'956'970;
};

// Decodes `bytes` into a new CV_8UC3 image. Throws core::Error "NAME: ..." when the bytes are not
// an image OpenCV can decode or claim more than options.maxPixels; `name` is the file name or
// record key shown to people.
cv::Mat decodeImage(std::string_view bytes, std::string_view name, DecodeOptions options = {});

// The largest reduction in {1, 2, 4, 8} that still leaves a `cropWidth` x `cropHeight` region of
// the full-size image at least `outWidth` x `outHeight` pixels, so that reducing never replaces
// a downscale by an upscale in either direction.
int chooseReduction(int cropWidth, int cropHeight, int outWidth, int outHeight);

}  // namespace taxon::image
