#include "deploy/torch/GraphRunner.hpp"

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <ATen/core/dispatch/Dispatcher.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <variant>

#include "core/Error.hpp"
#include "core/torch/Device.hpp"

namespace taxon::deploy {

// Named, not anonymous: GraphRunner::Program holds these.
namespace runner {

enum class Kind {
  Conv,
  Relu,
  MaxPool,
  AveragePool,
  Concat,
  GlobalAveragePool,
  Flatten,
  Gemm,
  Softmax
};

const std::map<std::string, Kind>& kinds() {
  static const std::map<std::string, Kind> table = {
      {"Conv", Kind::Conv},       {"Relu", Kind::Relu},
      {"MaxPool", Kind::MaxPool}, {"AveragePool", Kind::AveragePool},
      {"Concat", Kind::Concat},   {"GlobalAveragePool", Kind::GlobalAveragePool},
      {"Flatten", Kind::Flatten}, {"Gemm", Kind::Gemm},
      {"Softmax", Kind::Softmax},
  };
  return table;
}

// One node (a Conv with the Relu after it counts as one) with its inputs and output as slots.
struct Step {
  Kind kind = Kind::Relu;
  std::string name;  // the output's name
  std::vector<int> inputs;
  int output = -1;
  bool relu = false;                 // Conv: the ReLU is fused in
  std::vector<std::int64_t> kernel;  // pools
  std::vector<std::int64_t> stride{1, 1};
  std::vector<std::int64_t> padding{0, 0};  // symmetric: top = bottom, left = right
  std::int64_t axis = 1;
  bool countIncludePad = false;
  at::Tensor weight;
  at::Tensor bias;
  std::vector<int> release;  // slots whose last reader this is
  // CPU: the weight in oneDNN's layout for the last input shape seen.
  std::vector<std::int64_t> packedFor;
  at::Tensor packed;
};

}  // namespace runner

namespace {

using runner::Kind;
using runner::Step;

const OnnxAttribute* findAttribute(const OnnxNode& node, const std::string& name) {
  for (const auto& a : node.attributes) {
    if (a.name == name) {
      return &a;
    }
  }
  return nullptr;
}

std::int64_t intAttribute(const OnnxNode& node, const std::string& name, std::int64_t fallback) {
  const auto* a = findAttribute(node, name);
  return a == nullptr ? fallback : std::get<std::int64_t>(a->value);
}

std::vector<std::int64_t> intsAttribute(const OnnxNode& node, const std::string& name,
                                        std::vector<std::int64_t> fallback) {
  const auto* a = findAttribute(node, name);
  return a == nullptr ? fallback : std::get<std::vector<std::int64_t>>(a->value);
}

// ONNX pads are begin..., end...; torch pads both sides alike.
std::vector<std::int64_t> symmetricPadding(const OnnxNode& node) {
  const auto pads = intsAttribute(node, "pads", {0, 0, 0, 0});
  if (pads.size() != 4 || pads[0] != pads[2] || pads[1] != pads[3]) {
    throw core::Error("inference graph: node '" + node.outputs.at(0) +
                      "' has asymmetric padding, which Taxon does not run");
  }
  return {pads[0], pads[1]};
}

at::Tensor constantTensor(const OnnxConstant& c) {
  if (c.type != ElementType::Float32) {
    throw core::Error("inference graph: constant '" + c.name + "' is not float32");
  }
  auto t = at::empty(c.dims, at::kFloat);
  if (static_cast<std::size_t>(t.numel()) * sizeof(float) != c.bytes.size()) {
    throw core::Error("inference graph: constant '" + c.name + "' has the wrong size");
  }
  std::memcpy(t.data_ptr<float>(), c.bytes.data(), c.bytes.size());
  return t;
}

// oneDNN's fused, prepacked convolutions: on the CPU, in bf16 only where the CPU has it (oneDNN
// refuses bf16 weights otherwise, and torch's own convolution emulates it).
bool useOneDnn(const RunnerSettings& s) {
  return s.device.is_cpu() && at::hasMKLDNN() && at::globalContext().userEnabledMkldnn() &&
         (s.precision == Precision::Float32 || core::nativeBf16(s.device));
}

c10::OperatorHandle operatorNamed(const char* name) {
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, "");
}

// The weight reordered into the layout oneDNN picks for this input shape.
at::Tensor packWeight(const Step& step, const at::Tensor& weight, at::IntArrayRef inputSizes) {
  static const auto op = operatorNamed("mkldnn::_reorder_convolution_weight");
  torch::jit::Stack stack{weight,          step.padding,
                          step.stride,     std::vector<std::int64_t>{1, 1},
                          std::int64_t{1}, inputSizes.vec()};
  op.callBoxed(&stack);
  return stack.at(0).toTensor();
}

at::Tensor oneDnnConv(const Step& step, const at::Tensor& x, const at::Tensor& weight) {
  static const auto op = operatorNamed("mkldnn::_convolution_pointwise");
  torch::jit::Stack stack{x,
                          weight,
                          step.bias,
                          step.padding,
                          step.stride,
                          std::vector<std::int64_t>{1, 1},
                          std::int64_t{1},
                          std::string(step.relu ? "relu" : "none"),
                          c10::List<std::optional<at::Scalar>>(),
                          c10::IValue()};
  op.callBoxed(&stack);
  return stack.at(0).toTensor();
}

}  // namespace

