// Taxon's own inference form of a trained network: the folded graph that `taxon export --format
// onnx` writes (deploy/OnnxModel.hpp; batch norm already folded into the convolutions), run with
// torch's operators instead of a module tree. What `taxon classify`, the Classify page and the
// export's calibration run, so that the graph a consumer serves is the graph Taxon measured.
//
// On the CPU the activations are channels-last and every convolution with its ReLU is one oneDNN
// primitive (mkldnn's fused pointwise convolution) whose weights are reordered once per input
// shape, not once per call; on CUDA, cuDNN convolutions. In bf16 the weights and activations are
// bfloat16 and the outputs are returned as float32.
#pragma once

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "deploy/OnnxModel.hpp"

namespace at {
class Tensor;
}  // namespace at

namespace taxon::deploy {

enum class Precision { Float32, BFloat16 };

// "fp32", "bf16"; "auto" is bf16 where the device computes it natively (see core::nativeBf16) and
// fp32 elsewhere. Throws core::Error for anything else.
Precision parsePrecision(const std::string& text, const c10::Device& device);
const char* precisionName(Precision precision);

struct RunnerSettings {
  c10::Device device{c10::kCPU};
  Precision precision = Precision::Float32;
};

class GraphRunner {
 public:
  // Reads the graph's constants into tensors on the device. Throws core::Error for an operator
  // the runner does not know (any graph inceptionToOnnx writes is known).
  GraphRunner(const OnnxModel& model, RunnerSettings settings);
  ~GraphRunner();
  GraphRunner(GraphRunner&&) noexcept;
  GraphRunner& operator=(GraphRunner&&) noexcept;

  const RunnerSettings& settings() const;

  // Called with each named activation as it is computed (in float32 or bf16, on the device).
  using Observer = std::function<void(const std::string& name, const at::Tensor& value)>;

  // The graph's outputs for `image` (float, batch x 3 x S x S, any device: moved), in the order
  // of OnnxModel::outputs, as float32 on the runner's device. With an observer, `observed` names
  // the activations it is shown.
  std::vector<at::Tensor> run(const at::Tensor& image) const;
  std::vector<at::Tensor> run(const at::Tensor& image, const std::vector<std::string>& observed,
                              const Observer& observer) const;

 private:
  struct Program;
  std::unique_ptr<Program> program_;
};

}  // namespace taxon::deploy
