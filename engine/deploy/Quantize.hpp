// The int8 form of an exported graph: post-training static quantization in ONNX's QDQ form
// (QuantizeLinear / DequantizeLinear pairs that ONNX Runtime fuses into integer kernels).
//   activations  uint8, asymmetric, one scale per tensor from the ranges calibration observed;
//                a ReLU's output gets zero point 0, so ONNX Runtime folds the ReLU away
//   weights      int8, symmetric (zero point 0), one scale per output channel
//   biases       int32 at the scale input scale x weight scale, as integer convolutions need
// Quantized: the input image and the output of every ReLU, pool and concatenation, and every
// convolution whose input is quantized. The final Gemm, the global average pool and the softmax
// stay in float (see quantizeInt8). Plain C++ on the OnnxModel description: no torch, no protobuf.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "deploy/OnnxModel.hpp"

namespace taxon::deploy {

struct ActivationRange {
  float min = 0.0f;
  float max = 0.0f;
};
using ActivationRanges = std::map<std::string, ActivationRange>;

// The activations the int8 form quantizes, in graph order: what calibration must observe.
std::vector<std::string> quantizedActivations(const OnnxModel& model);

struct QuantizeSettings {
  // Convolutions left in float, by the name of the node's output (its ReLU's, "Conv2d_1a_3x3").
  std::vector<std::string> floatConvolutions;
};

// uint8 quantization parameters of a range, which is widened to hold 0.
struct QuantParams {
  float scale = 1.0f;
  std::uint8_t zeroPoint = 0;
};
QuantParams uint8Params(ActivationRange range);

// The QDQ model; metadata gains "taxon.quantization" (a JSON object: the scheme and the counts).
// Throws core::Error naming an activation without a range.
OnnxModel quantizeInt8(const OnnxModel& model, const ActivationRanges& ranges,
                       const QuantizeSettings& settings = {});

}  // namespace taxon::deploy
