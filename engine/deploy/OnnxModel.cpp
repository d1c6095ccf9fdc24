#include "deploy/OnnxModel.hpp"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <map>

#include "core/Error.hpp"
#include "core/Files.hpp"

namespace taxon::deploy {

namespace fs = std::filesystem;

namespace {

template <typename T>
std::string bytesOf(const std::vector<T>& values) {
  std::string out(values.size() * sizeof(T), '\0');
  if (!values.empty()) {
    std::memcpy(out.data(), values.data(), out.size());  // x86-64 and aarch64: little-endian
  }
  return out;
}

std::int64_t elementCount(const std::vector<std::int64_t>& dims) {
  std::int64_t n = 1;
  for (auto d : dims) {
    n *= d;
  }
  return n;
}

std::size_t elementSize(ElementType type) {
  switch (type) {
    case ElementType::Float32:
    case ElementType::Int32:
      return 4;
    case ElementType::Int8:
    case ElementType::Uint8:
      return 1;
    case ElementType::Int64:
      return 8;
  }
  return 0;
}

void setAttribute(onnx::AttributeProto& a, const OnnxAttribute& attribute) {
  a.set_name(attribute.name);
  if (const auto* i = std::get_if<std::int64_t>(&attribute.value)) {
    a.set_type(onnx::AttributeProto::INT);
    a.set_i(*i);
  } else if (const auto* f = std::get_if<float>(&attribute.value)) {
    a.set_type(onnx::AttributeProto::FLOAT);
    a.set_f(*f);
  } else if (const auto* s = std::get_if<std::string>(&attribute.value)) {
    a.set_type(onnx::AttributeProto::STRING);
    a.set_s(*s);
  } else {
    a.set_type(onnx::AttributeProto::INTS);
    for (auto v : std::get<std::vector<std::int64_t>>(attribute.value)) {
      a.add_ints(v);
    }
  }
}

void setValue(onnx::ValueInfoProto& v, const OnnxValue& value) {
  v.set_name(value.name);
  if (!value.doc.empty()) {
    v.set_doc_string(value.doc);
  }
  auto* tensor = v.mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = tensor->mutable_shape();
  for (auto d : value.dims) {
    auto* dim = shape->add_dim();
    if (d < 0) {
      dim->set_dim_param("batch");
    } else {
      dim->set_dim_value(d);
    }
  }
}

void setConstant(onnx::TensorProto& t, const OnnxConstant& constant) {
  const auto expected =
      static_cast<std::size_t>(elementCount(constant.dims)) * elementSize(constant.type);
  if (constant.bytes.size() != expected) {
    throw core::Error("ONNX constant '" + constant.name + "' has " +
                      std::to_string(constant.bytes.size()) + " bytes for " +
                      std::to_string(expected) + " expected");
  }
  t.set_name(constant.name);
  t.set_data_type(static_cast<int>(constant.type));
  for (auto d : constant.dims) {
    t.add_dims(d);
  }
  t.set_raw_data(constant.bytes);
}

onnx::ModelProto toProto(const OnnxModel& model) {
  onnx::ModelProto proto;
  proto.set_ir_version(onnx::IR_VERSION);
  proto.set_producer_name("Taxon");
  proto.set_producer_version(model.producerVersion);
  proto.set_doc_string(model.doc);
  auto* opset = proto.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxOpset);
  for (const auto& [key, value] : model.metadata) {
    auto* entry = proto.add_metadata_props();
    entry->set_key(key);
    entry->set_value(value);
  }
  auto* graph = proto.mutable_graph();
  graph->set_name(model.graphName);
  for (const auto& value : model.inputs) {
    setValue(*graph->add_input(), value);
  }
  for (const auto& value : model.outputs) {
    setValue(*graph->add_output(), value);
  }
  for (const auto& constant : model.constants) {
    setConstant(*graph->add_initializer(), constant);
  }
  for (const auto& node : model.nodes) {
    auto* n = graph->add_node();
    n->set_op_type(node.op);
    n->set_name(node.name.empty() && !node.outputs.empty() ? node.outputs.front() : node.name);
    for (const auto& input : node.inputs) {
      n->add_input(input);
    }
    for (const auto& output : node.outputs) {
      n->add_output(output);
    }
    for (const auto& attribute : node.attributes) {
      setAttribute(*n->add_attribute(), attribute);
    }
  }
  return proto;
}

// ONNX's checker, then shape inference that fails on any node it cannot type.
void check(onnx::ModelProto& proto) {
  onnx::checker::check_model(proto);
  onnx::shape_inference::InferShapes(proto, onnx::OpSchemaRegistry::Instance(),
                                     onnx::ShapeInferenceOptions(/*check_type=*/true,
                                                                 /*strict_mode=*/1));
}

}  // namespace