struct GraphRunner::Program {
  RunnerSettings settings;
  std::vector<Step> steps;
  std::map<std::string, int> slotOf;
  std::vector<int> inputSlots;
  std::string inputName;
  std::vector<int> outputSlots;
  std::size_t slots = 0;
  bool oneDnn = false;
  mutable std::mutex packing;  // the packed weights are a cache shared by runs

  int slot(const std::string& name) {
    const auto [it, added] = slotOf.emplace(name, static_cast<int>(slots));
    slots += added ? 1 : 0;
    return it->second;
  }
  int existing(const std::string& name, const std::string& reader) const {
    const auto it = slotOf.find(name);
    if (it == slotOf.end()) {
      throw core::Error("inference graph: '" + reader + "' reads '" + name +
                        "', which nothing before it computes");
    }
    return it->second;
  }

  at::Tensor conv(Step& step, const at::Tensor& x) const {
    if (!oneDnn) {
      auto y = at::conv2d(x, step.weight, step.bias, step.stride, step.padding);
      return step.relu ? y.relu_() : y;
    }
    std::lock_guard lock(packing);
    if (step.packedFor != x.sizes().vec()) {
      step.packed = packWeight(step, step.weight, x.sizes());
      step.packedFor = x.sizes().vec();
    }
    return oneDnnConv(step, x, step.packed);
  }
};

Precision parsePrecision(const std::string& text, const c10::Device& device) {
  if (text == "fp32") {
    return Precision::Float32;
  }
  if (text == "bf16") {
    return Precision::BFloat16;
  }
  if (text == "auto") {
    return core::nativeBf16(device) ? Precision::BFloat16 : Precision::Float32;
  }
  throw core::Error("unknown precision '" + text + "': fp32, bf16 or auto");
}

const char* precisionName(Precision precision) {
  return precision == Precision::BFloat16 ? "bf16" : "fp32";
}

