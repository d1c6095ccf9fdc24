#include "train/Trainer.hpp"

#include <torch/torch.h>

#include <ATen/Context.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/Error.hpp"
#include "core/Files.hpp"
#include "data/BatchTensors.hpp"
#include "data/Loader.hpp"
#include "data/RecordSet.hpp"
#include "eval/Evaluator.hpp"
#include "model/TorchvisionWeights.hpp"
#include "train/Checkpoint.hpp"
#include "train/EventFile.hpp"

namespace taxon::train {

namespace fs = std::filesystem;

namespace {

constexpr const char* kSettingsFile = "settings.json";
constexpr const char* kLabelsFile = "labels.txt";
constexpr const char* kMetricsFile = "metrics.jsonl";

double unixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string readText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    core::throwFileError(path, "cannot be read");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The fields that define the network and the data order: a resumed run must keep them.
void checkResumable(const TrainSettings& saved, const TrainSettings& asked) {
  std::vector<std::string> changed;
  const auto same = [&](bool equal, const char* what) {
    if (!equal) {
      changed.push_back(what);
    }
  };
  same(saved.imageSize == asked.imageSize, "image size");
  same(saved.depthMultiplier == asked.depthMultiplier, "depth multiplier");
  same(saved.auxLogits == asked.auxLogits, "auxiliary head");
  same(saved.batchSize == asked.batchSize, "batch size");
  same(saved.optimizer == asked.optimizer, "optimizer");
  same(saved.seed == asked.seed, "seed");
  same(saved.shuffleBuffer == asked.shuffleBuffer, "shuffle buffer");
  same(saved.distort == asked.distort && saved.minCropArea == asked.minCropArea &&
           saved.colourDistort == asked.colourDistort,
       "distortion setting");
  if (!changed.empty()) {
    std::string list;
    for (const auto& c : changed) {
      list += (list.empty() ? "" : ", ") + c;
    }
    throw core::UsageError("cannot resume with a different " + list +
                           " than the run was started with; start a new run in another "
                           "--train_dir instead");
  }
}

NamedTensors namedParameters(torch::nn::Module& module) {
  NamedTensors out;
  for (const auto& item : module.named_parameters()) {
    out.emplace_back(item.key(), item.value());
  }
  return out;
}

NamedTensors namedState(torch::nn::Module& module) {
  NamedTensors out;
  for (const auto& item : model::stateDict(module)) {
    out.emplace_back(item.key(), item.value());
  }
  return out;
}

void setBatchNormDecay(torch::nn::Module& module, double decay) {
  for (const auto& child : module.modules()) {
    if (auto* bn = child->as<torch::nn::BatchNorm2dImpl>()) {
      bn->options.momentum(1.0 - decay);
    }
  }
}

NamedTensors generatorStates(const c10::Device& device) {
  NamedTensors out;
  {
    auto generator = at::globalContext().defaultGenerator(c10::Device(c10::kCPU));
    const std::lock_guard lock(generator.mutex());
    out.emplace_back("cpu", generator.get_state());
  }
  if (device.is_cuda()) {
    auto generator = at::globalContext().defaultGenerator(device);
    const std::lock_guard lock(generator.mutex());
    out.emplace_back(device.str(), generator.get_state());
  }
  return out;
}

void restoreGenerators(const NamedTensors& states, const c10::Device& device) {
  for (const auto& [name, state] : states) {
    if (name == "cpu") {
      auto generator = at::globalContext().defaultGenerator(c10::Device(c10::kCPU));
      const std::lock_guard lock(generator.mutex());
      generator.set_state(state);
    } else if (device.is_cuda() && name == device.str()) {
      auto generator = at::globalContext().defaultGenerator(device);
      const std::lock_guard lock(generator.mutex());
      generator.set_state(state);
    }
  }
}

// Keeps the lines of metrics.jsonl up to `step` (a run killed after its last checkpoint logged
// steps that the resumed run repeats) and drops a last line cut short.
void truncateMetrics(const fs::path& path, std::int64_t step) {
  std::error_code error;
  if (!fs::exists(path, error)) {
    return;
  }
  std::istringstream in(readText(path));
  std::string kept, line;
  while (std::getline(in, line)) {
    const auto json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded() || !json.contains("step")) {
      continue;
    }
    if (json["step"].get<std::int64_t>() <= step) {
      kept += line + "\n";
    }
  }
  core::writeFileAtomic(path, kept);
}

class MetricsLog {
 public:
  explicit MetricsLog(const fs::path& path) : path_(path) {
    file_ = std::fopen(path.c_str(), "ab");
    if (file_ == nullptr) {
      core::throwFileError(path, "cannot be opened for appending: " + core::errnoText(errno));
    }
  }
  ~MetricsLog() { std::fclose(file_); }
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;

