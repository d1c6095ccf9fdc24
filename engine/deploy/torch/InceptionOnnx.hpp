// `taxon export --format onnx`: a trained Inception-v3 as an ONNX graph for serving it outside
// Taxon. The graph is written from the module tree in evaluation form: every BasicConv2d's batch
// norm is folded into its convolution (one Conv with a bias, then Relu), the auxiliary head is left
// out, dropout is the identity. One input and two outputs:
//   image          float batch x 3 x S x S, the evaluation preprocessing's output: the central
//                  crop, resized to S x S, RGB, scaled to [-1, 1] (x / 127.5 - 1)
//   logits         float batch x categories
//   probabilities  their softmax
// The batch dimension is symbolic. The metadata carries everything a consumer needs to print the
// seed's lines (see kOnnxMetadataKeys): the category paths in label order, the input size, the
// preprocessing, and where the weights came from.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stop_token>
#include <string>
#include <vector>

#include "core/Progress.hpp"
#include "deploy/OnnxModel.hpp"
#include "deploy/Quantize.hpp"
#include "deploy/torch/Calibration.hpp"
#include "model/InceptionV3.hpp"

namespace taxon::deploy {

// Metadata keys, all strings: "taxon.categories" (a JSON array of category paths, label order),
// "taxon.image_size" (S), "taxon.preprocessing" (a JSON object: central_crop_fraction, resize,
// channels, layout, scale), "taxon.run", "taxon.checkpoint", "taxon.step", "taxon.version".
struct OnnxProvenance {
  std::vector<std::string> categories;
  double centralCropFraction = 0.875;
  std::string run;         // the run folder's name
  std::string checkpoint;  // the checkpoint file's name
  std::int64_t step = 0;
};

// The network (in evaluation mode, on the CPU) as an ONNX model. Throws core::Error when the
// categories do not match the classifier's size.
OnnxModel inceptionToOnnx(const model::InceptionV3Impl& net, const OnnxProvenance& provenance);

struct OnnxExportOptions {
  bool int8 = false;  // the QDQ form of deploy/Quantize.hpp, calibrated on training images
  std::filesystem::path dataDir;  // int8: the records to calibrate on; empty: the run's data dir
  CalibrationSettings calibration;
  QuantizeSettings quantize;
};

struct OnnxExportResult {
  std::filesystem::path checkpoint;
  std::int64_t step = 0;
  std::size_t categories = 0;
  std::int64_t imageSize = 0;
  std::uintmax_t bytes = 0;
  std::int64_t calibrationImages = 0;  // int8 only
  bool stopped = false;                // cancelled during calibration: nothing written
};

// The newest readable checkpoint of `checkpointDir` (or that file) with its averaged weights,
// written to `output` atomically after ONNX's checker accepted it. Throws core::Error naming the
// file at fault; nothing is written then, nor when the stop is requested.
OnnxExportResult exportOnnx(const std::filesystem::path& checkpointDir,
                            const std::filesystem::path& output,
                            const OnnxExportOptions& options = {}, std::stop_token stop = {},
                            const core::ProgressFn& progress = {});

}  // namespace taxon::deploy
