#include "train/Teacher.hpp"

#include <torch/torch.h>

#include <cstdio>

#include <nlohmann/json.hpp>

#include "checkpoint/Checkpoint.hpp"
#include "checkpoint/CheckpointFiles.hpp"
#include "checkpoint/TrainedModel.hpp"
#include "core/Error.hpp"
#include "records/Crc32c.hpp"
#include "settings/TrainSettingsJson.hpp"
#include "train/RunDirectory.hpp"
#include "train/StepPrecision.hpp"

namespace taxon::train {

namespace fs = std::filesystem;

namespace {

// The file a distillation run's teacher comes from.
fs::path teacherCheckpoint(const settings::TrainSettings& settings) {
  const fs::path& dir = settings.teacherDir;
  std::error_code error;
  if (!fs::exists(dir, error)) {
    core::throwFileError(dir,
                         "does not exist (the teacher: a train dir, or one of its "
                         "model.ckpt-STEP.taxon files)");
  }
  if (!fs::is_directory(dir, error) || settings.teacherStep == 0) {
    return dir;  // loadTrainedModel takes the newest readable checkpoint of a folder
  }
  const fs::path file = dir / checkpoint::checkpointFileName(settings.teacherStep);
  if (!fs::exists(file, error)) {
    const auto newest = checkpoint::newestCheckpoint(dir);
    core::throwFileError(
        dir, "no longer holds " + file.filename().string() + ", the teacher checkpoint this run " +
                 "learns from (step " + std::to_string(settings.teacherStep) + ")" +
                 (newest ? "; its checkpoints now end at step " + std::to_string(newest->step) +
                               " (a run keeps only its newest --keep_checkpoints)"
                         : "; it holds no checkpoint") +
                 ". Resume needs that teacher: put the file back, or distil again in a new "
                 "--train_dir");
  }
  return file;
}

}  // namespace

settings::TrainSettings readTeacherSettings(const fs::path& teacher) {
  std::error_code error;
  if (!fs::exists(teacher, error)) {
    core::throwFileError(teacher,
                         "does not exist (the teacher: a train dir, or one of its "
                         "model.ckpt-STEP.taxon files)");
  }
  if (fs::is_directory(teacher, error)) {
    if (!findRunFiles(teacher).settings) {
      core::throwFileError(teacher, "holds no training run (no settings.json) to learn from");
    }
    return readRunSettings(teacher);
  }
  const auto data = checkpoint::readCheckpoint(teacher, checkpoint::CheckpointParts::Inference);
  return settings::trainSettingsFromJson(nlohmann::json::parse(data.settingsJson));
}

std::string weightsFingerprint(torch::nn::Module& module) {
  std::uint32_t crc = 0;
  const auto add = [&crc](const std::string& name, const torch::Tensor& tensor) {
    crc = records::crc32c(name.data(), name.size(), crc);
    const auto bytes = tensor.detach().to(torch::kCPU).contiguous();
    crc = records::crc32c(bytes.data_ptr(), bytes.nbytes(), crc);
  };
  for (const auto& item : module.named_parameters()) {
    add(item.key(), item.value());
  }
  for (const auto& item : module.named_buffers()) {
    add(item.key(), item.value());
  }
  char text[16];
  std::snprintf(text, sizeof text, "%08x", crc);
  return text;
}

at::Tensor resizeBatch(const at::Tensor& images, std::int64_t side) {
  if (images.size(-1) == side && images.size(-2) == side) {
    return images;
  }
  namespace F = torch::nn::functional;
  return F::interpolate(images, F::InterpolateFuncOptions()
                                    .size(std::vector<std::int64_t>{side, side})
                                    .mode(torch::kBilinear)
                                    .align_corners(false)
                                    .antialias(true));
}

Teacher::Teacher(const settings::TrainSettings& settings,
                 const std::vector<std::string>& categories, const c10::Device& device,
                 bool channelsLast) {
  const fs::path file = teacherCheckpoint(settings);
  // Built under model::weightInitMutex, so that it cannot change another replica's seeded
  // initial weights.
  auto trained = checkpoint::loadTrainedModel(file, "cpu");
  if (trained.categories != categories) {
    std::string difference;
    if (trained.categories.size() != categories.size()) {
      difference = std::to_string(trained.categories.size()) + " categories, the data " +
                   std::to_string(categories.size());
    } else {
      for (std::size_t i = 0; i < categories.size(); ++i) {
        if (trained.categories[i] != categories[i]) {
          difference = "category " + std::to_string(i) + " is '" + trained.categories[i] +
                       "', the data's '" + categories[i] + "'";
          break;
        }
      }
    }
    core::throwFileError(settings.teacherDir,
                         "was trained on other categories than the data's (" + difference +
                             "): a teacher must know the data's categories, in the same order "
                             "(train it on the same records, or on a project's records built "
                             "with the same categories)");
  }
  net_ = trained.model;
  settings_ = trained.settings;
  checkpoint_ = trained.checkpoint;
  step_ = trained.step;
  fingerprint_ = weightsFingerprint(*net_);
  if (settings.teacherStep != 0 &&
      (step_ != settings.teacherStep ||
       (!settings.teacherFingerprint.empty() && fingerprint_ != settings.teacherFingerprint))) {
    core::throwFileError(checkpoint_,
                         "is not the teacher this run learns from (step " + std::to_string(step_) +
                             ", weights " + fingerprint_ + "; the run recorded step " +
                             std::to_string(settings.teacherStep) + ", weights " +
                             settings.teacherFingerprint +
                             "). Resume needs that teacher, or distil again in a new --train_dir");
  }
  net_->to(device);
  if (channelsLast) {
    toChannelsLast(*net_);
  }
  net_->eval();
  for (auto& p : net_->parameters()) {
    p.set_requires_grad(false);
  }
}

at::Tensor Teacher::logits(const at::Tensor& images, bool bf16) {
  torch::NoGradGuard noGrad;
  const Autocast autocast(images.device().type(), bf16);
  return net_->forward(resizeBatch(images, settings_.imageSize)).logits.to(torch::kFloat);
}

void recordTeacher(settings::TrainSettings& settings, const std::vector<std::string>& categories) {
  if (!settings.distilling() || settings.teacherStep != 0) {
    return;
  }
  const Teacher teacher(settings, categories, c10::Device(c10::kCPU), false);
  settings.teacherStep = teacher.step();
  settings.teacherFingerprint = teacher.fingerprint();
}

}  // namespace taxon::train