  void write(const nlohmann::json& line) {
    const std::string text = line.dump() + "\n";
    if (std::fwrite(text.data(), 1, text.size(), file_) != text.size() || std::fflush(file_) != 0) {
      core::throwFileError(path_, "cannot be written: " + core::errnoText(errno));
    }
  }

 private:
  fs::path path_;
  std::FILE* file_ = nullptr;
};

nlohmann::json stepJson(const StepMetrics& m) {
  return {{"step", m.step},
          {"epoch", m.epoch},
          {"loss", m.loss},
          {"cross_entropy", m.crossEntropy},
          {"learning_rate", m.learningRate},
          {"examples_per_sec", m.examplesPerSec},
          {"sec_per_batch", m.secPerBatch},
          {"batch_precision_at_1", m.batchPrecisionAt1},
          {"batch_recall_at_5", m.batchRecallAt5},
          {"time", m.wallTime}};
}

nlohmann::json evalJson(const EvalPoint& e) {
  return {{"step", e.step},
          {"time", unixNow()},
          {"eval",
           {{"subset", e.subset},
            {"examples", e.examples},
            {"precision_at_1", e.precisionAt1},
            {"recall_at_5", e.recallAt5},
            {"loss", e.loss}}}};
}

}  // namespace

RunFiles findRunFiles(const fs::path& trainDir) {
  RunFiles files;
  std::error_code error;
  files.settings = fs::exists(trainDir / kSettingsFile, error);
  files.metrics = fs::exists(trainDir / kMetricsFile, error);
  files.checkpoints = static_cast<int>(listCheckpoints(trainDir).size());
  return files;
}

TrainSettings readRunSettings(const fs::path& trainDir) {
  const fs::path path = trainDir / kSettingsFile;
  std::error_code error;
  if (!fs::exists(path, error)) {
    core::throwFileError(trainDir, "holds no training run to resume (no settings.json)");
  }
  try {
    return trainSettingsFromJson(nlohmann::json::parse(readText(path)));
  } catch (const nlohmann::json::exception& e) {
    core::throwFileError(path, std::string("is not valid JSON: ") + e.what());
  }
}

std::string seedLogLine(const StepMetrics& m) {
  auto seconds = static_cast<std::time_t>(std::floor(m.wallTime));
  auto micros = std::lround((m.wallTime - std::floor(m.wallTime)) * 1e6);
  if (micros >= 1000000) {
    ++seconds;
    micros -= 1000000;
  }
  std::tm local{};
  localtime_r(&seconds, &local);
  char time[64];
  std::strftime(time, sizeof time, "%Y-%m-%d %H:%M:%S", &local);
  char line[256];
  std::snprintf(line, sizeof line,
                "%s.%06ld: step %lld, loss = %.2f (%.1f examples/sec; %.3f sec/batch)", time,
                micros, static_cast<long long>(m.step), m.loss, m.examplesPerSec, m.secPerBatch);
  return line;
}

