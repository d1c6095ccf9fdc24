#include "infer/Classifier.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

#include "checkpoint/TrainedModel.hpp"
#include "core/Error.hpp"
#include "core/torch/Device.hpp"
#include "data/InceptionPreprocess.hpp"
#include "data/torch/BatchTensors.hpp"
#include "deploy/torch/GraphRunner.hpp"
#include "deploy/torch/InceptionOnnx.hpp"

namespace taxon::infer {

namespace fs = std::filesystem;

struct Classifier::State {
  checkpoint::TrainedModel trained;
  ClassifierSettings settings;
  c10::Device device{c10::kCPU};
  std::unique_ptr<data::InceptionPreprocess> preprocess;
  std::unique_ptr<deploy::GraphRunner> runner;
  std::int64_t featureSize = 0;

  // Softmax scores (N x categories, on the CPU) for preprocessed images; with `features`, the
  // pooled features (N x featureSize, float32 on the CPU) too.
  torch::Tensor probabilities(const torch::Tensor& images,
                              torch::Tensor* features = nullptr) const {
    if (features == nullptr) {
      return runner->run(images).at(1).to(torch::kCPU);
    }
    const auto outputs =
        runner->run(images, {"features"}, [&](const std::string&, const at::Tensor& value) {
          *features = value.to(torch::kCPU, torch::kFloat).contiguous();
        });
    return outputs.at(1).to(torch::kCPU);
  }
};

Classifier::Classifier(const fs::path& checkpointDir, ClassifierSettings settings)
    : state_(std::make_unique<State>()) {
  state_->settings = settings;
  state_->device = core::parseDevice(settings.device);
  state_->trained = checkpoint::loadTrainedModel(checkpointDir, settings.device);
  deploy::OnnxProvenance provenance;
  provenance.categories = state_->trained.categories;
  deploy::RunnerSettings runner;
  runner.device = state_->device;
  runner.precision = deploy::parsePrecision(settings.precision, state_->device);
  state_->runner = std::make_unique<deploy::GraphRunner>(
      deploy::inceptionToOnnx(*state_->trained.model, provenance), runner);
  state_->featureSize = state_->trained.model->numFeatures();
  state_->trained.model = nullptr;  // the runner holds the folded weights it needs
  data::PreprocessSettings preprocess;
  preprocess.height = static_cast<int>(state_->trained.settings.imageSize);
  preprocess.width = preprocess.height;
  state_->preprocess = std::make_unique<data::InceptionPreprocess>(preprocess);
}

Classifier::~Classifier() = default;

const std::vector<std::string>& Classifier::categories() const {
  return state_->trained.categories;
}
std::int64_t Classifier::step() const {
  return state_->trained.step;
}
const fs::path& Classifier::checkpoint() const {
  return state_->trained.checkpoint;
}
const std::vector<std::string>& Classifier::warnings() const {
  return state_->trained.warnings;
}
int Classifier::inputSize() const {
  return state_->preprocess->settings().height;
}
std::int64_t Classifier::featureSize() const {
  return state_->featureSize;
}
const char* Classifier::precision() const {
  return deploy::precisionName(state_->runner->settings().precision);
}

namespace {

std::string readFile(const fs::path& path) {
  std::error_code error;
  if (fs::is_directory(path, error)) {
    core::throwFileError(path, "is a folder, not an image file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    core::throwFileError(path, "cannot be read: " + core::errnoText(errno));
  }
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (bytes.str().empty()) {
    core::throwFileError(path, "is empty");
  }
  return bytes.str();
}

}  // namespace

std::vector<Classification> Classifier::classifyFiles(const std::vector<fs::path>& files, int topK,
                                                      std::stop_token stop,
                                                      const core::ProgressFn& progress) {
  auto& s = *state_;
  const int side = s.preprocess->settings().height;
  const std::size_t imageBytes = static_cast<std::size_t>(side) * side * 3;
  const auto k = std::clamp<std::int64_t>(topK, 1, static_cast<std::int64_t>(categories().size()));
  const int threads = s.settings.decodeThreads > 0
                          ? s.settings.decodeThreads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const auto batchSize = static_cast<std::size_t>(std::max(1, s.settings.batchSize));

  std::vector<Classification> results(files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    results[i].path = files[i];
  }
  torch::NoGradGuard noGrad;
  for (std::size_t first = 0; first < files.size(); first += batchSize) {
    const std::size_t count = std::min(batchSize, files.size() - first);
    if (stop.stop_requested()) {
      for (std::size_t i = first; i < files.size(); ++i) {
        results[i].error = "cancelled";
      }
      break;
    }
    // Decode and preprocess in parallel, each image into its place in the batch.
    std::vector<std::uint8_t> pixels(imageBytes * count);
    std::vector<char> ok(count, 0);
    {
      std::vector<std::jthread> workers;
      const int n = std::min<int>(threads, static_cast<int>(count));
      for (int t = 0; t < n; ++t) {
        workers.emplace_back([&, t] {
          for (std::size_t j = static_cast<std::size_t>(t); j < count;
               j += static_cast<std::size_t>(n)) {
            Classification& r = results[first + j];
            try {
              const std::string bytes = readFile(r.path);
              cv::Mat out(side, side, CV_8UC3, pixels.data() + j * imageBytes);
              s.preprocess->eval(bytes, out, r.path.string());
              ok[j] = 1;
            } catch (const std::exception& e) {
              r.error = e.what();
            }
          }
        });
      }
    }
    // Pack the good ones into one batch.
    data::Batch batch;
    batch.height = side;
    batch.width = side;
    std::vector<std::size_t> where;
    for (std::size_t j = 0; j < count; ++j) {
      if (ok[j] != 0) {
        batch.images.insert(batch.images.end(), pixels.begin() + j * imageBytes,
                            pixels.begin() + (j + 1) * imageBytes);
        batch.labels.push_back(0);
        where.push_back(first + j);
      }
    }
    batch.size = static_cast<int>(where.size());
    if (batch.size > 0) {
      const auto tensors = data::toTensors(batch, s.device);
      torch::Tensor features;
      const auto probabilities =
          s.probabilities(tensors.images, s.settings.features ? &features : nullptr);
      const auto [scores, indices] = probabilities.topk(k, 1);
      const auto scoreAt = scores.accessor<float, 2>();
      const auto indexAt = indices.accessor<std::int64_t, 2>();
      for (std::size_t b = 0; b < where.size(); ++b) {
        auto& top = results[where[b]].top;
        for (std::int64_t r = 0; r < k; ++r) {
          const auto c = indexAt[static_cast<std::int64_t>(b)][r];
          top.push_back({c, categories()[static_cast<std::size_t>(c)],
                         static_cast<double>(scoreAt[static_cast<std::int64_t>(b)][r])});
        }
        if (features.defined()) {
          const float* row = features[static_cast<std::int64_t>(b)].data_ptr<float>();
          results[where[b]].features.assign(row, row + features.size(1));
        }
      }
    }
    if (progress) {
      progress({"classify", static_cast<std::int64_t>(first + count),
                static_cast<std::int64_t>(files.size()), "images"});
    }
  }
  return results;
}

Classification Classifier::classifyBytes(const std::string& bytes, const std::string& name,
                                         int topK) {
  // Through a temporary file would be wasteful: preprocess straight from memory.
  auto& s = *state_;
  Classification result;
  result.path = name;
  const int side = s.preprocess->settings().height;
  data::Batch batch;
  batch.size = 1;
  batch.height = side;
  batch.width = side;
  batch.images.resize(static_cast<std::size_t>(side) * side * 3);
  batch.labels = {0};
  try {
    cv::Mat out(side, side, CV_8UC3, batch.images.data());
    s.preprocess->eval(bytes, out, name);
  } catch (const std::exception& e) {
    result.error = e.what();
    return result;
  }
  torch::NoGradGuard noGrad;
  const auto k = std::clamp<std::int64_t>(topK, 1, static_cast<std::int64_t>(categories().size()));
  torch::Tensor features;
  const auto probabilities = s.probabilities(data::toTensors(batch, s.device).images,
                                             s.settings.features ? &features : nullptr);
  const auto [scores, indices] = probabilities.topk(k, 1);
  for (std::int64_t r = 0; r < k; ++r) {
    const auto c = indices[0][r].item<std::int64_t>();
    result.top.push_back(
        {c, categories()[static_cast<std::size_t>(c)], scores[0][r].item<double>()});
  }
  if (features.defined()) {
    const float* row = features.data_ptr<float>();
    result.features.assign(row, row + features.size(1));
  }
  return result;
}

}  // namespace taxon::infer
