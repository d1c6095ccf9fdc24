// ONNX files given to `taxon info` (deploy/OnnxModel: readOnnxSummary, with libonnx's protobuf
// schema): any bytes, read back as a summary or refused by name.
#include "FuzzInput.hpp"
#include "core/Error.hpp"
#include "deploy/OnnxModel.hpp"

using namespace taxon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fuzz::writeScratch("model.onnx", fuzz::asText(data, size));
  try {
    deploy::readOnnxSummary(path);
  } catch (const core::Error&) {
  }
  return 0;
}
