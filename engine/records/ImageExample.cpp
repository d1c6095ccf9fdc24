#include "records/ImageExample.hpp"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/stubs/logging.h>

#include "core/Error.hpp"
#include "example.pb.h"

namespace taxon::records {

namespace {

void putBytes(tensorflow::Features& features, const char* key, const std::string& value) {
  (*features.mutable_feature())[key].mutable_bytes_list()->add_value(value);
}

void putInt64(tensorflow::Features& features, const char* key, std::int64_t value) {
  (*features.mutable_feature())[key].mutable_int64_list()->add_value(value);
}

const std::string* getBytes(const tensorflow::Features& features, const char* key) {
  const auto it = features.feature().find(key);
  if (it == features.feature().end() || !it->second.has_bytes_list() ||
      it->second.bytes_list().value_size() == 0) {
    return nullptr;
  }
  return &it->second.bytes_list().value(0);
}

std::int64_t getInt64(const tensorflow::Features& features, const char* key,
                      std::int64_t fallback) {
  const auto it = features.feature().find(key);
  if (it == features.feature().end() || !it->second.has_int64_list() ||
      it->second.int64_list().value_size() == 0) {
    return fallback;
  }
  return it->second.int64_list().value(0);
}

}  // namespace

std::string encodeExample(const ImageExample& example) {
  tensorflow::Example proto;
  auto& features = *proto.mutable_features();
  putInt64(features, "image/height", example.height);
  putInt64(features, "image/width", example.width);
  putBytes(features, "image/colorspace", example.colorspace);
  putInt64(features, "image/channels", example.channels);
  putInt64(features, "image/class/label", example.label);
  putBytes(features, "image/class/text", example.text);
  putBytes(features, "image/format", example.format);
  putBytes(features, "image/filename", example.filename);
  putBytes(features, "image/encoded", example.encoded);
  // Deterministic: protobuf otherwise writes the feature map in an order it randomizes, so the
  // same image would give other bytes each time and two builds of the same records other files.
  std::string bytes;
  bool written = false;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    written = proto.SerializeToCodedStream(&coded) && !coded.HadError();
  }
  if (!written) {
    throw core::Error("cannot serialize the tf.train.Example of " + example.filename);
  }
  return bytes;
}

ImageExample decodeExample(std::string_view bytes) {
  tensorflow::Example proto;
  // A damaged record (a feature name that is not UTF-8) would otherwise print protobuf's own
  // error line for every such record; the caller reports it once, naming the record.
  const google::protobuf::LogSilencer quiet;
  if (!proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    throw core::Error("record is not a tf.train.Example");
  }
  const auto& features = proto.features();
  ImageExample example;
  const std::string* encoded = getBytes(features, "image/encoded");
  if (encoded == nullptr) {
    throw core::Error("tf.train.Example has no image/encoded feature");
  }
  example.encoded = *encoded;
  if (const auto* v = getBytes(features, "image/format")) {
    example.format = *v;
  }
  if (const auto* v = getBytes(features, "image/filename")) {
    example.filename = *v;
  }
  if (const auto* v = getBytes(features, "image/class/text")) {
    example.text = *v;
  }
  if (const auto* v = getBytes(features, "image/colorspace")) {
    example.colorspace = *v;
  }
  example.label = getInt64(features, "image/class/label", -1);
  example.height = getInt64(features, "image/height", 0);
  example.width = getInt64(features, "image/width", 0);
  example.channels = getInt64(features, "image/channels", 3);
  return example;
}

}  // namespace taxon::records