OnnxConstant floatConstant(std::string name, std::vector<std::int64_t> dims,
                           const std::vector<float>& values) {
  return {std::move(name), ElementType::Float32, std::move(dims), bytesOf(values)};
}

OnnxConstant int8Constant(std::string name, std::vector<std::int64_t> dims,
                          const std::vector<std::int8_t>& values) {
  return {std::move(name), ElementType::Int8, std::move(dims), bytesOf(values)};
}

OnnxConstant uint8Constant(std::string name, std::vector<std::int64_t> dims,
                           const std::vector<std::uint8_t>& values) {
  return {std::move(name), ElementType::Uint8, std::move(dims), bytesOf(values)};
}

OnnxConstant int32Constant(std::string name, std::vector<std::int64_t> dims,
                           const std::vector<std::int32_t>& values) {
  return {std::move(name), ElementType::Int32, std::move(dims), bytesOf(values)};
}

std::vector<float> floatValues(const OnnxConstant& constant) {
  if (constant.type != ElementType::Float32 || constant.bytes.size() % sizeof(float) != 0) {
    throw core::Error("ONNX constant '" + constant.name + "' is not float32");
  }
  std::vector<float> out(constant.bytes.size() / sizeof(float));
  std::memcpy(out.data(), constant.bytes.data(), constant.bytes.size());
  return out;
}

std::string serializeOnnx(const OnnxModel& model) {
  auto proto = toProto(model);
  try {
    check(proto);
  } catch (const std::exception& e) {
    throw core::Error(std::string("ONNX does not accept the exported model: ") + e.what());
  }
  std::string bytes;
  if (!proto.SerializeToString(&bytes)) {
    throw core::Error("the ONNX model could not be serialized (over 2 GB?)");
  }
  return bytes;
}

std::uintmax_t writeOnnx(const OnnxModel& model, const fs::path& path) {
  const auto bytes = serializeOnnx(model);
  core::writeFileAtomic(path, bytes);
  return bytes.size();
}

OnnxSummary readOnnxSummary(const fs::path& path) {
  const auto bytes = core::readFile(path);
  onnx::ModelProto proto;
  if (!proto.ParseFromString(bytes)) {
    core::throwFileError(path, "is not an ONNX model (its bytes do not parse as a ModelProto)");
  }
  try {
    onnx::checker::check_model(proto);
  } catch (const std::exception& e) {
    core::throwFileError(path, std::string("fails ONNX's checker: ") + e.what());
  }
  OnnxSummary out;
  out.irVersion = proto.ir_version();
  for (const auto& opset : proto.opset_import()) {
    if (opset.domain().empty() || opset.domain() == "ai.onnx") {
      out.opset = opset.version();
    }
  }
  for (const auto& input : proto.graph().input()) {
    out.inputs.push_back(input.name());
  }
  for (const auto& output : proto.graph().output()) {
    out.outputs.push_back(output.name());
  }
  std::map<std::string, std::int64_t> counts;
  for (const auto& node : proto.graph().node()) {
    ++counts[node.op_type()];
  }
  out.opCounts.assign(counts.begin(), counts.end());
  for (const auto& entry : proto.metadata_props()) {
    out.metadata.emplace_back(entry.key(), entry.value());
  }
  return out;
}

}  // namespace taxon::deploy
