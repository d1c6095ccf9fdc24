// ONNX files given to `taxon info` (deploy/OnnxModel: readOnnxSummary, with libonnx's protobuf
// schema): any bytes, read back as a summary or refused by name.
#include "FuzzInput.hpp"
#include "deploy/OnnxModel.hpp"

using namespace taxon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::readAsFile("model.onnx", data, size,
                   [](const auto& path) { deploy::readOnnxSummary(path); });
  return 0;
}