GraphRunner::GraphRunner(const OnnxModel& model, RunnerSettings settings)
    : program_(std::make_unique<Program>()) {
  auto& p = *program_;
  p.settings = settings;
  p.oneDnn = useOneDnn(settings);
  const auto dtype = settings.precision == Precision::BFloat16 ? at::kBFloat16 : at::kFloat;
  std::map<std::string, const OnnxConstant*> constants;
  for (const auto& c : model.constants) {
    constants.emplace(c.name, &c);
  }
  const auto weightOf = [&](const OnnxNode& node, std::size_t input, bool convolution) {
    const auto it = constants.find(node.inputs.at(input));
    if (it == constants.end()) {
      throw core::Error("inference graph: '" + node.outputs.at(0) +
                        "' takes its weights from a computed value");
    }
    auto t = constantTensor(*it->second).to(settings.device, dtype);
    return convolution ? t.contiguous(at::MemoryFormat::ChannelsLast) : t;
  };
  // How many nodes read each value: a Conv whose only reader is a Relu runs fused with it.
  std::map<std::string, int> readers;
  for (const auto& node : model.nodes) {
    for (const auto& input : node.inputs) {
      ++readers[input];
    }
  }
  for (const auto& input : model.inputs) {
    p.inputSlots.push_back(p.slot(input.name));
  }
  p.inputName = model.inputs.at(0).name;
  for (std::size_t n = 0; n < model.nodes.size(); ++n) {
    const OnnxNode& node = model.nodes[n];
    const auto kind = runner::kinds().find(node.op);
    if (kind == runner::kinds().end()) {
      throw core::Error("inference graph: operator " + node.op + " (node '" + node.outputs.at(0) +
                        "') is not one Taxon runs");
    }
    Step step;
    step.kind = kind->second;
    step.name = node.outputs.at(0);
    switch (step.kind) {
      case Kind::Conv: {
        step.inputs = {p.existing(node.inputs.at(0), step.name)};
        step.weight = weightOf(node, 1, true);
        step.bias = node.inputs.size() > 2 ? weightOf(node, 2, false) : at::Tensor();
        step.stride = intsAttribute(node, "strides", {1, 1});
        step.padding = symmetricPadding(node);
        if (intAttribute(node, "group", 1) != 1 ||
            intsAttribute(node, "dilations", {1, 1}) != std::vector<std::int64_t>{1, 1}) {
          throw core::Error("inference graph: '" + step.name +
                            "' is a grouped or dilated "
                            "convolution, which Taxon does not run");
        }
        const bool fuse = n + 1 < model.nodes.size() && model.nodes[n + 1].op == "Relu" &&
                          model.nodes[n + 1].inputs.at(0) == step.name && readers[step.name] == 1;
        if (fuse) {
          step.relu = true;
          step.name = model.nodes[++n].outputs.at(0);
        }
        break;
      }
      case Kind::MaxPool:
      case Kind::AveragePool:
        step.inputs = {p.existing(node.inputs.at(0), step.name)};
        step.kernel = intsAttribute(node, "kernel_shape", {});
        step.stride = intsAttribute(node, "strides", {1, 1});
        step.padding = symmetricPadding(node);
        step.countIncludePad = intAttribute(node, "count_include_pad", 0) != 0;
        break;
      case Kind::Gemm:
        step.inputs = {p.existing(node.inputs.at(0), step.name)};
        if (intAttribute(node, "transB", 0) != 1 || intAttribute(node, "transA", 0) != 0) {
          throw core::Error("inference graph: '" + step.name + "' is a Gemm Taxon does not run");
        }
        step.weight = weightOf(node, 1, false);
        step.bias = node.inputs.size() > 2 ? weightOf(node, 2, false) : at::Tensor();
        break;
      default:
        for (const auto& input : node.inputs) {
          step.inputs.push_back(p.existing(input, step.name));
        }
        step.axis = intAttribute(node, "axis", 1);
        break;
    }
    step.output = p.slot(step.name);
    p.steps.push_back(std::move(step));
  }
  for (const auto& output : model.outputs) {
    p.outputSlots.push_back(p.existing(output.name, "the graph's output"));
  }
  // Free each value after its last reader, the inputs and outputs excepted.
  std::vector<int> lastReader(p.slots, -1);
  for (std::size_t i = 0; i < p.steps.size(); ++i) {
    for (const int input : p.steps[i].inputs) {
      lastReader[static_cast<std::size_t>(input)] = static_cast<int>(i);
    }
  }
  for (const int keep : p.outputSlots) {
    lastReader[static_cast<std::size_t>(keep)] = -1;
  }
  for (std::size_t s = 0; s < p.slots; ++s) {
    if (lastReader[s] >= 0) {
      p.steps[static_cast<std::size_t>(lastReader[s])].release.push_back(static_cast<int>(s));
    }
  }
}

