// A tiny trained model without training: an Inception network of tinyRun's size whose weights are
// drawn at random, saved as a real checkpoint, and the reference computation the evaluation and
// classification tests check the engine against (the model's own outputs on the same images).
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "TrainTestData.hpp"
#include "checkpoint/Checkpoint.hpp"
#include "checkpoint/TrainedModel.hpp"
#include "data/Batch.hpp"
#include "data/InceptionPreprocess.hpp"
#include "data/torch/BatchTensors.hpp"
#include "model/TorchvisionWeights.hpp"
#include "records/ImageExample.hpp"
#include "records/RecordFile.hpp"
#include "settings/TrainSettingsJson.hpp"

namespace taxon::test {

// The images of one shard, as stored.
inline std::vector<records::ImageExample> readExamples(const std::filesystem::path& shard) {
  std::vector<records::ImageExample> out;
  records::RecordReader reader(shard);
  std::string payload;
  while (reader.next(payload)) {
    out.push_back(records::decodeExample(payload));
  }
  return out;
}

// The encoded images after the evaluation preprocessing, as the network takes them: float
// N x 3 x side x side in [-1, 1].
inline at::Tensor evalInputs(const std::vector<std::string>& encoded, int side) {
  data::PreprocessSettings preprocessSettings;
  preprocessSettings.height = side;
  preprocessSettings.width = side;
  const data::InceptionPreprocess preprocess(preprocessSettings);
  const std::size_t imageBytes = static_cast<std::size_t>(side) * side * 3;
  data::Batch batch;
  batch.size = static_cast<int>(encoded.size());
  batch.height = side;
  batch.width = side;
  batch.images.resize(imageBytes * encoded.size());
  batch.labels.assign(encoded.size(), 0);
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    cv::Mat out(side, side, CV_8UC3, batch.images.data() + i * imageBytes);
    preprocess.eval(encoded[i], out, "image " + std::to_string(i));
  }
  return data::toTensors(batch).images;
}

// Batch norm as training leaves it, not the identity: statistics measured on `inputs` (so that
// activations keep a trained network's scale through all the layers), and scales and shifts drawn
// per channel.
inline void setTrainedBatchNorm(torch::nn::Module& net, const torch::Tensor& inputs) {
  torch::NoGradGuard noGrad;
  std::vector<torch::nn::BatchNorm2dImpl*> norms;
  for (const auto& module : net.modules(/*include_self=*/false)) {
    if (auto* bn = module->as<torch::nn::BatchNorm2dImpl>()) {
      bn->weight.uniform_(0.6, 1.4);
      bn->bias.normal_(0.0, 0.2);
      bn->options.momentum(1.0);  // running statistics = this batch's
      norms.push_back(bn);
    }
  }
  net.train();
  net.as<model::InceptionV3Impl>()->forward(inputs);
  for (auto* bn : norms) {
    bn->options.momentum(0.1);
  }
  net.eval();
}

// Softmax outputs (N x C) of the checkpoint's model on the encoded images, preprocessed for
// evaluation: what evaluation and classification must agree with.
inline at::Tensor referenceProbabilities(const std::filesystem::path& trainDir,
                                         const std::vector<std::string>& encoded) {
  auto trained = checkpoint::loadTrainedModel(trainDir, "cpu");
  const auto inputs = evalInputs(encoded, static_cast<int>(trained.settings.imageSize));
  torch::NoGradGuard noGrad;
  return torch::softmax(trained.model->forward(inputs).logits, 1);
}

// TRAIN_DIR/model.ckpt-STEP.taxon: tinyRun's network for the four categories with random weights,
// its classifier's bias centred on the images of DATA_DIR's shard `split`, so that different
// images get different top-1 classes (a freshly drawn network gives everything the same one).
inline void writeRandomCheckpoint(const std::filesystem::path& trainDir,
                                  const std::filesystem::path& dataDir, std::int64_t step = 7,
                                  const std::string& split = "validation") {
  const settings::TrainSettings s = tinyRun(trainDir, dataDir);
  torch::manual_seed(11);
  model::InceptionV3 net(checkpoint::modelSettings(s, 4));
  {
    torch::NoGradGuard noGrad;
    net->named_parameters()["fc.weight"].mul_(40.0);
  }
  checkpoint::CheckpointData data;
  data.step = step;
  data.settingsJson = settings::toJson(s).dump();
  data.categories = fourCategories();
  for (const auto& item : model::stateDict(*net)) {
    data.model.emplace_back(item.key(), item.value().clone());
    data.average.emplace_back(item.key(), item.value().clone());
  }
  std::filesystem::create_directories(trainDir);
  checkpoint::saveCheckpoint(trainDir, data, 5);

  // Log-probabilities are the logits less one number per image: subtracting their mean over the
  // images from the bias centres every class's logit, which leaves each image's top-1 to what
  // sets it apart.
  std::vector<std::string> encoded;
  for (const auto& example : readExamples(dataDir / (split + "-00000-of-00001"))) {
    encoded.push_back(example.encoded);
  }
  const at::Tensor shift = referenceProbabilities(trainDir, encoded).log().mean(0);
  for (auto* tensors : {&data.model, &data.average}) {
    for (auto& [name, tensor] : *tensors) {
      if (name == "fc.bias") {
        tensor = tensor - shift;
      }
    }
  }
  checkpoint::saveCheckpoint(trainDir, data, 5);
}

}  // namespace taxon::test
