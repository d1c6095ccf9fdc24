// One replica's training run, top to bottom (see Trainer.hpp for what it does and writes): the
// constructor sets the run up (the run's folder, the data, the network and its update, every
// replica on rank 0's state, the files), run() trains: the steps, their figures, pauses, the
// checkpoints and the evaluations. One object per replica thread; every CUDA call of that thread
// goes to the replica's device while it lives.
#pragma once

#include <c10/core/DeviceGuard.h>

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "data/Loader.hpp"
#include "data/torch/BatchStager.hpp"
#include "dist/Distributed.hpp"
#include "model/InceptionV3.hpp"
#include "records/EventFile.hpp"
#include "records/RecordSet.hpp"
#include "train/AveragedModel.hpp"
#include "train/MetricsLog.hpp"
#include "train/Optimizer.hpp"
#include "train/ReplicaSync.hpp"
#include "train/RunDirectory.hpp"
#include "train/RunState.hpp"
#include "train/Teacher.hpp"
#include "train/TrainStep.hpp"
#include "train/Trainer.hpp"

namespace taxon::train {

class TrainLoop {
 public:
  // Sets the run up; throws core::Error (touching nothing when the folder is refused).
  // `callbacks` must outlive this object.
  TrainLoop(const settings::TrainSettings& settings, bool resume, const TrainCallbacks& callbacks,
            std::stop_token stop, const Replica& replica);
  ~TrainLoop();
  TrainLoop(const TrainLoop&) = delete;
  TrainLoop& operator=(const TrainLoop&) = delete;

  // Trains to the run's end or until stopped, saves, and evaluates at the end.
  TrainResult run();

 private:
  void log(const std::string& text) const;
  ResumePoint openRun(bool resume) const;
  void planLength();
  void buildModel();
  void logModelLine() const;
  void loadTeacher();
  void restoreCheckpoint();
  void startFromLeader();
  void startFiles();
  void joinReplicas();
  data::LoaderSettings loaderSettings() const;
  std::int64_t batchesIn(std::int64_t epoch) const;
  void logPartition() const;
  void startLoader();
  std::optional<data::Batch> nextBatch();
  void checkLabels(const data::Batch& batch) const;
  void trainOn(const data::Batch& batch);
  void afterStep();
  void reportOldest();
  void reportAll();
  void save();
  void evaluate();
  void announceSkippedEvaluation();

  settings::TrainSettings settings_;
  const TrainCallbacks& callbacks_;
  std::stop_token stop_;
  ReplicaSync sync_;
  RunDirectory dir_;
  std::chrono::steady_clock::time_point started_;
  // Every CUDA call of this thread (allocations, kernels, streams, the engine's own kernel) goes
  // to the replica's GPU, not to the process's default cuda:0.
  c10::OptionalDeviceGuard onDevice_;
  TrainResult result_;
  ResumePoint resume_;  // rank 0's checkpoint to continue from, freed once copied
  records::RecordSet records_;
  const records::RecordSplit* trainSplit_ = nullptr;
  bool haveValidation_ = false;
  std::int64_t replicaBatch_ = 0;
  double stepsPerEpoch_ = 0.0;
  std::int64_t batchesPerEpoch_ = 0;  // of the current epoch, on every replica (batchesIn)
  std::int64_t totalSteps_ = 0;
  bool cuda_ = false;
  bool bf16_ = false;
  bool channelsLast_ = false;

  model::InceptionSettings netSettings_;
  model::InceptionV3 net_{nullptr};
  at::Generator dropoutGenerator_;
  NamedTensors parameters_;
  std::vector<bool> decay_;  // per parameter: in the L2 term
  std::optional<Optimizer> optimizer_;
  std::optional<LearningRateSchedule> schedule_;
  std::optional<WeightAverage> average_;  // rank 0 alone
  std::unique_ptr<dist::GradientAverager> averager_;
  std::optional<AveragedModel> averaged_;
  std::optional<Teacher> teacher_;  // a distillation run's
  // The side of the loader's images: the student's, or the teacher's when that is larger (the
  // student then gets them resized down, so both see the same augmented batch).
  std::int64_t loaderSide_ = 0;

  StartPoint start_;
  std::int64_t step_ = 0;
  std::int64_t epoch_ = 0;
  std::int64_t firstStep_ = 0;
  data::LoaderPosition position_;

  std::optional<MetricsLog> metricsLog_;  // rank 0 alone, as the event file
  std::optional<records::EventFileWriter> events_;
  std::string settingsJson_;
  std::string lastMetrics_ = "{}";  // the last step's metrics.jsonl line, for the checkpoint
  RunState runState_;               // rank 0's run-state.json

  std::optional<data::Loader> loader_;
  std::optional<data::BatchStager> stager_;
  std::optional<data::Batch> prefetched_;
  bool havePrefetched_ = false;
  std::optional<TrainStep> trainStep_;
  StepHooks hooks_;
  // The host-side part of the steps whose figures are still on their way, oldest first.
  std::deque<StepMetrics> unreported_;
  bool stopAgreed_ = false;
  bool pauseAgreed_ = false;
  std::chrono::steady_clock::time_point lastStepEnd_;
};

}  // namespace taxon::train