GraphRunner::~GraphRunner() = default;
GraphRunner::GraphRunner(GraphRunner&&) noexcept = default;
GraphRunner& GraphRunner::operator=(GraphRunner&&) noexcept = default;

const RunnerSettings& GraphRunner::settings() const {
  return program_->settings;
}

std::vector<at::Tensor> GraphRunner::run(const at::Tensor& image) const {
  return run(image, {}, {});
}

std::vector<at::Tensor> GraphRunner::run(const at::Tensor& image,
                                         const std::vector<std::string>& observed,
                                         const Observer& observer) const {
  auto& p = *program_;
  c10::InferenceMode inference;
  const auto dtype = p.settings.precision == Precision::BFloat16 ? at::kBFloat16 : at::kFloat;
  std::vector<at::Tensor> values(p.slots);
  values.at(static_cast<std::size_t>(p.inputSlots.at(0))) =
      image.to(p.settings.device, dtype).contiguous(at::MemoryFormat::ChannelsLast);
  std::vector<char> watch(p.slots, 0);
  for (const auto& name : observed) {
    if (const auto it = p.slotOf.find(name); it != p.slotOf.end()) {
      watch[static_cast<std::size_t>(it->second)] = 1;
    }
  }
  const auto inputSlot = static_cast<std::size_t>(p.inputSlots.at(0));
  if (observer && watch[inputSlot] != 0) {
    observer(p.inputName, values[inputSlot]);
  }
  const auto in = [&](const Step& step, std::size_t i) -> const at::Tensor& {
    return values[static_cast<std::size_t>(step.inputs[i])];
  };
  for (auto& step : p.steps) {
    at::Tensor y;
    switch (step.kind) {
      case Kind::Conv:
        y = p.conv(step, in(step, 0));
        break;
      case Kind::Relu:
        y = at::relu(in(step, 0));
        break;
      case Kind::MaxPool:
        y = at::max_pool2d(in(step, 0), step.kernel, step.stride, step.padding);
        break;
      case Kind::AveragePool:
        y = at::avg_pool2d(in(step, 0), step.kernel, step.stride, step.padding,
                           /*ceil_mode=*/false, step.countIncludePad);
        break;
      case Kind::Concat: {
        std::vector<at::Tensor> parts;
        for (std::size_t i = 0; i < step.inputs.size(); ++i) {
          parts.push_back(in(step, i));
        }
        y = at::cat(parts, step.axis);
        break;
      }
      case Kind::GlobalAveragePool:
        y = in(step, 0).mean({2, 3}, /*keepdim=*/true);
        break;
      case Kind::Flatten:
        y = in(step, 0).flatten(step.axis);
        break;
      case Kind::Gemm:
        y = at::linear(in(step, 0), step.weight, step.bias);
        break;
      case Kind::Softmax:
        y = at::softmax(in(step, 0).to(at::kFloat), step.axis);
        break;
    }
    for (const int s : step.release) {
      values[static_cast<std::size_t>(s)].reset();
    }
    if (observer && watch[static_cast<std::size_t>(step.output)] != 0) {
      observer(step.name, y);
    }
    values[static_cast<std::size_t>(step.output)] = std::move(y);
  }
  std::vector<at::Tensor> outputs;
  for (const int s : p.outputSlots) {
    outputs.push_back(values[static_cast<std::size_t>(s)].to(at::kFloat));
  }
  return outputs;
}

}  // namespace taxon::deploy
