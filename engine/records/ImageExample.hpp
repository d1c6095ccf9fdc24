// One image as a tf.train.Example with the feature keys of TensorFlow's build_image_data.py:
//   image/encoded (bytes), image/format ("JPEG", "PNG"), image/filename (bytes),
//   image/class/label (int64; the seed starts at 1 and keeps 0 for background),
//   image/class/text (bytes; our categories are " > "-joined paths),
//   image/height, image/width, image/channels (int64), image/colorspace (bytes, "RGB").
// The protobuf types stay inside the .cpp so that callers need no generated headers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace taxon::records {

struct ImageExample {
  std::string encoded;  // the image file's bytes
  std::string format = "JPEG";
  std::string filename;
  std::int64_t label = 0;
  std::string text;
  std::int64_t height = 0;
  std::int64_t width = 0;
  std::int64_t channels = 3;
  std::string colorspace = "RGB";
};

// Serializes to tf.train.Example wire bytes.
std::string encodeExample(const ImageExample& example);

// Parses tf.train.Example bytes. Throws core::Error when the bytes are not an Example or carry
// no image/encoded; missing optional features are left at their defaults (label -1 if absent).
ImageExample decodeExample(std::string_view bytes);

}  // namespace taxon::records
