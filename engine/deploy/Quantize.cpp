#include "deploy/Quantize.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "core/Error.hpp"

namespace taxon::deploy {

namespace {

bool producesQuantizedActivation(const std::string& op) {
  return op == "Relu" || op == "MaxPool" || op == "AveragePool" || op == "Concat";
}

OnnxNode node(std::string op, std::vector<std::string> inputs, std::string output,
              std::vector<OnnxAttribute> attributes = {}) {
  return {std::move(op), std::move(inputs), {std::move(output)}, std::move(attributes), {}};
}

// Builds the QDQ graph: the float graph's nodes in order, each quantized activation followed by
// its QuantizeLinear / DequantizeLinear pair, each quantized convolution preceded by the
// dequantization of its weights and bias.
class QdqWriter {
 public:
  QdqWriter(const OnnxModel& model, const ActivationRanges& ranges) : model_(model) {
    for (const auto& c : model.constants) {
      constants_.emplace(c.name, &c);
    }
    // The pools pass values through (max) or average them (within the same range): a max pool's
    // output keeps its input's scale, which lets ONNX Runtime run it on the uint8 values.
    std::map<std::string, std::string> sameScaleAs;
    for (const auto& n : model.nodes) {
      if (n.op == "MaxPool") {
        sameScaleAs[n.outputs.at(0)] = n.inputs.at(0);
      }
    }
    for (const auto& name : quantizedActivations(model)) {
      std::string source = name;
      while (sameScaleAs.count(source) != 0) {
        source = sameScaleAs[source];
      }
      const auto range = ranges.find(source);
      if (range == ranges.end()) {
        throw core::Error("int8 export: calibration observed no range for '" + source + "'");
      }
      params_[name] = uint8Params(range->second);
    }
  }

  OnnxModel write(const QuantizeSettings& settings) {
    const std::set<std::string> keepFloat(settings.floatConvolutions.begin(),
                                          settings.floatConvolutions.end());
    OnnxModel out = model_;
    out.nodes.clear();
    out.constants.clear();
    for (const auto& input : model_.inputs) {
      quantizeActivation(input.name, out);
    }
    for (std::size_t i = 0; i < model_.nodes.size(); ++i) {
      OnnxNode n = model_.nodes[i];
      const bool relu = i + 1 < model_.nodes.size() && model_.nodes[i + 1].op == "Relu" &&
                        model_.nodes[i + 1].inputs.at(0) == n.outputs.at(0);
      const std::string named = relu ? model_.nodes[i + 1].outputs.at(0) : n.outputs.at(0);
      const bool quantize =
          n.op == "Conv" && keepFloat.count(named) == 0 && params_.count(n.inputs.at(0)) != 0;
      if (quantize) {
        quantizeConvolution(n, params_.at(n.inputs.at(0)).scale, out);
      } else if (n.op == "Conv") {
        ++floatConvolutions_;
      }
      for (auto& input : n.inputs) {
        if (params_.count(input) != 0) {
          input += "_dq";
        }
      }
      out.nodes.push_back(n);
      quantizeActivation(n.outputs.at(0), out);
    }
    // The float constants still read (the Gemm's, and the kept convolutions'), then the new ones.
    std::set<std::string> read;
    for (const auto& n : out.nodes) {
      read.insert(n.inputs.begin(), n.inputs.end());
    }
    std::vector<OnnxConstant> constants;
    for (const auto& c : model_.constants) {
      if (read.count(c.name) != 0) {
        constants.push_back(c);
      }
    }
    constants.insert(constants.end(), added_.begin(), added_.end());
    out.constants = std::move(constants);
    const nlohmann::json summary = {
        {"scheme", "QDQ, static"},
        {"activations", "uint8, asymmetric, per tensor"},
        {"weights", "int8, symmetric, per output channel"},
        {"quantized_activations", params_.size()},
        {"quantized_convolutions", quantizedConvolutions_},
        {"float_convolutions", floatConvolutions_},
        {"float", "the final Gemm, the global average pool, the softmax"},
    };
    out.metadata.emplace_back("taxon.quantization", summary.dump());
    return out;
  }

 private:
  void quantizeActivation(const std::string& name, OnnxModel& out) {
    const auto p = params_.find(name);
    if (p == params_.end()) {
      return;
    }
    added_.push_back(floatConstant(name + "_scale", {}, {p->second.scale}));
    added_.push_back(uint8Constant(name + "_zero_point", {}, {p->second.zeroPoint}));
    out.nodes.push_back(
        node("QuantizeLinear", {name, name + "_scale", name + "_zero_point"}, name + "_q"));
    out.nodes.push_back(node("DequantizeLinear",
                             {name + "_q", name + "_scale", name + "_zero_point"}, name + "_dq"));
  }

