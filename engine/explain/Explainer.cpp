#include "explain/Explainer.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <opencv2/imgproc.hpp>

#include "checkpoint/TrainedModel.hpp"
#include "core/Error.hpp"
#include "core/Files.hpp"
#include "core/torch/Device.hpp"
#include "data/InceptionPreprocess.hpp"
#include "data/torch/BatchTensors.hpp"
#include "explain/GradCam.hpp"
#include "image/ImageDecode.hpp"

namespace taxon::explain {

namespace fs = std::filesystem;

cv::Mat overlay(const cv::Mat& view, const cv::Mat& heat, double opacity) {
  if (view.type() != CV_8UC3 || heat.type() != CV_32F || view.size() != heat.size()) {
    throw core::Error("overlay: the picture and its heat map differ in size or type");
  }
  cv::Mat heat8;
  heat.convertTo(heat8, CV_8U, 255.0);
  cv::Mat colours;
  cv::applyColorMap(heat8, colours, cv::COLORMAP_JET);
  // The colour's weight grows with the heat, so the picture stays readable where the model did
  // not look.
  cv::Mat weight;
  heat.convertTo(weight, CV_32F, opacity);
  weight = 0.25 * opacity + 0.75 * weight;
  cv::Mat weight3;
  cv::merge(std::vector<cv::Mat>{weight, weight, weight}, weight3);
  cv::Mat viewF, coloursF;
  view.convertTo(viewF, CV_32FC3);
  colours.convertTo(coloursF, CV_32FC3);
  cv::Mat blended = viewF.mul(cv::Scalar::all(1.0) - weight3) + coloursF.mul(weight3);
  cv::Mat out;
  blended.convertTo(out, CV_8UC3);
  return out;
}

struct Explainer::State {
  checkpoint::TrainedModel trained;
  c10::Device device{c10::kCPU};
  std::unique_ptr<data::InceptionPreprocess> preprocess;
  model::MixedBlock block = model::MixedBlock::Mixed7c;
};

Explainer::Explainer(const fs::path& checkpointDir, const std::string& device)
    : state_(std::make_unique<State>()) {
  state_->device = core::parseDevice(device);
  state_->trained = checkpoint::loadTrainedModel(checkpointDir, device);
  state_->trained.model->eval();
  data::PreprocessSettings preprocess;
  preprocess.height = static_cast<int>(state_->trained.settings.imageSize);
  preprocess.width = preprocess.height;
  state_->preprocess = std::make_unique<data::InceptionPreprocess>(preprocess);
  state_->block = explainedBlock(preprocess.height);
}

Explainer::~Explainer() = default;

const std::vector<std::string>& Explainer::categories() const {
  return state_->trained.categories;
}
std::int64_t Explainer::step() const {
  return state_->trained.step;
}
const fs::path& Explainer::checkpoint() const {
  return state_->trained.checkpoint;
}
int Explainer::inputSize() const {
  return state_->preprocess->settings().height;
}
void Explainer::setBlock(const std::string& name) {
  if (name == "auto" || name.empty()) {
    state_->block = explainedBlock(inputSize());
    return;
  }
  for (const auto block :
       {model::MixedBlock::Mixed7c, model::MixedBlock::Mixed6e, model::MixedBlock::Mixed5d}) {
    if (name == model::mixedBlockName(block)) {
      state_->block = block;
      return;
    }
  }
  throw core::Error("unknown block \"" + name + "\": " + kBlockChoices);
}

std::string Explainer::block() const {
  return model::mixedBlockName(state_->block);
}

Explanation Explainer::explainFile(const fs::path& file, int topK,
                                   const std::vector<std::int64_t>& extra) {
  std::string bytes;
  try {
    bytes = core::readFile(file);
  } catch (const std::exception& e) {
    Explanation failed;
    failed.path = file;
    failed.error = e.what();
    return failed;
  }
  return explainBytes(bytes, file.string(), topK, extra);
}

Explanation Explainer::explainBytes(const std::string& bytes, const std::string& name, int topK,
                                    const std::vector<std::int64_t>& extra) {
  auto& s = *state_;
  Explanation result;
  result.path = name;
  const auto classes = static_cast<std::int64_t>(categories().size());
  for (const auto c : extra) {
    if (c < 0 || c >= classes) {
      result.error = name + ": category " + std::to_string(c) + " is not one of the model's " +
                     std::to_string(classes);
      return result;
    }
  }
  const int side = inputSize();
  data::Batch batch;
  batch.size = 1;
  batch.height = side;
  batch.width = side;
  batch.images.resize(static_cast<std::size_t>(side) * side * 3);
  batch.labels = {0};
  try {
    cv::Mat input(side, side, CV_8UC3, batch.images.data());
    s.preprocess->eval(bytes, input, name);
    image::DecodeOptions options;
    options.bgr = true;
    const cv::Mat full = image::decodeImage(bytes, name, options);
    cv::Mat crop = full(s.preprocess->centralCrop(full.cols, full.rows));
    const int longer = std::max(crop.cols, crop.rows);
    const int target = std::clamp(longer, kMinViewSide, kMaxViewSide);
    if (target != longer) {
      const double scale = static_cast<double>(target) / longer;
      cv::resize(crop, result.view,
                 {std::max(1, static_cast<int>(std::lround(crop.cols * scale))),
                  std::max(1, static_cast<int>(std::lround(crop.rows * scale)))},
                 0, 0, target > longer ? cv::INTER_CUBIC : cv::INTER_AREA);
    } else {
      result.view = crop.clone();
    }
  } catch (const std::exception& e) {
    result.error = e.what();
    return result;
  }

  // The top categories first, then the extras.
  const auto images = data::toTensors(batch, s.device).images;
  const auto k = std::clamp<std::int64_t>(topK, 0, std::min<std::int64_t>(5, classes));
  std::vector<std::int64_t> wanted;
  if (k > 0) {
    torch::NoGradGuard noGrad;
    const auto logits = s.trained.model->forward(images).logits.to(torch::kCPU);
    const auto top = std::get<1>(logits.topk(k, 1));
    for (std::int64_t r = 0; r < k; ++r) {
      wanted.push_back(top[0][r].item<std::int64_t>());
    }
  }
  for (const auto c : extra) {
    if (std::find(wanted.begin(), wanted.end(), c) == wanted.end()) {
      wanted.push_back(c);
    }
  }
  const auto block = s.block;
  result.block = model::mixedBlockName(block);
  result.mapSide = static_cast<int>(model::mixedMapSide(block, side));
  const auto cam =
      gradCam(*s.trained.model, images, torch::tensor(wanted, torch::kLong).unsqueeze(0), block);
  for (std::size_t j = 0; j < wanted.size(); ++j) {
    HeatMap heat;
    heat.category = wanted[j];
    heat.name = categories()[static_cast<std::size_t>(wanted[j])];
    heat.score = cam.probabilities[0][wanted[j]].item<double>();
    heat.rank = static_cast<std::int64_t>(j) < k ? static_cast<int>(j) + 1 : 0;
    heat.empty = cam.peaks[0][static_cast<std::int64_t>(j)].item<float>() <= 0.0f;
    const auto map = cam.maps[0][static_cast<std::int64_t>(j)].contiguous();
    const cv::Mat square(side, side, CV_32F, map.data_ptr<float>());
    cv::resize(square, heat.map, result.view.size(), 0, 0, cv::INTER_LINEAR);
    cv::min(cv::max(heat.map, 0.0), 1.0, heat.map);
    result.maps.push_back(std::move(heat));
  }
  return result;
}

}  // namespace taxon::explain
