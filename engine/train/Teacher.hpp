// The teacher of a distillation run (settings.teacherDir): another run's trained model in
// evaluation form (its averaged weights and their batch-norm statistics, as `taxon eval` uses
// it), computing its logits on the student's augmented batch. Each replica holds its own on its
// device. The teacher is identified by its checkpoint's step and a checksum of the weights it
// loads, recorded in the student's settings when the run starts and checked when it resumes.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "model/InceptionV3.hpp"
#include "model/ModelSize.hpp"
#include "settings/TrainSettings.hpp"

namespace taxon::train {

class Teacher {
 public:
  // Loads the checkpoint `settings` name: teacherDir itself when it is a file, else its
  // model.ckpt-STEP.taxon for a recorded teacherStep, else its newest. Throws core::Error naming
  // the teacher when it is missing, was trained on other categories than `categories` (same
  // names, same order), or is not the recorded one (another checksum).
  Teacher(const settings::TrainSettings& settings, const std::vector<std::string>& categories,
          const c10::Device& device, bool channelsLast);

  // float logits N x categories for `images` (the student's batch, in [-1, 1]), resized to the
  // teacher's input side when that differs; no gradient. bf16 autocast when asked.
  at::Tensor logits(const at::Tensor& images, bool bf16);

  std::int64_t step() const { return step_; }
  const std::string& fingerprint() const { return fingerprint_; }
  const std::filesystem::path& checkpoint() const { return checkpoint_; }
  const settings::TrainSettings& settings() const { return settings_; }
  std::int64_t imageSize() const { return settings_.imageSize; }
  model::ModelSize size() { return model::measureModel(net_); }

 private:
  model::InceptionV3 net_{nullptr};
  settings::TrainSettings settings_;  // the teacher's own
  std::filesystem::path checkpoint_;
  std::int64_t step_ = 0;
  std::string fingerprint_;
};

// A new distillation run's record of its teacher: settings.teacherStep and teacherFingerprint
// from the checkpoint Teacher would load now (its newest), unless already recorded. Loads the
// teacher once on the CPU; throws as Teacher does.
void recordTeacher(settings::TrainSettings& settings, const std::vector<std::string>& categories);

// The settings of the run `teacher` names (a train dir's settings.json, or a checkpoint file's
// own). Throws core::Error naming it when there are none.
settings::TrainSettings readTeacherSettings(const std::filesystem::path& teacher);

// A checksum of a module's parameters and buffers (CRC-32C of their bytes in name order, as
// 8 hex digits): the same weights give the same text on any machine.
std::string weightsFingerprint(torch::nn::Module& module);

// `images` (N x C x H x W) resized to side x side: bilinear with antialiasing (a smaller side
// averages like the loader's resize), unchanged when the side is already that.
at::Tensor resizeBatch(const at::Tensor& images, std::int64_t side);

}  // namespace taxon::train