  // W (O x I x kh x kw) to int8 with one scale per output channel, the bias to int32 at
  // inputScale x that scale, each behind a DequantizeLinear; the node then reads those.
  void quantizeConvolution(OnnxNode& n, float inputScale, OnnxModel& out) {
    const OnnxConstant& w = constant(n.inputs.at(1));
    const auto weights = floatValues(w);
    const std::int64_t channels = w.dims.at(0);
    const std::size_t perChannel = weights.size() / static_cast<std::size_t>(channels);
    std::vector<float> scales(static_cast<std::size_t>(channels));
    std::vector<std::int8_t> q(weights.size());
    for (std::size_t c = 0; c < scales.size(); ++c) {
      float largest = 0.0f;
      for (std::size_t k = 0; k < perChannel; ++k) {
        largest = std::max(largest, std::abs(weights[c * perChannel + k]));
      }
      scales[c] = largest > 0.0f ? largest / 127.0f : 1.0f;
      for (std::size_t k = 0; k < perChannel; ++k) {
        const float v = std::nearbyint(weights[c * perChannel + k] / scales[c]);
        q[c * perChannel + k] = static_cast<std::int8_t>(std::clamp(v, -127.0f, 127.0f));
      }
    }
    n.inputs[1] =
        dequantizedPerChannel(n.inputs[1], int8Constant(n.inputs[1] + "_q", w.dims, q), scales,
                              int8Constant(n.inputs[1] + "_zero_point", {channels},
                                           std::vector<std::int8_t>(scales.size(), 0)),
                              out);
    if (n.inputs.size() > 2) {
      const OnnxConstant& b = constant(n.inputs[2]);
      const auto bias = floatValues(b);
      std::vector<float> biasScales(scales.size());
      std::vector<std::int32_t> qb(bias.size());
      for (std::size_t c = 0; c < bias.size(); ++c) {
        biasScales[c] = inputScale * scales[c];
        const double v = std::nearbyint(static_cast<double>(bias[c]) / biasScales[c]);
        qb[c] = static_cast<std::int32_t>(
            std::clamp(v, static_cast<double>(std::numeric_limits<std::int32_t>::min()),
                       static_cast<double>(std::numeric_limits<std::int32_t>::max())));
      }
      n.inputs[2] = dequantizedPerChannel(
          n.inputs[2], int32Constant(n.inputs[2] + "_q", b.dims, qb), biasScales,
          int32Constant(n.inputs[2] + "_zero_point", {channels},
                        std::vector<std::int32_t>(biasScales.size(), 0)),
          out);
    }
    ++quantizedConvolutions_;
  }

  // `name`_dq: the integer constant times its per-channel scales (axis 0), after its zero point.
  std::string dequantizedPerChannel(const std::string& name, OnnxConstant values,
                                    const std::vector<float>& scales, OnnxConstant zeroPoint,
                                    OnnxModel& out) {
    const auto channels = static_cast<std::int64_t>(scales.size());
    out.nodes.push_back(node("DequantizeLinear", {values.name, name + "_scale", zeroPoint.name},
                             name + "_dq", {{"axis", std::int64_t{0}}}));
    added_.push_back(std::move(values));
    added_.push_back(floatConstant(name + "_scale", {channels}, scales));
    added_.push_back(std::move(zeroPoint));
    return name + "_dq";
  }

  const OnnxConstant& constant(const std::string& name) const {
    const auto it = constants_.find(name);
    if (it == constants_.end()) {
      throw core::Error("int8 export: '" + name + "' is not a constant of the graph");
    }
    return *it->second;
  }

  const OnnxModel& model_;
  std::map<std::string, const OnnxConstant*> constants_;
  std::map<std::string, QuantParams> params_;
  std::vector<OnnxConstant> added_;
  int quantizedConvolutions_ = 0;
  int floatConvolutions_ = 0;
};

}  // namespace

std::vector<std::string> quantizedActivations(const OnnxModel& model) {
  std::vector<std::string> out;
  for (const auto& input : model.inputs) {
    out.push_back(input.name);
  }
  for (const auto& n : model.nodes) {
    if (producesQuantizedActivation(n.op)) {
      out.push_back(n.outputs.at(0));
    }
  }
  return out;
}

QuantParams uint8Params(ActivationRange range) {
  const double low = std::min(0.0, static_cast<double>(range.min));
  const double high = std::max(0.0, static_cast<double>(range.max));
  QuantParams p;
  if (high - low < 1e-12) {
    return p;  // all zeros: any scale represents them
  }
  p.scale = static_cast<float>((high - low) / 255.0);
  p.zeroPoint = static_cast<std::uint8_t>(std::clamp(std::nearbyint(-low / p.scale), 0.0, 255.0));
  return p;
}

OnnxModel quantizeInt8(const OnnxModel& model, const ActivationRanges& ranges,
                       const QuantizeSettings& settings) {
  return QdqWriter(model, ranges).write(settings);
}

}  // namespace taxon::deploy