TrainResult train(const TrainSettings& asked, bool resume, const TrainCallbacks& callbacks,
                  std::stop_token stop) {
  core::throwIfInvalid("training", asked.validate());
  const auto log = [&](const std::string& text) {
    if (callbacks.onLog) {
      callbacks.onLog(text);
    }
  };
  const auto started = std::chrono::steady_clock::now();
  TrainSettings settings = asked;
  TrainResult result;
  const fs::path dir = settings.trainDir;

  // --- the run's folder: new, or one to continue ---
  std::optional<CheckpointData> checkpoint;
  fs::path checkpointPath;
  const RunFiles existing = findRunFiles(dir);
  if (resume) {
    if (const int removed = removeUnfinishedCheckpoints(dir); removed > 0) {
      log("removed " + std::to_string(removed) +
          " unfinished checkpoint file(s) of an interrupted save in " + dir.string());
    }
    std::vector<std::string> warnings;
    checkpoint = readLatestCheckpoint(dir, &warnings, &checkpointPath);
    for (const auto& warning : warnings) {
      log("warning: " + warning);
    }
    if (checkpoint) {
      checkResumable(trainSettingsFromJson(nlohmann::json::parse(checkpoint->settingsJson)),
                     settings);
    } else if (existing.settings) {
      // Stopped before its first checkpoint: nothing to continue from but the start.
      checkResumable(readRunSettings(dir), settings);
      truncateMetrics(dir / kMetricsFile, 0);
      log("no checkpoint in " + dir.string() + " yet: starting the run over");
    } else {
      core::throwFileError(dir, "holds no training run to resume");
    }
  } else if (existing.any()) {
    core::throwFileError(dir, "already holds a training run (" +
                                  std::to_string(existing.checkpoints) +
                                  " checkpoints); continue it with --resume, or choose another "
                                  "--train_dir");
  }

  // --- data ---
  const data::RecordSet records = data::openRecordSet(settings.dataDir);
  const data::RecordSplit& trainSplit = records.split("train");
  if (checkpoint && checkpoint->categories != records.categories) {
    core::throwFileError(settings.dataDir, "its categories are not the ones the run in " +
                                               dir.string() + " was trained on");
  }
  const bool haveValidation = records.splits.count(settings.evalSubset) > 0 &&
                              !records.splits.at(settings.evalSubset).shards.empty();
  if (!haveValidation && (settings.evalEverySteps > 0 || settings.evalAtEnd)) {
    log("warning: " + settings.dataDir.string() + " has no '" + settings.evalSubset +
        "' records; no evaluation during training");
  }
  const double stepsPerEpoch =
      std::floor(static_cast<double>(trainSplit.records) / static_cast<double>(settings.batchSize));
  if (stepsPerEpoch < 1.0) {
    core::throwFileError(settings.dataDir, "has " + std::to_string(trainSplit.records) +
                                               " training images, fewer than one batch of " +
                                               std::to_string(settings.batchSize));
  }
  std::int64_t totalSteps = settings.maxSteps;
  if (settings.maxEpochs > 0.0) {
    const auto byEpochs = static_cast<std::int64_t>(std::ceil(settings.maxEpochs * stepsPerEpoch));
    totalSteps = totalSteps > 0 ? std::min(totalSteps, byEpochs) : byEpochs;
  }

  // --- device, model, optimizer ---
  const c10::Device device = parseDevice(settings.device);
  if (settings.torchThreads > 0) {
    torch::set_num_threads(settings.torchThreads);
  }
  torch::manual_seed(settings.seed);
  const auto netSettings = modelSettings(settings, records.numClasses());
  model::InceptionV3 net(netSettings);
  if (!checkpoint && !settings.initFrom.empty()) {
    const auto file = model::readTensorDict(settings.initFrom);
    bool sameHead = false;
    for (const auto& item : file) {
      if (item.key() == "fc.weight") {
        sameHead = item.value().size(0) == records.numClasses();
      }
    }
    model::loadTorchvisionStateDict(*net, settings.initFrom, {.skipClassifier = !sameHead});
    log("initialized from " + settings.initFrom.string() +
        (sameHead ? ""
                  : " (new classifier heads for " + std::to_string(records.numClasses()) +
                        " categories)"));
  }
  {
    std::int64_t count = 0;
    for (const auto& p : net->parameters()) {
      count += p.numel();
    }
    char line[256];
    std::snprintf(line, sizeof line,
                  "Inception-v3 (depth multiplier %g, %lld px, %lld categories): %lld parameters; "
                  "%lld training images, %.0f steps per epoch of %lld; %lld steps on %s",
                  settings.depthMultiplier, static_cast<long long>(settings.imageSize),
                  static_cast<long long>(records.numClasses()), static_cast<long long>(count),
                  static_cast<long long>(trainSplit.records), stepsPerEpoch,
                  static_cast<long long>(settings.batchSize), static_cast<long long>(totalSteps),
                  device.str().c_str());
    log(line);
  }
  net->to(device);
  net->train();
  const NamedTensors parameters = namedParameters(*net);
  std::vector<bool> decay;
  for (const auto& [name, tensor] : parameters) {
    decay.push_back(tensor.dim() > 1);  // convolution and fully connected weights
  }
  Optimizer optimizer(parameters, decay, settings);
  WeightAverage average(parameters, settings.emaDecay);
  const LearningRateSchedule schedule(settings, stepsPerEpoch, totalSteps);

  std::int64_t step = 0;
  std::int64_t epoch = 0;
  data::LoaderPosition position;
  if (checkpoint) {
    try {
      const auto missing = copyInto(*net, checkpoint->model);
      if (!missing.empty()) {
        throw core::Error("it lacks '" + missing.front() + "'");
      }
      optimizer.loadState(checkpoint->optimizer);
      average.loadState(checkpoint->average);
    } catch (const core::Error& e) {
      core::throwFileError(checkpointPath, e.what());
    }
    restoreGenerators(checkpoint->generators, device);
    result.lastCheckpoint = checkpointPath;
    step = checkpoint->step;
    epoch = checkpoint->epoch;
    position = {checkpoint->positionRecords, checkpoint->positionBatches};
    truncateMetrics(dir / kMetricsFile, step);
    log("resuming " + dir.string() + " from " + checkpointPath.filename().string() + " (step " +
        std::to_string(step) + ", epoch " + std::to_string(epoch) + ")");
  } else {
    std::error_code error;
    fs::create_directories(dir, error);
    if (error) {
      core::throwFileError(dir, "cannot be created: " + error.message());
    }
    core::writeFileAtomic(dir / kSettingsFile, toJson(settings).dump(2) + "\n");
    std::string labels;
    for (const auto& name : records.categories) {
      labels += name + "\n";
    }
    core::writeFileAtomic(dir / kLabelsFile, labels);
  }
  checkpoint.reset();  // its tensors are copied; free the memory

  MetricsLog metricsLog(dir / kMetricsFile);
  EventFileWriter events(dir);
  const std::string settingsJson = toJson(settings).dump();

  nlohmann::json lastMetrics = nlohmann::json::object();
  const auto save = [&] {
    CheckpointData data;
    data.step = step;
    data.epoch = epoch;
    data.positionRecords = position.records;
    data.positionBatches = position.batches;
    data.settingsJson = settingsJson;
    data.categories = records.categories;
    data.metricsJson = lastMetrics.dump();
    data.model = namedState(*net);
    data.average = average.averages();
    data.optimizer = optimizer.state();
    data.generators = generatorStates(device);
    result.lastCheckpoint = saveCheckpoint(dir, data, settings.keepCheckpoints);
  };

  // Validation with the averaged weights, on a second network so that training state is untouched.
  model::InceptionV3 evalNet{nullptr};
  const auto evaluate = [&] {
    if (!haveValidation) {
      return;
    }
    if (evalNet.is_empty()) {
      evalNet = model::InceptionV3(netSettings);
      evalNet->to(device);
    }
    copyInto(*evalNet, namedState(*net));    // batch-norm statistics
    copyInto(*evalNet, average.averages());  // averaged parameters
    eval::ModelEvalSettings evalSettings;
    evalSettings.maxExamples = settings.evalExamples;
    evalSettings.subset = settings.evalSubset;
    evalSettings.loaderThreads = settings.loaderThreads;
    evalSettings.batchSize = static_cast<int>(std::min<std::int64_t>(settings.batchSize, 256));
    const auto report =
        eval::evaluateModel(*evalNet, records, device, evalSettings, stop, callbacks.progress);
    if (stop.stop_requested()) {
      return;
    }
    EvalPoint point;
    point.step = step;
    point.subset = evalSettings.subset;
    point.examples = report.examples;
    point.precisionAt1 = report.precisionAt1;
    point.recallAt5 = report.recallAtK;
    point.loss = report.meanLoss;
    metricsLog.write(evalJson(point));
    events.addScalars(step, {{"eval/precision_at_1", point.precisionAt1},
                             {"eval/recall_at_5", point.recallAt5},
                             {"eval/loss", point.loss}});
    events.flush();
    char line[160];
    std::snprintf(line, sizeof line, "step %lld: %s precision @ 1 = %.4f recall @ 5 = %.4f",
                  static_cast<long long>(step), point.subset.c_str(), point.precisionAt1,
                  point.recallAt5);
    log(line);
    result.lastEval = point;
    if (callbacks.onEval) {
      callbacks.onEval(point);
    }
  };

  // --- the loop ---
  data::LoaderSettings loaderSettings;
  loaderSettings.shards = trainSplit.shards;
  loaderSettings.mode = data::LoaderMode::kTrain;
  loaderSettings.batchSize = static_cast<int>(settings.batchSize);
  loaderSettings.dropRemainder = true;
  loaderSettings.preprocess.height = static_cast<int>(settings.imageSize);
  loaderSettings.preprocess.width = static_cast<int>(settings.imageSize);
  loaderSettings.seed = settings.seed;
  loaderSettings.epoch = epoch;
  loaderSettings.position = position;
  loaderSettings.shuffleBuffer = settings.shuffleBuffer;
  loaderSettings.preprocess.minArea = settings.minCropArea;
  loaderSettings.preprocess.colour = settings.colourDistort;
  if (!settings.distort) {
    loaderSettings.preprocess.minArea = 1.0;
    loaderSettings.preprocess.flip = false;
    loaderSettings.preprocess.colour = false;
  }
  loaderSettings.workerThreads = settings.loaderThreads;
  data::LoaderCallbacks loaderCallbacks;
  loaderCallbacks.onSkip = [&](const data::SkippedImage& skipped) {
    log("skipped " + skipped.key + ": " + skipped.reason);
  };
  std::optional<data::Loader> loader;
  if (step < totalSteps) {
    loader.emplace(loaderSettings, stop, loaderCallbacks);
  }

  namespace F = torch::nn::functional;
  const auto lossOptions = F::CrossEntropyFuncOptions().label_smoothing(settings.labelSmoothing);
  const std::int64_t firstStep = step;
  auto lastStepEnd = std::chrono::steady_clock::now();
  while (step < totalSteps && !stop.stop_requested()) {
    auto batch = loader->next();
    if (!batch) {
      if (stop.stop_requested()) {
        break;
      }
      ++epoch;
      position = {};
      loader->startEpoch(epoch);
      continue;
    }
    // Checked on the host copy: no reductions or device synchronization on the hot path.
    for (std::size_t i = 0; i < batch->labels.size(); ++i) {
      const std::int64_t c = batch->labels[i] - records.labelOffset;
      if (c < 0 || c >= records.numClasses()) {
        throw core::Error("a training record of batch " + std::to_string(batch->index) +
                          " of epoch " + std::to_string(epoch) + " (" + batch->keys[i] +
                          ") has a label outside the " + std::to_string(records.numClasses()) +
                          " categories of " + settings.dataDir.string());
      }
    }
    const auto tensors = data::toTensors(*batch, device);
    const auto target = tensors.labels - records.labelOffset;
    const double learningRate = schedule.at(step);
    // Batch-norm statistics start from the initial (0, 1), which says nothing about the network's
    // activations; like the weight average, their decay is capped by (1 + step) / (10 + step) so
    // that the first batches replace them instead of taking 1 / (1 - decay) steps to wash out.
    setBatchNormDecay(
        *net, std::min(settings.batchNormDecay,
                       (1.0 + static_cast<double>(step)) / (10.0 + static_cast<double>(step))));
    const auto output = net->forward(tensors.images);
    auto loss = F::cross_entropy(output.logits, target, lossOptions);
    const auto crossEntropy = loss.detach();
    if (output.aux.defined() && settings.auxWeight > 0.0) {
      loss = loss + settings.auxWeight * F::cross_entropy(output.aux, target, lossOptions);
    }
    double regularization = 0.0;
    {
      torch::NoGradGuard noGrad;
      torch::Tensor sum = torch::zeros({}, tensors.images.options());
      for (std::size_t i = 0; i < parameters.size(); ++i) {
        if (decay[i]) {
          sum += parameters[i].second.square().sum();
        }
      }
      regularization = 0.5 * settings.weightDecay * sum.item<double>();
    }
    const double lossValue = loss.item<double>() + regularization;
    if (!std::isfinite(lossValue)) {
      throw core::Error(
          "step " + std::to_string(step + 1) + ": the loss is " + std::to_string(lossValue) +
          "; training stopped, and the last checkpoint" +
          (result.lastCheckpoint.empty() ? std::string(" in ") + dir.string()
                                         : " " + result.lastCheckpoint.string()) +
          " still holds the last good weights. A lower --initial_learning_rate usually helps");
    }
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step(learningRate);
    average.update(parameters, step);
    ++step;
    position = {batch->streamEnd, batch->index + 1};

    StepMetrics m;
    m.step = step;
    m.epoch = epoch;
    m.loss = lossValue;
    m.crossEntropy = crossEntropy.item<double>();
    m.learningRate = learningRate;
    {
      torch::NoGradGuard noGrad;
      const auto k = std::min<std::int64_t>(5, records.numClasses());
      const auto top = std::get<1>(output.logits.detach().topk(k, 1));
      const auto hits = top.eq(target.unsqueeze(1));
      m.batchPrecisionAt1 = hits.select(1, 0).to(torch::kDouble).mean().item().toDouble();
      m.batchRecallAt5 = hits.any(1).to(torch::kDouble).mean().item().toDouble();
    }
    const auto now = std::chrono::steady_clock::now();
    m.secPerBatch = std::chrono::duration<double>(now - lastStepEnd).count();
    lastStepEnd = now;
    m.examplesPerSec = m.secPerBatch > 0.0 ? batch->size / m.secPerBatch : 0.0;
    m.wallTime = unixNow();
    lastMetrics = stepJson(m);
    metricsLog.write(lastMetrics);
    result.lastStep = m;
    if (callbacks.onStep) {
      callbacks.onStep(m);
    }
    if (step % settings.logEverySteps == 0 || step == totalSteps) {
      log(seedLogLine(m));
      events.addScalars(step,
                        {{"loss", m.loss},
                         {"cross_entropy", m.crossEntropy},
                         {"learning_rate", m.learningRate},
                         {"examples_per_sec", m.examplesPerSec},
                         {"train/precision_at_1", m.batchPrecisionAt1},
                         {"train/recall_at_5", m.batchRecallAt5}},
                        m.wallTime);
      events.flush();
    }
    if (callbacks.progress) {
      callbacks.progress({"train", step, totalSteps, "steps"});
    }
    if (step % settings.saveEverySteps == 0 && step < totalSteps) {
      save();
    }
    if (settings.evalEverySteps > 0 && step % settings.evalEverySteps == 0 && step < totalSteps) {
      evaluate();
      lastStepEnd = std::chrono::steady_clock::now();  // evaluation time is not a step's
    }
  }
  loader.reset();
  result.stopped = stop.stop_requested() && step < totalSteps;
  if (step > firstStep || result.lastCheckpoint.empty()) {
    save();
  }
  if (!result.stopped && settings.evalAtEnd && step > firstStep) {
    evaluate();
  }
  result.step = step;
  result.stepsThisRun = step - firstStep;
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace taxon::train
