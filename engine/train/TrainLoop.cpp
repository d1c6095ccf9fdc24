#include "train/TrainLoop.hpp"

#include <torch/torch.h>
#include <unistd.h>

#include <ATen/Context.h>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "checkpoint/Checkpoint.hpp"
#include "checkpoint/TrainedModel.hpp"
#include "core/Clock.hpp"
#include "core/Error.hpp"
#include "core/torch/Device.hpp"
#include "data/torch/BatchTensors.hpp"
#include "eval/torch/Evaluator.hpp"
#include "model/ModelSize.hpp"
#include "model/TorchvisionWeights.hpp"
#include "settings/TrainSettingsJson.hpp"
#include "train/RunState.hpp"
#include "train/StepPrecision.hpp"

namespace taxon::train {

TrainLoop::TrainLoop(const settings::TrainSettings& settings, bool resume,
                     const TrainCallbacks& callbacks, std::stop_token stop, const Replica& replica)
    : settings_(settings),
      callbacks_(callbacks),
      stop_(std::move(stop)),
      sync_(replica),
      dir_(settings.trainDir),
      started_(std::chrono::steady_clock::now()),
      onDevice_(replica.device.is_cuda() ? std::make_optional(replica.device) : std::nullopt),
      resume_(openRun(resume)),
      records_(records::openRecordSet(settings.dataDir)) {
  trainSplit_ = &records_.split("train");
  if (resume_.data && resume_.data->categories != records_.categories) {
    core::throwFileError(settings_.dataDir, "its categories are not the ones the run in " +
                                                dir_.path().string() + " was trained on");
  }
  planLength();
  buildModel();
  restoreCheckpoint();
  startFromLeader();
  startFiles();
  resume_ = {};  // its tensors are copied; free the memory
  joinReplicas();
  settingsJson_ = toJson(settings_).dump();
  announceSkippedEvaluation();
  startLoader();
}

TrainLoop::~TrainLoop() = default;

void TrainLoop::log(const std::string& text) const {
  if (callbacks_.onLog) {
    callbacks_.onLog(text);
  }
}

// The run's folder: new, or one to continue (rank 0 reads and writes it).
ResumePoint TrainLoop::openRun(bool resume) const {
  if (!sync_.leader()) {
    return {};
  }
  return dir_.open(settings_, resume, [this](const std::string& text) { log(text); });
}

void TrainLoop::planLength() {
  const int world = sync_.replica().world;
  haveValidation_ = records_.count(settings_.evalSubset) > 0;
  replicaBatch_ = settings_.batchSize / world;
  stepsPerEpoch_ = std::floor(static_cast<double>(trainSplit_->records) /
                              static_cast<double>(settings_.batchSize));
  if (stepsPerEpoch_ < 1.0) {
    core::throwFileError(settings_.dataDir, "has " + std::to_string(trainSplit_->records) +
                                                " training images, fewer than one batch of " +
                                                std::to_string(settings_.batchSize));
  }
  batchesPerEpoch_ = static_cast<std::int64_t>(stepsPerEpoch_);
  totalSteps_ = settings_.maxSteps;
  result_.limit = "--max_steps";
  if (settings_.maxEpochs > 0.0) {
    const auto byEpochs =
        static_cast<std::int64_t>(std::ceil(settings_.maxEpochs * stepsPerEpoch_));
    if (totalSteps_ <= 0 || byEpochs < totalSteps_) {
      result_.limit = "--num_epochs";
    }
    totalSteps_ = totalSteps_ > 0 ? std::min(totalSteps_, byEpochs) : byEpochs;
  }
  result_.totalSteps = totalSteps_;
}

// The network, on its device, and its update.
void TrainLoop::buildModel() {
  const c10::Device device = sync_.replica().device;
  cuda_ = device.is_cuda();
  // "auto" is bf16 on GPUs only: on the CPU, bf16 autocast ended the Fashion-MNIST accuracy
  // benchmark 2.2 points below fp32 (README, Benchmarks), so there it is asked for by name.
  bf16_ = settings_.precision == "bf16" ||
          (settings_.precision == "auto" && cuda_ && core::nativeBf16(device));
  channelsLast_ = settings_.channelsLast;
  netSettings_ = checkpoint::modelSettings(settings_, records_.numClasses());
  auto created = createReplicaNetwork(netSettings_, settings_.seed, sync_.replica());
  net_ = created.net;
  dropoutGenerator_ = created.dropout;
  // A head whose loss has no weight is not computed, and its parameters are not trained (nor
  // registered with the gradient averaging, which would wait for their gradients forever).
  net_->useAuxHead(settings_.auxLogits && settings_.auxWeight > 0.0);
  if (sync_.leader() && !resume_.data && !settings_.initFrom.empty()) {
    const auto file = model::readTensorDict(settings_.initFrom);
    bool sameHead = false;
    for (const auto& item : file) {
      if (item.key() == "fc.weight") {
        sameHead = item.value().size(0) == records_.numClasses();
      }
    }
    model::loadTorchvisionStateDict(*net_, settings_.initFrom, {.skipClassifier = !sameHead});
    log("initialized from " + settings_.initFrom.string() +
        (sameHead ? ""
                  : " (new classifier heads for " + std::to_string(records_.numClasses()) +
                        " categories)"));
  }
  if (sync_.leader()) {
    logModelLine();
  }
  loaderSide_ = settings_.imageSize;
  loadTeacher();
  net_->to(device);
  if (channelsLast_) {
    toChannelsLast(*net_);
  }
  if (cuda_) {
    at::globalContext().setBenchmarkCuDNN(settings_.cudnnBenchmark);
  }
  net_->train();
  parameters_ = namedParameters(*net_);
  for (const auto& [name, tensor] : parameters_) {
    // Convolution and fully connected weights that are trained.
    decay_.push_back(tensor.dim() > 1 && tensor.requires_grad());
  }
  optimizer_.emplace(parameters_, decay_, settings_);
  schedule_.emplace(settings_, stepsPerEpoch_, totalSteps_);
}

void TrainLoop::logModelLine() const {
  const Replica& replica = sync_.replica();
  std::int64_t count = 0;
  for (const auto& p : net_->parameters()) {
    count += p.numel();
  }
  char line[320];
  std::snprintf(line, sizeof line,
                "Inception-v3 (depth multiplier %g, %lld px, %lld categories): %lld parameters; "
                "%lld training images, %.0f steps per epoch of %lld; %lld steps on %s",
                settings_.depthMultiplier, static_cast<long long>(settings_.imageSize),
                static_cast<long long>(records_.numClasses()), static_cast<long long>(count),
                static_cast<long long>(trainSplit_->records), stepsPerEpoch_,
                static_cast<long long>(settings_.batchSize), static_cast<long long>(totalSteps_),
                replica.device.str().c_str());
  std::string text = line;
  if (replica.world > 1) {
    text += " and " + std::to_string(replica.world - 1) + " more replica(s) (" +
            std::to_string(replicaBatch_) + " images each per step" +
            (settings_.syncBatchNorm ? ", synchronized batch norm" : "") + ")";
  }
  text += std::string("; ") + (bf16_ ? "bf16 autocast" : "fp32") +
          (channelsLast_ ? ", channels-last" : "");
  log(text);
}

// A distillation run's teacher, on this replica's device; rank 0 says what it is.
void TrainLoop::loadTeacher() {
  if (!settings_.distilling()) {
    return;
  }
  teacher_.emplace(settings_, records_.categories, sync_.replica().device, channelsLast_);
  loaderSide_ = std::max(settings_.imageSize, teacher_->imageSize());
  if (!sync_.leader()) {
    return;
  }
  const auto teacherSize = teacher_->size();
  const auto studentSize = model::measureModel(net_);
  char line[512];
  std::snprintf(
      line, sizeof line,
      "distilling from %s (step %lld, weights %s; depth multiplier %g, %lld px: %.1f M "
      "parameters, %.3g G multiply-adds per image) at temperature %g, weight %g on the teacher; "
      "the student has %.1f M parameters and %.3g G multiply-adds (%.0f %% of the teacher's)",
      teacher_->checkpoint().c_str(), static_cast<long long>(teacher_->step()),
      teacher_->fingerprint().c_str(), teacher_->settings().depthMultiplier,
      static_cast<long long>(teacher_->imageSize()),
      static_cast<double>(teacherSize.inferenceParameters) / 1e6,
      static_cast<double>(teacherSize.multiplyAdds) / 1e9, settings_.temperature,
      settings_.distillWeight, static_cast<double>(studentSize.inferenceParameters) / 1e6,
      static_cast<double>(studentSize.multiplyAdds) / 1e9,
      100.0 * static_cast<double>(studentSize.multiplyAdds) /
          static_cast<double>(std::max<std::int64_t>(1, teacherSize.multiplyAdds)));
  log(line);
}

void TrainLoop::restoreCheckpoint() {
  const auto* checkpoint = resume_.data.get();
  start_.resumed = checkpoint != nullptr;  // known to every replica after startFromLeader
  if (checkpoint == nullptr) {
    return;
  }
  try {
    const auto missing = checkpoint::copyInto(*net_, checkpoint->model);
    if (!missing.empty()) {
      throw core::Error("it lacks '" + missing.front() + "'");
    }
    optimizer_->loadState(checkpoint->optimizer);
  } catch (const core::Error& e) {
    core::throwFileError(resume_.path, e.what());
  }
  result_.lastCheckpoint = resume_.path;
  start_.step = checkpoint->step;
  start_.epoch = checkpoint->epoch;
  start_.positions = checkpoint->replicaPositions;
  if (start_.positions.empty()) {
    start_.positions = {checkpoint->positionRecords, checkpoint->positionBatches};
  }
}

// Every replica starts from rank 0's state.
void TrainLoop::startFromLeader() {
  sync_.startFromLeader(start_, *net_, *optimizer_, dropoutGenerator_, resume_.data.get());
  step_ = start_.step;
  epoch_ = start_.epoch;
  position_ = replicaPosition(start_.positions, sync_.replica(), epoch_, trainSplit_->records,
                              [this](const std::string& text) { log(text); });
}

// Rank 0: the weight average, and the run's files (a new run's, or a resumed one's metrics cut
// back to its checkpoint).
void TrainLoop::startFiles() {
  if (!sync_.leader()) {
    return;
  }
  average_.emplace(parameters_, settings_.emaDecay);
  if (resume_.data) {
    try {
      average_->loadState(resume_.data->average);
    } catch (const core::Error& e) {
      core::throwFileError(resume_.path, e.what());
    }
    dir_.keepMetricsUpTo(step_);
    log("resuming " + dir_.path().string() + " from " + resume_.path.filename().string() +
        " (step " + std::to_string(step_) + ", epoch " + std::to_string(epoch_) + ")");
  } else {
    dir_.writeStart(settings_, records_.categories);
  }
  runState_.host = hostName();
  runState_.pid = ::getpid();
  runState_.started = core::unixSecondsNow();
  runState_.step = step_;
  runState_.totalSteps = totalSteps_;
  runState_.stepsPerEpoch = batchesIn(epoch_);
  writeRunState(dir_.path(), runState_);
}

// The gradient averaging and synchronized batch norm between the replicas; rank 0's files.
void TrainLoop::joinReplicas() {
  if (dist::Group* group = sync_.replica().group) {
    averager_ =
        std::make_unique<dist::GradientAverager>(*group, net_->parameters(), settings_.bucketMiB);
    if (settings_.syncBatchNorm) {
      net_->synchronizeBatchNorm(batchNormCollectives(*group));
    }
  }
  if (sync_.leader()) {
    metricsLog_.emplace(dir_.metricsPath());
    events_.emplace(dir_.path());
    averaged_.emplace(netSettings_, sync_.replica().device, records_, settings_);
  }
}

// An empty evaluation split is said once, not evaluated as a precision of 0 again and again.
void TrainLoop::announceSkippedEvaluation() {
  const bool wantEvaluation = settings_.evalEverySteps > 0 || settings_.evalAtEnd;
  if (!sync_.leader() || !wantEvaluation || haveValidation_) {
    return;
  }
  EvalPoint point;
  point.step = step_;
  point.subset = settings_.evalSubset;
  point.skipped = records_.emptySplitReason(settings_.evalSubset);
  metricsLog_->write(point);
  log("warning: nothing to evaluate: " + point.skipped +
      "; no evaluation during training (--eval_subset chooses another split)");
  if (callbacks_.onEval) {
    callbacks_.onEval(point);
  }
}

data::LoaderSettings TrainLoop::loaderSettings() const {
  data::LoaderSettings loader;
  loader.shards = trainSplit_->shards;
  loader.shardRecords = trainSplit_->shardRecords;
  loader.mode = data::LoaderMode::kTrain;
  loader.batchSize = static_cast<int>(replicaBatch_);
  loader.dropRemainder = true;
  loader.preprocess.height = static_cast<int>(loaderSide_);
  loader.preprocess.width = static_cast<int>(loaderSide_);
  loader.seed = settings_.seed;
  loader.epoch = epoch_;
  loader.position = position_;
  loader.rank = sync_.replica().rank;
  loader.worldSize = sync_.replica().world;
  loader.shuffleBuffer = settings_.shuffleBuffer;
  loader.preprocess.minArea = settings_.minCropArea;
  loader.preprocess.colour = settings_.colourDistort;
  if (!settings_.distort) {
    loader.preprocess.minArea = 1.0;
    loader.preprocess.flip = false;
    loader.preprocess.colour = false;
  }
  loader.workerThreads = settings_.loaderThreads;
  return loader;
}

// The batches every replica takes from `epoch`, the same on each without communication: with
// whole shards per replica the smallest share's (data::partitionEpoch; the larger shares' rest is
// left out), with records strided floor(records / batch size), which every share holds.
std::int64_t TrainLoop::batchesIn(std::int64_t epoch) const {
  const auto partition = data::partitionEpoch(loaderSettings(), epoch);
  return partition.wholeShards ? partition.batches : static_cast<std::int64_t>(stepsPerEpoch_);
}

// How the replicas share the first epoch's records (later epochs deal the shards anew).
void TrainLoop::logPartition() const {
  const auto partition = data::partitionEpoch(loaderSettings(), epoch_);
  const std::int64_t records = trainSplit_->records;
  const std::int64_t shards = static_cast<std::int64_t>(trainSplit_->shards.size());
  if (!partition.wholeShards) {
    log("every replica reads all " + std::to_string(shards) +
        " training shards and keeps one record in " + std::to_string(sync_.replica().world) +
        (shards < sync_.replica().world      ? " (fewer shards than replicas)"
         : trainSplit_->shardRecords.empty() ? " (the shards' record counts are not known)"
                                             : ""));
    return;
  }
  const std::int64_t used = batchesPerEpoch_ * replicaBatch_ * sync_.replica().world;
  log("each replica reads its own " + std::to_string(partition.shards[0].size()) + " of the " +
      std::to_string(shards) + " training shards, dealt anew every epoch; epoch " +
      std::to_string(epoch_) + " trains on " + std::to_string(used) + " of the " +
      std::to_string(records) + " images (" + std::to_string(batchesPerEpoch_) +
      " steps, as many on every replica)");
}

// The loader, the batch stager and the step with its hooks.
void TrainLoop::startLoader() {
  const Replica& replica = sync_.replica();
  data::LoaderCallbacks loaderCallbacks;
  loaderCallbacks.onSkip = [this](const data::SkippedImage& skipped) {
    const Replica& r = sync_.replica();
    log((r.world > 1 ? "rank " + std::to_string(r.rank) + ": skipped " : "skipped ") + skipped.key +
        ": " + skipped.reason);
  };
  // Replicas stop together, after the step in which any of them was asked to (see reportOldest);
  // a loader that stopped on its own would leave its replica without batches.
  if (step_ < totalSteps_) {
    loader_.emplace(loaderSettings(), sync_.single() ? stop_ : std::stop_token{}, loaderCallbacks);
  }
  batchesPerEpoch_ = batchesIn(epoch_);
  if (sync_.leader() && replica.world > 1) {
    logPartition();
  }
  firstStep_ = step_;
  lastStepEnd_ = std::chrono::steady_clock::now();
  // On CUDA the next batch is taken from the loader during the step and copied to the GPU on a
  // side stream while the step's kernels run (pinned memory; see data/BatchStager.hpp).
  stager_.emplace(replica.device, channelsLast_);

  StepOptions options;
  options.auxWeight = settings_.auxWeight;
  options.labelSmoothing = settings_.labelSmoothing;
  options.weightDecay = settings_.weightDecay;
  options.batchNormDecay = settings_.batchNormDecay;
  options.bf16 = bf16_;
  options.numClasses = records_.numClasses();
  options.temperature = settings_.temperature;
  options.distillWeight = settings_.distillWeight;
  trainStep_.emplace(net_, *optimizer_, average_ ? &*average_ : nullptr, parameters_, decay_,
                     options);
  if (averager_) {
    hooks_.beforeForward = [this] { averager_->prepare(); };
  }
  hooks_.collective = [this](const std::function<void()>& part) { sync_.collective(part); };
  hooks_.afterBackward = [this] {
    if (cuda_ && position_.batches + 1 < batchesPerEpoch_) {
      prefetched_ = loader_->next();  // the GPU is still busy with this step's kernels
      havePrefetched_ = true;
      if (prefetched_) {
        stager_->stage(*prefetched_);
      }
    }
  };
}

TrainResult TrainLoop::run() {
  while (step_ < totalSteps_ && !stopAgreed_) {
    if (sync_.single() && stop_.stop_requested()) {
      break;
    }
    std::optional<data::Batch> batch = nextBatch();
    if (!batch) {
      if (sync_.single() && stop_.stop_requested()) {
        break;
      }
      ++epoch_;
      position_ = {};
      batchesPerEpoch_ = batchesIn(epoch_);
      loader_->startEpoch(epoch_);
      continue;
    }
    trainOn(*batch);
    afterStep();
  }
  reportAll();
  loader_.reset();
  result_.stopped = (stopAgreed_ || stop_.stop_requested()) && step_ < totalSteps_;
  if (step_ > firstStep_ || !start_.resumed) {
    save();
  }
  if (!result_.stopped && settings_.evalAtEnd && step_ > firstStep_) {
    evaluate();
  }
  result_.step = step_;
  result_.stepsThisRun = step_ - firstStep_;
  result_.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  if (sync_.leader()) {
    runState_.status = result_.stopped ? RunStatus::Stopped : RunStatus::Finished;
    runState_.ended = core::unixSecondsNow();
    runState_.step = step_;
    runState_.message = result_.lastCheckpoint.string();
    writeRunState(dir_.path(), runState_);
  }
  return result_;
}

// Every replica takes the same number of batches from each epoch (its share may be longer than
// another's), so that they stay in step. Nothing at the end of the epoch.
std::optional<data::Batch> TrainLoop::nextBatch() {
  std::optional<data::Batch> batch;
  if (position_.batches < batchesPerEpoch_) {
    if (havePrefetched_) {
      batch = std::move(prefetched_);
      prefetched_.reset();
      havePrefetched_ = false;
    } else {
      batch = loader_->next();
    }
  }
  return batch;
}

// Checked on the host copy: no reductions or device synchronization on the hot path.
void TrainLoop::checkLabels(const data::Batch& batch) const {
  for (std::size_t i = 0; i < batch.labels.size(); ++i) {
    const std::int64_t c = batch.labels[i] - records_.labelOffset;
    if (c < 0 || c >= records_.numClasses()) {
      throw core::Error("a training record of batch " + std::to_string(batch.index) + " of epoch " +
                        std::to_string(epoch_) + " (" + batch.keys[i] +
                        ") has a label outside the " + std::to_string(records_.numClasses()) +
                        " categories of " + settings_.dataDir.string());
    }
  }
}

void TrainLoop::trainOn(const data::Batch& batch) {
  checkLabels(batch);
  // The stager's images are channels-last already when the network is.
  const auto tensors = stager_->take(batch);
  const auto target = tensors.labels - records_.labelOffset;
  const double learningRate = schedule_->at(step_);
  at::Tensor teacherLogits;
  if (teacher_) {
    teacherLogits = teacher_->logits(tensors.images, bf16_);
  }
  trainStep_->run(resizeBatch(tensors.images, settings_.imageSize), target, learningRate, step_,
                  hooks_, teacherLogits);
  ++step_;
  position_ = {batch.streamEnd, batch.index + 1};

  StepMetrics m;
  m.step = step_;
  m.epoch = epoch_;
  m.learningRate = learningRate;
  const auto now = std::chrono::steady_clock::now();
  m.secPerBatch = std::chrono::duration<double>(now - lastStepEnd_).count();
  lastStepEnd_ = now;
  m.examplesPerSec = m.secPerBatch > 0.0
                         ? static_cast<double>(batch.size) * sync_.replica().world / m.secPerBatch
                         : 0.0;
  m.wallTime = core::unixSecondsNow();
  unreported_.push_back(m);
  // The previous step's figures are on the host by now or soon: this step's kernels were queued
  // after them.
  while (trainStep_->pending() > 1) {
    reportOldest();
  }
}

// Pause, save, evaluate.
void TrainLoop::afterStep() {
  // A single replica holds as soon as it is asked; replicas hold when they agreed (in a message
  // of reportOldest, or in the one reportAll sends), after the same step and outside any
  // collective, so the step's figures reach the callbacks first and a paused chart shows the
  // step it stopped at.
  const bool pauseAsked =
      sync_.single() ? callbacks_.pauseRequested && callbacks_.pauseRequested() : pauseAgreed_;
  const bool saveNow = step_ % settings_.saveEverySteps == 0 && step_ < totalSteps_;
  const bool evalNow =
      settings_.evalEverySteps > 0 && step_ % settings_.evalEverySteps == 0 && step_ < totalSteps_;
  if (pauseAsked || saveNow || evalNow || stopAgreed_ || step_ == totalSteps_) {
    reportAll();
  }
  const bool holdNow = sync_.single() ? pauseAsked : pauseAgreed_;
  if (holdNow && !stopAgreed_ && callbacks_.holdWhilePaused) {
    callbacks_.holdWhilePaused(stop_);
    pauseAgreed_ = false;
    lastStepEnd_ = std::chrono::steady_clock::now();  // the pause is not a step's time
  }
  if (saveNow && !stopAgreed_) {
    save();
  }
  if (evalNow && !stopAgreed_) {
    evaluate();
    lastStepEnd_ = std::chrono::steady_clock::now();  // evaluation time is not a step's
  }
}

// A step's figures are read after the next step was launched (TrainStep.hpp), and then agreed
// between the replicas in one small message that also carries each replica's stop and pause
// requests, so that all stop or hold after the same step.
void TrainLoop::reportOldest() {
  const auto figures = trainStep_->takeFigures();
  StepMetrics m = unreported_.front();
  unreported_.pop_front();
  std::vector<double> message{figures->loss,
                              figures->crossEntropy,
                              figures->precisionAt1,
                              figures->recallAt5,
                              figures->distill,
                              stop_.stop_requested() ? 1.0 : 0.0,
                              callbacks_.pauseRequested && callbacks_.pauseRequested() ? 1.0 : 0.0};
  sync_.agree(message, 5);
  stopAgreed_ = stopAgreed_ || message[5] > 0.0;
  pauseAgreed_ = message[6] > 0.0;
  if (!std::isfinite(message[0])) {
    throw core::Error(
        "step " + std::to_string(m.step) + ": the loss is " + std::to_string(message[0]) +
        "; training stopped, and the last checkpoint" +
        (result_.lastCheckpoint.empty() ? std::string(" in ") + dir_.path().string()
                                        : " " + result_.lastCheckpoint.string()) +
        " still holds the last good weights. A lower --initial_learning_rate usually helps");
  }
  m.loss = message[0];
  m.crossEntropy = message[1];
  m.batchPrecisionAt1 = message[2];
  m.batchRecallAt5 = message[3];
  if (teacher_) {
    m.distillLoss = message[4];
  }
  result_.lastStep = m;
  if (!sync_.leader()) {
    return;
  }
  lastMetrics_ = metricsLine(m);
  metricsLog_->write(lastMetrics_);
  if (callbacks_.onStep) {
    callbacks_.onStep(m);
  }
  if (m.step % settings_.logEverySteps == 0 || m.step == totalSteps_) {
    log(seedLogLine(m));
    std::vector<std::pair<std::string, double>> scalars{
        {"loss", m.loss},
        {"cross_entropy", m.crossEntropy},
        {"learning_rate", m.learningRate},
        {"examples_per_sec", m.examplesPerSec},
        {"train/precision_at_1", m.batchPrecisionAt1},
        {"train/recall_at_5", m.batchRecallAt5}};
    if (m.distillLoss) {
      scalars.emplace_back("distill_loss", *m.distillLoss);
    }
    events_->addScalars(m.step, scalars, m.wallTime);
    events_->flush();
  }
  if (callbacks_.progress) {
    callbacks_.progress({"train", m.step, totalSteps_, "steps"});
  }
}

// Before anything that must not see an unchecked step: a save (a non-finite loss must never
// reach a checkpoint), an evaluation, a pause, the end.
void TrainLoop::reportAll() {
  while (trainStep_->pending() > 0) {
    reportOldest();
  }
}

// Every replica checks that all hold the same weights; rank 0 then writes the checkpoint.
void TrainLoop::save() {
  const ReplicaStates states =
      sync_.gatherForCheckpoint(position_, dropoutGenerator_, *net_, step_);
  if (!sync_.leader()) {
    return;
  }
  checkpoint::CheckpointData data;
  data.step = step_;
  data.epoch = epoch_;
  data.positionRecords = position_.records;
  data.positionBatches = position_.batches;
  if (sync_.replica().world > 1) {
    data.replicaPositions = states.positions;
  }
  data.settingsJson = settingsJson_;
  data.categories = records_.categories;
  data.metricsJson = lastMetrics_;
  data.model = namedState(*net_);
  data.average = average_->averages();
  if (settings_.recalibrateExamples > 0) {
    averaged_->prepare(*net_, *average_, step_, stop_, callbacks_.progress);
    if (const auto* statistics = averaged_->statisticsOf(step_)) {
      data.average.insert(data.average.end(), statistics->begin(), statistics->end());
    }
  }
  data.optimizer = optimizer_->state();
  for (std::size_t r = 0; r < states.generators.size(); ++r) {
    data.generators.emplace_back(generatorName(static_cast<int>(r)), states.generators[r]);
  }
  result_.lastCheckpoint = checkpoint::saveCheckpoint(dir_.path(), data, settings_.keepCheckpoints);
}

// Validation with the averaged weights (rank 0).
void TrainLoop::evaluate() {
  if (!haveValidation_ || !sync_.leader()) {
    return;
  }
  auto& net = averaged_->prepare(*net_, *average_, step_, stop_, callbacks_.progress);
  eval::ModelEvalSettings evalSettings;
  evalSettings.maxExamples = settings_.evalExamples;
  evalSettings.subset = settings_.evalSubset;
  evalSettings.loaderThreads = settings_.loaderThreads;
  evalSettings.batchSize = static_cast<int>(std::min<std::int64_t>(settings_.batchSize, 256));
  // Training goes on past a damaged validation record (as past a damaged training one), and
  // says what it left out.
  evalSettings.skipCorrupt = true;
  const auto report = eval::evaluateModel(net, records_, sync_.replica().device, evalSettings,
                                          stop_, callbacks_.progress);
  if (stop_.stop_requested()) {
    return;
  }
  for (const auto& skipped : report.skipped) {
    log("warning: evaluation skipped " + skipped.key + ": " + skipped.reason);
  }
  if (report.lostExamples > 0) {
    log("warning: evaluated " + std::to_string(report.examples) + " of the " +
        std::to_string(report.expectedExamples) + " " + evalSettings.subset + " images (" +
        std::to_string(report.lostExamples) + " lost to the damage above)");
  }
  EvalPoint point;
  point.step = step_;
  point.subset = evalSettings.subset;
  point.examples = report.examples;
  point.precisionAt1 = report.precisionAt1;
  point.recallAt5 = report.recallAtK;
  point.loss = report.meanLoss;
  metricsLog_->write(point);
  events_->addScalars(step_, {{"eval/precision_at_1", point.precisionAt1},
                              {"eval/recall_at_5", point.recallAt5},
                              {"eval/loss", point.loss}});
  events_->flush();
  char line[160];
  std::snprintf(line, sizeof line, "step %lld: %s precision @ 1 = %.4f recall @ %d = %.4f",
                static_cast<long long>(step_), point.subset.c_str(), point.precisionAt1,
                report.topK, point.recallAt5);
  log(line);
  result_.lastEval = point;
  if (callbacks_.onEval) {
    callbacks_.onEval(point);
  }
}

}  // namespace taxon::train
