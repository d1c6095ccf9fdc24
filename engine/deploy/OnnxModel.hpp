// An ONNX model as Taxon writes it, described with plain C++ values (no protobuf, no tensors), so
// that the torch side can build one without seeing protobuf's headers. serializeOnnx turns it into
// ONNX's ModelProto bytes with Debian's libonnx, after ONNX's checker and strict shape inference
// have accepted it; writeOnnx writes those bytes atomically.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace taxon::deploy {

// The operator set every exported model imports (ai.onnx, the default domain).
inline constexpr std::int64_t kOnnxOpset = 17;

// ONNX's element types that Taxon writes (TensorProto.DataType numbers).
enum class ElementType : int { Float32 = 1, Uint8 = 2, Int8 = 3, Int32 = 6, Int64 = 7 };

// A constant tensor of the graph (an initializer): its values as little-endian bytes.
struct OnnxConstant {
  std::string name;
  ElementType type = ElementType::Float32;
  std::vector<std::int64_t> dims;  // empty: a scalar
  std::string bytes;
};

OnnxConstant floatConstant(std::string name, std::vector<std::int64_t> dims,
                           const std::vector<float>& values);
OnnxConstant int8Constant(std::string name, std::vector<std::int64_t> dims,
                          const std::vector<std::int8_t>& values);
OnnxConstant uint8Constant(std::string name, std::vector<std::int64_t> dims,
                           const std::vector<std::uint8_t>& values);
OnnxConstant int32Constant(std::string name, std::vector<std::int64_t> dims,
                           const std::vector<std::int32_t>& values);
// A float32 constant's values. Throws core::Error for another type.
std::vector<float> floatValues(const OnnxConstant& constant);

struct OnnxAttribute {
  std::string name;
  std::variant<std::int64_t, float, std::string, std::vector<std::int64_t>> value;
};

struct OnnxNode {
  std::string op;  // "Conv", "Relu", ...
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::vector<OnnxAttribute> attributes;
  std::string name;  // empty: named after its first output
};

// A float graph input or output. A dimension below zero is the symbolic batch size ("batch").
struct OnnxValue {
  std::string name;
  std::vector<std::int64_t> dims;
  std::string doc;
};

struct OnnxModel {
  std::string graphName;
  std::string doc;
  std::string producerVersion;
  std::vector<OnnxValue> inputs;
  std::vector<OnnxValue> outputs;
  std::vector<OnnxNode> nodes;
  std::vector<OnnxConstant> constants;
  std::vector<std::pair<std::string, std::string>> metadata;  // metadata_props, in this order
};

// ModelProto bytes (IR version 8, opset kOnnxOpset). Throws core::Error with the checker's or the
// shape inference's message when ONNX does not accept the model.
std::string serializeOnnx(const OnnxModel& model);

// serializeOnnx, then the bytes to `path` through a temporary file and a rename: a failed export
// leaves no file behind and an existing one untouched. Throws core::Error naming the file.
// Returns the number of bytes written.
std::uintmax_t writeOnnx(const OnnxModel& model, const std::filesystem::path& path);

// What a written model says about itself: for `taxon info` and the tests.
struct OnnxSummary {
  std::int64_t irVersion = 0;
  std::int64_t opset = 0;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::vector<std::pair<std::string, std::int64_t>> opCounts;  // op type -> nodes, sorted by type
  std::vector<std::pair<std::string, std::string>> metadata;
};

// Reads and checks an ONNX file. Throws core::Error naming the file when it is not a valid model.
OnnxSummary readOnnxSummary(const std::filesystem::path& path);

}  // namespace taxon::deploy
