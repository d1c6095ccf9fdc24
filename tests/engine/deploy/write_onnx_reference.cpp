// Writes a trained-looking run and Taxon's own outputs on real images, for onnx_runtime.py, which
// exports the run with `taxon export --format onnx` and checks ONNX Runtime against them:
//
//   taxon_write_onnx_reference DIR DEPTH_MULTIPLIER IMAGE_SIZE CATEGORIES AUX(0|1) IMAGES
//
// DIR/run/model.ckpt-STEP.taxon: a network of that size with random weights, batch-norm statistics
// measured on the images and random batch-norm scales and shifts (so that folding them into the
// convolutions is exercised), the same weights as its "average". DIR/images/NN.jpg (or .png):
// IMAGES pictures of varied sizes. DIR/inputs.f32: those images after Taxon's evaluation
// preprocessing (N x 3 x S x S, float32), DIR/logits.f32: the checkpoint's model (as evaluation
// loads it) on them (N x C, float32), DIR/reference.json: {"images", "categories", "image_size",
// "step"}.
#include <torch/torch.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "TestFiles.hpp"
#include "TinyModel.hpp"
#include "checkpoint/Checkpoint.hpp"
#include "checkpoint/TrainedModel.hpp"
#include "model/TorchvisionWeights.hpp"
#include "settings/TrainSettingsJson.hpp"

namespace {

namespace fs = std::filesystem;
using namespace taxon;

void writeFloats(const fs::path& path, const torch::Tensor& t) {
  const auto c = t.to(torch::kFloat).contiguous();
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(c.data_ptr<float>()),
            static_cast<std::streamsize>(c.numel() * sizeof(float)));
}

std::vector<std::string> categoryNames(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    out.push_back("Level " + std::to_string(i % 3) + " > Category " + std::to_string(i));
  }
  return out;
}

void writeCheckpoint(const fs::path& runDir, const settings::TrainSettings& s,
                     const std::vector<std::string>& categories, const torch::Tensor& inputs) {
  torch::manual_seed(5);
  model::InceptionV3 net(
      checkpoint::modelSettings(s, static_cast<std::int64_t>(categories.size())));
  test::setTrainedBatchNorm(*net, inputs);
  checkpoint::CheckpointData data;
  data.step = 42;
  data.settingsJson = settings::toJson(s).dump();
  data.categories = categories;
  for (const auto& item : model::stateDict(*net)) {
    data.model.emplace_back(item.key(), item.value().clone());
    data.average.emplace_back(item.key(), item.value().clone());
  }
  fs::create_directories(runDir);
  checkpoint::saveCheckpoint(runDir, data, 5);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: %s DIR DEPTH_MULTIPLIER IMAGE_SIZE CATEGORIES AUX IMAGES\n",
                 argv[0]);
    return 2;
  }
  const fs::path dir = argv[1];
  settings::TrainSettings s;
  s.trainDir = dir / "run";
  s.depthMultiplier = std::stod(argv[2]);
  s.imageSize = std::stoi(argv[3]);
  s.auxLogits = std::string(argv[5]) == "1";
  const auto categories = categoryNames(std::stoi(argv[4]));
  const int count = std::stoi(argv[6]);
  torch::set_num_threads(2);

  std::vector<std::string> images, encoded, calibration;
  fs::create_directories(dir / "images");
  for (int i = 0; i < count; ++i) {
    // Varied sizes and both codecs; the central crop and the resize differ for each.
    const int width = 90 + 37 * i, height = 120 + 23 * (i % 4);
    const bool png = i % 3 == 2;
    encoded.push_back(png ? test::makePng(width, height, 100 + i)
                          : test::makeJpeg(width, height, 100 + i));
    const auto path =
        dir / "images" / ((i < 10 ? "0" : "") + std::to_string(i) + (png ? ".png" : ".jpg"));
    test::writeFile(path, encoded.back());
    images.push_back(path.string());
  }
  for (int i = 0; i < 32; ++i) {  // batch-norm statistics from other pictures than the tested
    calibration.push_back(test::makeJpeg(100 + 7 * i, 110 + 5 * i, 1000 + i));
  }
  const auto inputs = test::evalInputs(encoded, static_cast<int>(s.imageSize));
  writeCheckpoint(s.trainDir, s, categories,
                  test::evalInputs(calibration, static_cast<int>(s.imageSize)));
  auto trained = checkpoint::loadTrainedModel(s.trainDir, "cpu");
  torch::NoGradGuard noGrad;
  const auto logits = trained.model->forward(inputs).logits;
  // The same network in double precision: how far float32 itself is from exact.
  trained.model->to(torch::kDouble);
  const auto exact = trained.model->forward(inputs.to(torch::kDouble)).logits;
  writeFloats(dir / "exact.f32", exact);
  writeFloats(dir / "inputs.f32", inputs);
  writeFloats(dir / "logits.f32", logits);
  const nlohmann::json reference = {{"images", images},
                                    {"categories", categories},
                                    {"image_size", s.imageSize},
                                    {"step", trained.step}};
  std::ofstream(dir / "reference.json") << reference.dump(1);
  return 0;
}
