#include "deploy/torch/InceptionOnnx.hpp"

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <variant>

#include "checkpoint/TrainedModel.hpp"
#include "core/Error.hpp"
#include "core/Files.hpp"
#include "core/Version.hpp"
#include "data/InceptionPreprocess.hpp"

namespace taxon::deploy {

namespace fs = std::filesystem;

namespace {

std::vector<float> floatsOf(const torch::Tensor& t) {
  const auto c = t.detach().to(torch::kCPU, torch::kFloat).contiguous();
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

std::vector<std::int64_t> pairOf(const torch::ExpandingArray<2>& a) {
  return {a->at(0), a->at(1)};
}

// Writes the graph node by node, reading weights from the network's modules by their torchvision
// names. Every method returns the name of the tensor it produced.
class GraphWriter {
 public:
  explicit GraphWriter(const torch::nn::Module& net)
      : modules_(net.named_modules(/*name_prefix=*/"", /*include_self=*/false)) {}

  OnnxModel& model() { return model_; }

  // BasicConv2d `prefix`: its convolution with the batch norm folded in (computed in double),
  // then ReLU.
  std::string conv(const std::string& prefix, const std::string& x) {
    const auto* c = find(prefix + ".conv")->as<torch::nn::Conv2dImpl>();
    const auto* bn = find(prefix + ".bn")->as<torch::nn::BatchNorm2dImpl>();
    if (c == nullptr || bn == nullptr) {
      throw core::Error("ONNX export: '" + prefix + "' is not a convolution with batch norm");
    }
    // Evaluation-mode batch norm: (y - mean) / sqrt(var + eps) * gamma + beta, per channel.
    const auto scale = bn->weight.to(torch::kDouble) /
                       torch::sqrt(bn->running_var.to(torch::kDouble) + bn->options.eps());
    const auto weight = c->weight.to(torch::kDouble) * scale.reshape({-1, 1, 1, 1});
    const auto bias = bn->bias.to(torch::kDouble) - bn->running_mean.to(torch::kDouble) * scale;
    const auto weightName = prefix + ".conv.weight";
    const auto biasName = prefix + ".conv.bias";
    model_.constants.push_back(floatConstant(weightName, weight.sizes().vec(), floatsOf(weight)));
    model_.constants.push_back(floatConstant(biasName, bias.sizes().vec(), floatsOf(bias)));
    const auto& o = c->options;
    const auto padding = std::get<torch::ExpandingArray<2>>(o.padding());
    const auto pads = pairOf(padding);
    node("Conv", {x, weightName, biasName}, prefix + ".conv",
         {{"kernel_shape", pairOf(o.kernel_size())},
          {"strides", pairOf(o.stride())},
          {"pads", std::vector<std::int64_t>{pads[0], pads[1], pads[0], pads[1]}}});
    return node("Relu", {prefix + ".conv"}, prefix);
  }

  // The BasicConv2d modules `block`.`names`... one after the other, starting from x.
  std::string chain(const std::string& block, std::initializer_list<const char*> names,
                    std::string x) {
    for (const char* name : names) {
      x = conv(block + "." + name, x);
    }
    return x;
  }

  std::string maxPool3x3Stride2(const std::string& name, const std::string& x) {
    return node("MaxPool", {x}, name,
                {{"kernel_shape", std::vector<std::int64_t>{3, 3}},
                 {"strides", std::vector<std::int64_t>{2, 2}}});
  }

  // 3 x 3, stride 1, padding 1, the padding counted in the average (torch's default).
  std::string avgPool3x3(const std::string& name, const std::string& x) {
    return node("AveragePool", {x}, name,
                {{"kernel_shape", std::vector<std::int64_t>{3, 3}},
                 {"strides", std::vector<std::int64_t>{1, 1}},
                 {"pads", std::vector<std::int64_t>{1, 1, 1, 1}},
                 {"count_include_pad", std::int64_t{1}}});
  }

  std::string concat(const std::string& name, std::vector<std::string> parts) {
    return node("Concat", std::move(parts), name, {{"axis", std::int64_t{1}}});
  }

  // x (N x F) times the Linear module's weight, plus its bias.
  std::string linear(const std::string& prefix, const std::string& x, const std::string& out) {
    const auto* fc = find(prefix)->as<torch::nn::LinearImpl>();
    if (fc == nullptr) {
      throw core::Error("ONNX export: '" + prefix + "' is not a linear layer");
    }
    model_.constants.push_back(
        floatConstant(prefix + ".weight", fc->weight.sizes().vec(), floatsOf(fc->weight)));
    model_.constants.push_back(
        floatConstant(prefix + ".bias", fc->bias.sizes().vec(), floatsOf(fc->bias)));
    return node("Gemm", {x, prefix + ".weight", prefix + ".bias"}, out,
                {{"transB", std::int64_t{1}}});
  }

  std::string node(std::string op, std::vector<std::string> inputs, std::string output,
                   std::vector<OnnxAttribute> attributes = {}) {
    model_.nodes.push_back({std::move(op), std::move(inputs), {output}, std::move(attributes), {}});
    return output;
  }

 private:
  const std::shared_ptr<torch::nn::Module>& find(const std::string& name) const {
    const auto* found = modules_.find(name);
    if (found == nullptr) {
      throw core::Error("ONNX export: the network has no module '" + name + "'");
    }
    return *found;
  }

  torch::OrderedDict<std::string, std::shared_ptr<torch::nn::Module>> modules_;
  OnnxModel model_;
};

// The blocks as model/InceptionV3.cpp's forward() computes them, branch by branch.
std::string inceptionA(GraphWriter& g, const std::string& p, const std::string& x) {
  const auto b1 = g.conv(p + ".branch1x1", x);
  const auto b5 = g.chain(p, {"branch5x5_1", "branch5x5_2"}, x);
  const auto b3 = g.chain(p, {"branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"}, x);
  const auto pool = g.conv(p + ".branch_pool", g.avgPool3x3(p + ".avg_pool", x));
  return g.concat(p, {b1, b5, b3, pool});
}

std::string inceptionB(GraphWriter& g, const std::string& p, const std::string& x) {
  const auto b3 = g.conv(p + ".branch3x3", x);
  const auto bd = g.chain(p, {"branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"}, x);
  const auto pool = g.maxPool3x3Stride2(p + ".max_pool", x);
  return g.concat(p, {b3, bd, pool});
}

std::string inceptionC(GraphWriter& g, const std::string& p, const std::string& x) {
  const auto b1 = g.conv(p + ".branch1x1", x);
  const auto b7 = g.chain(p, {"branch7x7_1", "branch7x7_2", "branch7x7_3"}, x);
  const auto bd = g.chain(
      p, {"branch7x7dbl_1", "branch7x7dbl_2", "branch7x7dbl_3", "branch7x7dbl_4", "branch7x7dbl_5"},
      x);
  const auto pool = g.conv(p + ".branch_pool", g.avgPool3x3(p + ".avg_pool", x));
  return g.concat(p, {b1, b7, bd, pool});
}

std::string inceptionD(GraphWriter& g, const std::string& p, const std::string& x) {
  const auto b3 = g.chain(p, {"branch3x3_1", "branch3x3_2"}, x);
  const auto b7 =
      g.chain(p, {"branch7x7x3_1", "branch7x7x3_2", "branch7x7x3_3", "branch7x7x3_4"}, x);
  const auto pool = g.maxPool3x3Stride2(p + ".max_pool", x);
  return g.concat(p, {b3, b7, pool});
}

// forward() concatenates 1x1, (3x3_2a, 3x3_2b), (3x3dbl_3a, 3x3dbl_3b), pool: one Concat here.
std::string inceptionE(GraphWriter& g, const std::string& p, const std::string& x) {
  const auto b1 = g.conv(p + ".branch1x1", x);
  const auto b3 = g.conv(p + ".branch3x3_1", x);
  const auto b3a = g.conv(p + ".branch3x3_2a", b3);
  const auto b3b = g.conv(p + ".branch3x3_2b", b3);
  const auto bd = g.chain(p, {"branch3x3dbl_1", "branch3x3dbl_2"}, x);
  const auto bda = g.conv(p + ".branch3x3dbl_3a", bd);
  const auto bdb = g.conv(p + ".branch3x3dbl_3b", bd);
  const auto pool = g.conv(p + ".branch_pool", g.avgPool3x3(p + ".avg_pool", x));
  return g.concat(p, {b1, b3a, b3b, bda, bdb, pool});
}

void writeNetwork(GraphWriter& g) {
  std::string x = g.conv("Conv2d_1a_3x3", "image");
  x = g.conv("Conv2d_2a_3x3", x);
  x = g.conv("Conv2d_2b_3x3", x);
  x = g.maxPool3x3Stride2("maxpool1", x);
  x = g.conv("Conv2d_3b_1x1", x);
  x = g.conv("Conv2d_4a_3x3", x);
  x = g.maxPool3x3Stride2("maxpool2", x);
  for (const char* block : {"Mixed_5b", "Mixed_5c", "Mixed_5d"}) {
    x = inceptionA(g, block, x);
  }
  x = inceptionB(g, "Mixed_6a", x);
  for (const char* block : {"Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"}) {
    x = inceptionC(g, block, x);
  }
  x = inceptionD(g, "Mixed_7a", x);
  for (const char* block : {"Mixed_7b", "Mixed_7c"}) {
    x = inceptionE(g, block, x);
  }
  x = g.node("GlobalAveragePool", {x}, "avgpool");
  x = g.node("Flatten", {x}, "features", {{"axis", std::int64_t{1}}});
  x = g.linear("fc", x, "logits");
  g.node("Softmax", {x}, "probabilities", {{"axis", std::int64_t{1}}});
}

void describe(OnnxModel& model, const model::InceptionSettings& s,
              const OnnxProvenance& provenance) {
  model.graphName = "taxon_inception_v3";
  model.producerVersion = core::kVersion;
  model.doc = "Inception-v3 trained by Taxon; the categories and preprocessing are in the metadata";
  model.inputs = {{"image",
                   {-1, 3, s.imageSize, s.imageSize},
                   "RGB, the central crop resized to the input size, scaled to [-1, 1]"}};
  model.outputs = {{"logits", {-1, s.numClasses}, "one score per category, label order"},
                   {"probabilities", {-1, s.numClasses}, "softmax of the logits"}};
  const nlohmann::json preprocessing = {
      {"central_crop_fraction", provenance.centralCropFraction},
      {"resize", "bilinear, to image_size x image_size"},
      {"channels", "RGB"},
      {"layout", "NCHW"},
      {"scale", "x / 127.5 - 1"},
  };
  model.metadata = {
      {"taxon.categories", nlohmann::json(provenance.categories).dump()},
      {"taxon.image_size", std::to_string(s.imageSize)},
      {"taxon.preprocessing", preprocessing.dump()},
      {"taxon.run", provenance.run},
      {"taxon.checkpoint", provenance.checkpoint},
      {"taxon.step", std::to_string(provenance.step)},
      {"taxon.version", core::kVersion},
  };
}

}  // namespace

OnnxModel inceptionToOnnx(const model::InceptionV3Impl& net, const OnnxProvenance& provenance) {
  const auto& s = net.settings();
  if (static_cast<std::int64_t>(provenance.categories.size()) != s.numClasses) {
    throw core::Error("ONNX export: " + std::to_string(provenance.categories.size()) +
                      " category names for a classifier of " + std::to_string(s.numClasses));
  }
  torch::NoGradGuard noGrad;
  GraphWriter g(net);
  writeNetwork(g);
  describe(g.model(), s, provenance);
  return std::move(g.model());
}

OnnxExportResult exportOnnx(const fs::path& checkpointDir, const fs::path& output,
                            const OnnxExportOptions& options, std::stop_token stop,
                            const core::ProgressFn& progress) {
  core::checkWritableFile(output);  // before loading anything
  const auto trained = checkpoint::loadTrainedModel(checkpointDir, "cpu");
  OnnxProvenance provenance;
  provenance.categories = trained.categories;
  provenance.centralCropFraction = data::PreprocessSettings{}.centralFraction;
  provenance.run = trained.checkpoint.parent_path().filename().string();
  provenance.checkpoint = trained.checkpoint.filename().string();
  provenance.step = trained.step;
  OnnxExportResult out;
  out.checkpoint = trained.checkpoint;
  out.step = trained.step;
  out.categories = trained.categories.size();
  out.imageSize = trained.model->settings().imageSize;
  OnnxModel model = inceptionToOnnx(*trained.model, provenance);
  if (options.int8) {
    const fs::path dataDir = options.dataDir.empty() ? trained.settings.dataDir : options.dataDir;
    const records::RecordSet records = records::openRecordSet(dataDir);
    const auto calibration = calibrate(model, records, options.calibration, stop, progress);
    if (stop.stop_requested()) {
      out.stopped = true;
      return out;
    }
    out.calibrationImages = calibration.images;
    model = quantizeInt8(model, calibration.ranges, options.quantize);
    model.metadata.emplace_back("taxon.calibration_images", std::to_string(calibration.images));
  }
  out.bytes = writeOnnx(model, output);
  return out;
}

}  // namespace taxon::deploy
