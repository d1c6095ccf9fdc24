#include "train/Trainer.hpp"

#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <c10/core/DeviceGuard.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "checkpoint/Checkpoint.hpp"
#include "checkpoint/TrainedModel.hpp"
#include "core/Error.hpp"
#include "core/Files.hpp"
#include "core/torch/Device.hpp"
#include "data/Loader.hpp"
#include "data/torch/BatchStager.hpp"
#include "data/torch/BatchTensors.hpp"
#include "dist/Distributed.hpp"
#include "eval/torch/Evaluator.hpp"
#include "model/TorchvisionWeights.hpp"
#include "records/EventFile.hpp"
#include "records/RecordSet.hpp"
#include "settings/TrainSettingsJson.hpp"
#include "train/CudaStep.hpp"
#include "train/TrainStep.hpp"

namespace taxon::train {

namespace fs = std::filesystem;

namespace {

constexpr const char* kSettingsFile = "settings.json";
constexpr const char* kLabelsFile = "labels.txt";
constexpr const char* kMetricsFile = "metrics.jsonl";

double unixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The fields that define the network and the data order: a resumed run must keep them.
void checkResumable(const settings::TrainSettings& saved, const settings::TrainSettings& asked) {
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

// Dropout's random generator of each replica (see InceptionV3Impl::setDropoutGenerator): on a
// GPU the device's default generator, which only its replica uses; on the CPU one of its own, as
// CPU replica threads would otherwise share the global one. Rank 0 continues the generator that
// drew the initial weights, which is exactly what a single-replica run drew dropout from before
// replicas had their own; rank r > 0 starts from another seed.
constexpr std::uint64_t kRankSeedStride = 0x9E3779B97F4A7C15ULL;

std::uint64_t replicaSeed(std::uint64_t seed, int rank) {
  return seed + kRankSeedStride * static_cast<std::uint64_t>(rank);
}

std::string generatorName(int rank) {
  return "dropout/" + std::to_string(rank);
}

at::Tensor generatorState(at::Generator generator) {
  const std::lock_guard lock(generator.mutex());
  return generator.get_state();
}

void setGeneratorState(at::Generator& generator, const at::Tensor& state) {
  const std::lock_guard lock(generator.mutex());
  generator.set_state(state);
}

// A replica's saved generator state in a checkpoint: "dropout/RANK", or, in checkpoints written
// before replicas had their own, the global generator rank 0's dropout drew from ("cpu", "cuda:N").
const at::Tensor* savedGenerator(const NamedTensors& saved, int rank, const c10::Device& device) {
  const std::string name = generatorName(rank);
  bool anyReplica = false;
  for (const auto& [key, tensor] : saved) {
    if (key == name) {
      return &tensor;
    }
    anyReplica = anyReplica || key.rfind("dropout/", 0) == 0;
  }
  if (anyReplica || rank != 0) {
    return nullptr;
  }
  const std::string legacy = device.is_cuda() ? device.str() : "cpu";
  for (const auto& [key, tensor] : saved) {
    if (key == legacy) {
      return &tensor;
    }
  }
  return nullptr;
}

// Generator states travel between replicas as whole numbers: [byte count, bytes packed 8 a word].
std::vector<std::int64_t> packBytes(const at::Tensor& bytes) {
  const auto n = bytes.numel();
  std::vector<std::int64_t> words(1 + static_cast<std::size_t>((n + 7) / 8), 0);
  words[0] = n;
  std::memcpy(words.data() + 1, bytes.contiguous().data_ptr<std::uint8_t>(),
              static_cast<std::size_t>(n));
  return words;
}

at::Tensor unpackBytes(const std::int64_t* words) {
  auto bytes = at::empty({words[0]}, at::kByte);
  std::memcpy(bytes.data_ptr<std::uint8_t>(), words + 1, static_cast<std::size_t>(words[0]));
  return bytes;
}

// Keeps the lines of metrics.jsonl up to `step` (a run killed after its last checkpoint logged
// steps that the resumed run repeats) and drops a last line cut short.
void truncateMetrics(const fs::path& path, std::int64_t step) {
  std::error_code error;
  if (!fs::exists(path, error)) {
    return;
  }
  std::istringstream in(core::readFile(path));
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
  if (!e.skipped.empty()) {
    return {{"step", e.step},
            {"time", unixNow()},
            {"eval", {{"subset", e.subset}, {"examples", 0}, {"skipped", e.skipped}}}};
  }
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
  files.checkpoints = static_cast<int>(checkpoint::listCheckpoints(trainDir).size());
  return files;
}

settings::TrainSettings readRunSettings(const fs::path& trainDir) {
  const fs::path path = trainDir / kSettingsFile;
  std::error_code error;
  if (!fs::exists(path, error)) {
    core::throwFileError(trainDir, "holds no training run to resume (no settings.json)");
  }
  try {
    return settings::trainSettingsFromJson(nlohmann::json::parse(core::readFile(path)));
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

namespace {

// One replica's place in the run.
struct Replica {
  int rank = 0;
  int world = 1;
  dist::Group* group = nullptr;  // null: a single replica
  c10::Device device{c10::kCPU};
  bool leader() const { return rank == 0; }
};

// Thrown where replicas lost each other (a collective failed): the trainer tells it apart from
// the failure that caused it.
class CollectiveError : public core::Error {
 public:
  using core::Error::Error;
};

// SyncBatchNorm's collectives over the replica group.
class GroupCollectives : public model::ReplicaGroup {
 public:
  explicit GroupCollectives(dist::Group& group) : group_(group) {}
  void sum(torch::Tensor& tensor) override { group_.allReduceSum(tensor); }
  torch::Tensor gather(const torch::Tensor& tensor) override {
    return group_.allGatherTensor(tensor);
  }

 private:
  dist::Group& group_;
};

// Sum and sum of squares of every parameter, in double: equal on every replica exactly when the
// replicas hold the same weights (they apply the same averaged gradients).
std::vector<double> parameterChecksum(torch::nn::Module& module) {
  torch::NoGradGuard noGrad;
  std::vector<torch::Tensor> sums, squares;
  for (const auto& p : module.parameters()) {
    sums.push_back(p.detach().sum(torch::kDouble));
    squares.push_back(p.detach().square().sum(torch::kDouble));
  }
  // One copy to the host for all of them.
  const auto host =
      torch::stack({torch::stack(sums).sum(), torch::stack(squares).sum()}).to(torch::kCPU);
  return {host[0].item<double>(), host[1].item<double>()};
}

TrainResult trainReplica(const settings::TrainSettings& asked, bool resume,
                         const TrainCallbacks& callbacks, std::stop_token stop,
                         const Replica& replica) {
  const auto log = [&](const std::string& text) {
    if (callbacks.onLog) {
      callbacks.onLog(text);
    }
  };
  const auto started = std::chrono::steady_clock::now();
  settings::TrainSettings settings = asked;
  TrainResult result;
  const fs::path dir = settings.trainDir;
  const bool leader = replica.leader();
  dist::Group* const group = replica.group;
  const c10::Device device = replica.device;
  // Every CUDA call of this thread (allocations, kernels, streams, the engine's own kernel) goes to
  // the replica's GPU, not to the process's default cuda:0.
  const c10::OptionalDeviceGuard onDevice(device.is_cuda() ? std::make_optional(device)
                                                           : std::nullopt);
  // A collective failure becomes CollectiveError naming the rank that went first.
  const auto collective = [&](auto&& call) {
    try {
      call();
    } catch (const CollectiveError&) {
      throw;
    } catch (const std::exception& e) {
      if (group == nullptr) {
        throw;
      }
      throw CollectiveError("rank " + std::to_string(replica.rank) +
                            ": the replicas lost each other: " + group->describeFailure() +
                            " (here: " + dist::errorText(e.what()) + ")");
    }
  };

  // --- the run's folder: new, or one to continue (rank 0 reads and writes it) ---
  std::optional<checkpoint::CheckpointData> checkpoint;
  fs::path checkpointPath;
  if (leader) {
    const RunFiles existing = findRunFiles(dir);
    if (resume) {
      if (const int removed = checkpoint::removeUnfinishedCheckpoints(dir); removed > 0) {
        log("removed " + std::to_string(removed) +
            " unfinished checkpoint file(s) of an interrupted save in " + dir.string());
      }
      std::vector<std::string> warnings;
      checkpoint = checkpoint::readLatestCheckpoint(dir, &warnings, &checkpointPath);
      for (const auto& warning : warnings) {
        log("warning: " + warning);
      }
      if (checkpoint) {
        checkResumable(
            settings::trainSettingsFromJson(nlohmann::json::parse(checkpoint->settingsJson)),
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
  }

  // --- data ---
  const records::RecordSet records = records::openRecordSet(settings.dataDir);
  const records::RecordSplit& trainSplit = records.split("train");
  if (checkpoint && checkpoint->categories != records.categories) {
    core::throwFileError(settings.dataDir, "its categories are not the ones the run in " +
                                               dir.string() + " was trained on");
  }
  const bool haveValidation = records.count(settings.evalSubset) > 0;
  const bool wantEvaluation = settings.evalEverySteps > 0 || settings.evalAtEnd;
  const std::int64_t replicaBatch = settings.batchSize / replica.world;
  const double stepsPerEpoch =
      std::floor(static_cast<double>(trainSplit.records) / static_cast<double>(settings.batchSize));
  if (stepsPerEpoch < 1.0) {
    core::throwFileError(settings.dataDir, "has " + std::to_string(trainSplit.records) +
                                               " training images, fewer than one batch of " +
                                               std::to_string(settings.batchSize));
  }
  std::int64_t totalSteps = settings.maxSteps;
  result.limit = "--max_steps";
  if (settings.maxEpochs > 0.0) {
    const auto byEpochs = static_cast<std::int64_t>(std::ceil(settings.maxEpochs * stepsPerEpoch));
    if (totalSteps <= 0 || byEpochs < totalSteps) {
      result.limit = "--num_epochs";
    }
    totalSteps = totalSteps > 0 ? std::min(totalSteps, byEpochs) : byEpochs;
  }
  result.totalSteps = totalSteps;

  // --- model, optimizer ---
  const bool cuda = device.is_cuda();
  const bool bf16 = cuda && settings.precision == "bf16";
  const bool channelsLast = cuda && settings.channelsLast;
  const auto netSettings = checkpoint::modelSettings(settings, records.numClasses());
  // Every replica draws the same initial weights (replica threads share the CPU generator, so one
  // at a time), which are also those of a single-replica run with the same seed. Dropout then
  // draws from the replica's own generator (see replicaSeed).
  model::InceptionV3 net{nullptr};
  at::Generator dropoutGenerator;
  {
    static std::mutex initMutex;
    const std::lock_guard lock(initMutex);
    auto global = at::globalContext().defaultGenerator(c10::Device(c10::kCPU));
    {
      const std::lock_guard seeding(global.mutex());
      global.set_current_seed(settings.seed);
    }
    net = model::InceptionV3(netSettings);
    if (!device.is_cuda()) {
      if (replica.rank == 0) {
        const std::lock_guard cloning(global.mutex());
        dropoutGenerator = global.clone();
      } else {
        dropoutGenerator = at::detail::createCPUGenerator(replicaSeed(settings.seed, replica.rank));
      }
    }
  }
  if (device.is_cuda()) {
    dropoutGenerator = at::globalContext().defaultGenerator(device);
    const std::lock_guard seeding(dropoutGenerator.mutex());
    dropoutGenerator.set_current_seed(replicaSeed(settings.seed, replica.rank));
  }
  net->setDropoutGenerator(dropoutGenerator);
  // A head whose loss has no weight is not computed, and its parameters are not trained (nor
  // registered with the gradient averaging, which would wait for their gradients forever).
  net->useAuxHead(settings.auxLogits && settings.auxWeight > 0.0);
  if (leader && !checkpoint && !settings.initFrom.empty()) {
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
  if (leader) {
    std::int64_t count = 0;
    for (const auto& p : net->parameters()) {
      count += p.numel();
    }
    char line[320];
    std::snprintf(line, sizeof line,
                  "Inception-v3 (depth multiplier %g, %lld px, %lld categories): %lld parameters; "
                  "%lld training images, %.0f steps per epoch of %lld; %lld steps on %s",
                  settings.depthMultiplier, static_cast<long long>(settings.imageSize),
                  static_cast<long long>(records.numClasses()), static_cast<long long>(count),
                  static_cast<long long>(trainSplit.records), stepsPerEpoch,
                  static_cast<long long>(settings.batchSize), static_cast<long long>(totalSteps),
                  device.str().c_str());
    std::string text = line;
    if (replica.world > 1) {
      text += " and " + std::to_string(replica.world - 1) + " more replica(s) (" +
              std::to_string(replicaBatch) + " images each per step" +
              (settings.syncBatchNorm ? ", synchronized batch norm" : "") + ")";
    }
    if (cuda) {
      text += std::string("; ") + (bf16 ? "bf16 autocast" : "fp32") +
              (channelsLast ? ", channels-last" : "");
    }
    log(text);
  }
  net->to(device);
  if (channelsLast) {
    toChannelsLast(*net);
  }
  if (cuda) {
    at::globalContext().setBenchmarkCuDNN(settings.cudnnBenchmark);
  }
  net->train();
  const NamedTensors parameters = namedParameters(*net);
  std::vector<bool> decay;
  for (const auto& [name, tensor] : parameters) {
    // Convolution and fully connected weights that are trained.
    decay.push_back(tensor.dim() > 1 && tensor.requires_grad());
  }
  Optimizer optimizer(parameters, decay, settings);
  const LearningRateSchedule schedule(settings, stepsPerEpoch, totalSteps);

  std::int64_t step = 0;
  std::int64_t epoch = 0;
  std::vector<std::int64_t> savedPositions;  // (records, batches) per replica of the saved run
  bool resumed = checkpoint.has_value();     // known to every replica after the broadcast
  if (checkpoint) {
    try {
      const auto missing = checkpoint::copyInto(*net, checkpoint->model);
      if (!missing.empty()) {
        throw core::Error("it lacks '" + missing.front() + "'");
      }
      optimizer.loadState(checkpoint->optimizer);
    } catch (const core::Error& e) {
      core::throwFileError(checkpointPath, e.what());
    }
    result.lastCheckpoint = checkpointPath;
    step = checkpoint->step;
    epoch = checkpoint->epoch;
    savedPositions = checkpoint->replicaPositions;
    if (savedPositions.empty()) {
      savedPositions = {checkpoint->positionRecords, checkpoint->positionBatches};
    }
  }

  // --- every replica starts from rank 0's state ---
  if (group != nullptr) {
    collective([&] {
      auto header = torch::tensor({std::int64_t{checkpoint ? 1 : 0}, step, epoch,
                                   static_cast<std::int64_t>(savedPositions.size())},
                                  torch::kInt64);
      std::vector<at::Tensor> message{header};
      group->broadcast(message, 0);
      const auto* h = header.data_ptr<std::int64_t>();
      resumed = h[0] != 0;
      step = h[1];
      epoch = h[2];
      auto positions = leader ? torch::tensor(savedPositions, torch::kInt64)
                              : torch::zeros({h[3]}, torch::kInt64);
      if (h[3] > 0) {
        std::vector<at::Tensor> p{positions};
        group->broadcast(p, 0);
        savedPositions.assign(positions.data_ptr<std::int64_t>(),
                              positions.data_ptr<std::int64_t>() + positions.numel());
      }
      std::vector<at::Tensor> state;
      for (const auto& [name, tensor] : namedState(*net)) {
        state.push_back(tensor);
      }
      if (resumed) {
        for (const auto& [name, tensor] : optimizer.state()) {
          state.push_back(tensor);
        }
      }
      group->broadcast(state, 0);
      // Each replica's dropout generator, from the checkpoint (a replica that the saved run did
      // not have keeps its fresh seed).
      if (resumed) {
        const auto bytes = generatorState(dropoutGenerator).numel();
        auto states = torch::zeros({replica.world, bytes}, torch::kUInt8);
        auto present = torch::zeros({replica.world}, torch::kInt64);
        if (leader) {
          for (int r = 0; r < replica.world; ++r) {
            const auto* saved = savedGenerator(checkpoint->generators, r, device);
            if (saved != nullptr && saved->numel() == bytes) {
              states[r].copy_(*saved);
              present[r] = 1;
            }
          }
        }
        std::vector<at::Tensor> generatorMessage{states, present};
        group->broadcast(generatorMessage, 0);
        if (present[replica.rank].item<std::int64_t>() != 0) {
          setGeneratorState(dropoutGenerator, states[replica.rank].clone());
        }
      }
    });
  } else if (checkpoint) {
    if (const auto* saved = savedGenerator(checkpoint->generators, 0, device)) {
      setGeneratorState(dropoutGenerator, *saved);
    }
  }
  data::LoaderPosition position;
  if (!savedPositions.empty()) {
    const auto savedWorld = static_cast<int>(savedPositions.size() / 2);
    if (savedWorld == replica.world) {
      position = {savedPositions[2 * replica.rank], savedPositions[2 * replica.rank + 1]};
    } else {
      // Another replica count: each replica's part of the epoch changes, so continue from the
      // same global position (the records all replicas consumed) split evenly.
      std::int64_t consumed = 0;
      for (int r = 0; r < savedWorld; ++r) {
        consumed += savedPositions[2 * r];
      }
      position.records = consumed / replica.world + (replica.rank < consumed % replica.world);
      position.batches = savedPositions[1];
      if (leader) {
        log("the run was saved by " + std::to_string(savedWorld) + " replica(s) and continues on " +
            std::to_string(replica.world) + ": the rest of epoch " + std::to_string(epoch) +
            " is its remaining " +
            std::to_string(trainSplit.records - std::min(consumed, trainSplit.records)) +
            " images, split anew");
      }
    }
  }
  std::optional<WeightAverage> average;
  if (leader) {
    average.emplace(parameters, settings.emaDecay);
    if (checkpoint) {
      try {
        average->loadState(checkpoint->average);
      } catch (const core::Error& e) {
        core::throwFileError(checkpointPath, e.what());
      }
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
  }
  checkpoint.reset();  // its tensors are copied; free the memory

  std::unique_ptr<dist::GradientAverager> averager;
  if (group != nullptr) {
    averager =
        std::make_unique<dist::GradientAverager>(*group, net->parameters(), settings.bucketMiB);
    if (settings.syncBatchNorm) {
      net->synchronizeBatchNorm(std::make_shared<GroupCollectives>(*group));
    }
  }

  std::optional<MetricsLog> metricsLog;
  std::optional<records::EventFileWriter> events;
  if (leader) {
    metricsLog.emplace(dir / kMetricsFile);
    events.emplace(dir);
  }
  const std::string settingsJson = toJson(settings).dump();

  // The averaged weights on a second network, so that training state is untouched (rank 0 alone;
  // the others wait for it in their next collective). Their batch-norm statistics are recomputed
  // (eval::recalibrateBatchNorm) at most once per step, for validation and for the checkpoint,
  // whose average then carries them: the training network's running statistics were gathered
  // with other weights, and with them the averaged weights scored up to 9 points lower
  // (Fashion-MNIST, mid-run). Cut short by a stop, the statistics are not kept, and readers of the
  // checkpoint fall back to the training network's.
  model::InceptionV3 evalNet{nullptr};
  NamedTensors averagedStatistics;
  std::int64_t statisticsStep = -1;
  const auto prepareEvalNet = [&] {
    if (evalNet.is_empty()) {
      // Its initial weights are overwritten at once; drawing them must not move the global random
      // generator, whose state is part of the run (exact resume).
      auto generator = at::globalContext().defaultGenerator(c10::Device(c10::kCPU));
      at::Tensor state;
      {
        const std::lock_guard lock(generator.mutex());
        state = generator.get_state();
      }
      evalNet = model::InceptionV3(netSettings);
      {
        const std::lock_guard lock(generator.mutex());
        generator.set_state(state);
      }
      evalNet->to(device);
    }
    checkpoint::copyInto(*evalNet, namedState(*net));     // batch-norm statistics
    checkpoint::copyInto(*evalNet, average->averages());  // averaged parameters
    if (settings.recalibrateExamples <= 0) {
      return;
    }
    if (statisticsStep == step) {
      checkpoint::copyInto(*evalNet, averagedStatistics);
      return;
    }
    eval::RecalibrationSettings recalibration;
    recalibration.examples = settings.recalibrateExamples;
    recalibration.batchSize = static_cast<int>(std::min<std::int64_t>(settings.batchSize, 256));
    recalibration.loaderThreads = settings.loaderThreads;
    recalibration.seed = settings.seed;
    const std::int64_t used = eval::recalibrateBatchNorm(*evalNet, records, device, recalibration,
                                                         stop, callbacks.progress);
    averagedStatistics.clear();
    statisticsStep = -1;
    if (stop.stop_requested() &&
        used < std::min(settings.recalibrateExamples, trainSplit.records)) {
      return;
    }
    for (const auto& [name, tensor] : namedState(*evalNet)) {
      if (name.ends_with(".running_mean") || name.ends_with(".running_var")) {
        averagedStatistics.emplace_back(name, tensor.detach().clone());
      }
    }
    statisticsStep = step;
  };

  // Every replica checks that all hold the same weights; rank 0 then writes the checkpoint.
  nlohmann::json lastMetrics = nlohmann::json::object();
  const auto save = [&] {
    std::vector<std::int64_t> positions{position.records, position.batches};
    const auto ownGenerator = packBytes(generatorState(dropoutGenerator));
    std::vector<std::int64_t> generators = ownGenerator;
    if (group != nullptr) {
      std::vector<double> sums;
      collective([&] {
        positions = group->allGather(positions);
        generators = group->allGather(ownGenerator);
        sums = group->allGatherDoubles(parameterChecksum(*net));
      });
      for (int r = 1; r < replica.world; ++r) {
        if (sums[2 * r] != sums[0] || sums[2 * r + 1] != sums[1]) {
          throw core::Error("after step " + std::to_string(step) + " the weights of rank " +
                            std::to_string(r) + " differ from rank 0's: the replicas diverged");
        }
      }
    }
    if (!leader) {
      return;
    }
    checkpoint::CheckpointData data;
    data.step = step;
    data.epoch = epoch;
    data.positionRecords = position.records;
    data.positionBatches = position.batches;
    if (replica.world > 1) {
      data.replicaPositions = positions;
    }
    data.settingsJson = settingsJson;
    data.categories = records.categories;
    data.metricsJson = lastMetrics.dump();
    data.model = namedState(*net);
    data.average = average->averages();
    if (settings.recalibrateExamples > 0) {
      prepareEvalNet();
      if (statisticsStep == step) {
        data.average.insert(data.average.end(), averagedStatistics.begin(),
                            averagedStatistics.end());
      }
    }
    data.optimizer = optimizer.state();
    for (int r = 0; r < replica.world; ++r) {
      data.generators.emplace_back(generatorName(r),
                                   unpackBytes(generators.data() + r * ownGenerator.size()));
    }
    result.lastCheckpoint = checkpoint::saveCheckpoint(dir, data, settings.keepCheckpoints);
  };

  // Validation with the averaged weights.
  const auto evaluate = [&] {
    if (!haveValidation || !leader) {
      return;
    }
    prepareEvalNet();
    eval::ModelEvalSettings evalSettings;
    evalSettings.maxExamples = settings.evalExamples;
    evalSettings.subset = settings.evalSubset;
    evalSettings.loaderThreads = settings.loaderThreads;
    evalSettings.batchSize = static_cast<int>(std::min<std::int64_t>(settings.batchSize, 256));
    // Training goes on past a damaged validation record (as past a damaged training one), and
    // says what it left out.
    evalSettings.skipCorrupt = true;
    const auto report =
        eval::evaluateModel(*evalNet, records, device, evalSettings, stop, callbacks.progress);
    if (stop.stop_requested()) {
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
    point.step = step;
    point.subset = evalSettings.subset;
    point.examples = report.examples;
    point.precisionAt1 = report.precisionAt1;
    point.recallAt5 = report.recallAtK;
    point.loss = report.meanLoss;
    metricsLog->write(evalJson(point));
    events->addScalars(step, {{"eval/precision_at_1", point.precisionAt1},
                              {"eval/recall_at_5", point.recallAt5},
                              {"eval/loss", point.loss}});
    events->flush();
    char line[160];
    std::snprintf(line, sizeof line, "step %lld: %s precision @ 1 = %.4f recall @ %d = %.4f",
                  static_cast<long long>(step), point.subset.c_str(), point.precisionAt1,
                  report.topK, point.recallAt5);
    log(line);
    result.lastEval = point;
    if (callbacks.onEval) {
      callbacks.onEval(point);
    }
  };

  // An empty evaluation split is said once, not evaluated as a precision of 0 again and again.
  if (leader && wantEvaluation && !haveValidation) {
    EvalPoint point;
    point.step = step;
    point.subset = settings.evalSubset;
    point.skipped = records.emptySplitReason(settings.evalSubset);
    metricsLog->write(evalJson(point));
    log("warning: nothing to evaluate: " + point.skipped +
        "; no evaluation during training (--eval_subset chooses another split)");
    if (callbacks.onEval) {
      callbacks.onEval(point);
    }
  }

  // --- the loop ---
  data::LoaderSettings loaderSettings;
  loaderSettings.shards = trainSplit.shards;
  loaderSettings.mode = data::LoaderMode::kTrain;
  loaderSettings.batchSize = static_cast<int>(replicaBatch);
  loaderSettings.dropRemainder = true;
  loaderSettings.preprocess.height = static_cast<int>(settings.imageSize);
  loaderSettings.preprocess.width = static_cast<int>(settings.imageSize);
  loaderSettings.seed = settings.seed;
  loaderSettings.epoch = epoch;
  loaderSettings.position = position;
  loaderSettings.rank = replica.rank;
  loaderSettings.worldSize = replica.world;
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
    log((replica.world > 1 ? "rank " + std::to_string(replica.rank) + ": skipped " : "skipped ") +
        skipped.key + ": " + skipped.reason);
  };
  // Replicas stop together, after the step in which any of them was asked to (see the step's
  // figures below); a loader that stopped on its own would leave its replica without batches.
  std::optional<data::Loader> loader;
  if (step < totalSteps) {
    loader.emplace(loaderSettings, group == nullptr ? stop : std::stop_token{}, loaderCallbacks);
  }

  const std::int64_t firstStep = step;
  const auto batchesPerEpoch = static_cast<std::int64_t>(stepsPerEpoch);
  bool stopAgreed = false;
  bool pauseAgreed = false;
  auto lastStepEnd = std::chrono::steady_clock::now();
  // On CUDA the next batch is taken from the loader during the step and copied to the GPU on a
  // side stream while the step's kernels run (pinned memory; see data/BatchStager.hpp).
  data::BatchStager stager(device, channelsLast);
  std::optional<data::Batch> prefetched;
  bool havePrefetched = false;

  StepOptions stepOptions;
  stepOptions.auxWeight = settings.auxWeight;
  stepOptions.labelSmoothing = settings.labelSmoothing;
  stepOptions.weightDecay = settings.weightDecay;
  stepOptions.batchNormDecay = settings.batchNormDecay;
  stepOptions.bf16 = bf16;
  stepOptions.numClasses = records.numClasses();
  TrainStep trainStep(net, optimizer, average ? &*average : nullptr, parameters, decay,
                      stepOptions);
  StepHooks hooks;
  if (averager) {
    hooks.beforeForward = [&] { averager->prepare(); };
  }
  hooks.collective = [&](const std::function<void()>& part) { collective(part); };
  hooks.afterBackward = [&] {
    if (device.is_cuda() && position.batches + 1 < batchesPerEpoch) {
      prefetched = loader->next();  // the GPU is still busy with this step's kernels
      havePrefetched = true;
      if (prefetched) {
        stager.stage(*prefetched);
      }
    }
  };

  // A step's figures are read after the next step was launched (TrainStep.hpp), and then agreed
  // between the replicas in one small message that also carries each replica's stop and pause
  // requests, so that all stop or hold after the same step. `unreported` holds the host-side part
  // of the steps whose figures are still on their way, oldest first.
  std::deque<StepMetrics> unreported;
  const auto reportOldest = [&] {
    const auto figures = trainStep.takeFigures();
    StepMetrics m = unreported.front();
    unreported.pop_front();
    std::vector<double> message{figures->loss,
                                figures->crossEntropy,
                                figures->precisionAt1,
                                figures->recallAt5,
                                stop.stop_requested() ? 1.0 : 0.0,
                                callbacks.pauseRequested && callbacks.pauseRequested() ? 1.0 : 0.0};
    if (group != nullptr) {
      auto sum = torch::tensor(message, torch::kDouble);
      collective([&] { group->allReduceSum(sum); });
      for (std::size_t i = 0; i < message.size(); ++i) {
        message[i] = sum[static_cast<std::int64_t>(i)].item<double>() / (i < 4 ? replica.world : 1);
      }
    }
    stopAgreed = stopAgreed || message[4] > 0.0;
    pauseAgreed = message[5] > 0.0;
    if (!std::isfinite(message[0])) {
      throw core::Error(
          "step " + std::to_string(m.step) + ": the loss is " + std::to_string(message[0]) +
          "; training stopped, and the last checkpoint" +
          (result.lastCheckpoint.empty() ? std::string(" in ") + dir.string()
                                         : " " + result.lastCheckpoint.string()) +
          " still holds the last good weights. A lower --initial_learning_rate usually helps");
    }
    m.loss = message[0];
    m.crossEntropy = message[1];
    m.batchPrecisionAt1 = message[2];
    m.batchRecallAt5 = message[3];
    result.lastStep = m;
    if (!leader) {
      return;
    }
    lastMetrics = stepJson(m);
    metricsLog->write(lastMetrics);
    if (callbacks.onStep) {
      callbacks.onStep(m);
    }
    if (m.step % settings.logEverySteps == 0 || m.step == totalSteps) {
      log(seedLogLine(m));
      events->addScalars(m.step,
                         {{"loss", m.loss},
                          {"cross_entropy", m.crossEntropy},
                          {"learning_rate", m.learningRate},
                          {"examples_per_sec", m.examplesPerSec},
                          {"train/precision_at_1", m.batchPrecisionAt1},
                          {"train/recall_at_5", m.batchRecallAt5}},
                         m.wallTime);
      events->flush();
    }
    if (callbacks.progress) {
      callbacks.progress({"train", m.step, totalSteps, "steps"});
    }
  };
  // Before anything that must not see an unchecked step: a save (a non-finite loss must never
  // reach a checkpoint), an evaluation, a pause, the end.
  const auto reportAll = [&] {
    while (trainStep.pending() > 0) {
      reportOldest();
    }
  };

  while (step < totalSteps && !stopAgreed) {
    if (group == nullptr && stop.stop_requested()) {
      break;
    }
    // Every replica takes the same number of batches from each epoch (its share may be a record
    // longer than another's), so that they stay in step.
    std::optional<data::Batch> batch;
    if (position.batches < batchesPerEpoch) {
      if (havePrefetched) {
        batch = std::move(prefetched);
        prefetched.reset();
        havePrefetched = false;
      } else {
        batch = loader->next();
      }
    }
    if (!batch) {
      if (group == nullptr && stop.stop_requested()) {
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
    auto tensors = stager.take(*batch);
    if (channelsLast) {
      tensors.images = tensors.images.contiguous(at::MemoryFormat::ChannelsLast);  // already is
    }
    const auto target = tensors.labels - records.labelOffset;
    const double learningRate = schedule.at(step);
    trainStep.run(tensors.images, target, learningRate, step, hooks);
    ++step;
    position = {batch->streamEnd, batch->index + 1};

    StepMetrics m;
    m.step = step;
    m.epoch = epoch;
    m.learningRate = learningRate;
    const auto now = std::chrono::steady_clock::now();
    m.secPerBatch = std::chrono::duration<double>(now - lastStepEnd).count();
    lastStepEnd = now;
    m.examplesPerSec = m.secPerBatch > 0.0
                           ? static_cast<double>(batch->size) * replica.world / m.secPerBatch
                           : 0.0;
    m.wallTime = unixNow();
    unreported.push_back(m);
    // The previous step's figures are on the host by now or soon: this step's kernels were
    // queued after them.
    while (trainStep.pending() > 1) {
      reportOldest();
    }

    // A single replica holds as soon as it is asked; replicas hold when they agreed (in a message
    // above, or in the one reportAll sends), after the same step and outside any collective, so
    // the step's figures reach the callbacks first and a paused chart shows the step it stopped at.
    const bool pauseAsked =
        group == nullptr ? callbacks.pauseRequested && callbacks.pauseRequested() : pauseAgreed;
    const bool saveNow = step % settings.saveEverySteps == 0 && step < totalSteps;
    const bool evalNow =
        settings.evalEverySteps > 0 && step % settings.evalEverySteps == 0 && step < totalSteps;
    if (pauseAsked || saveNow || evalNow || stopAgreed || step == totalSteps) {
      reportAll();
    }
    const bool holdNow = group == nullptr ? pauseAsked : pauseAgreed;
    if (holdNow && !stopAgreed && callbacks.holdWhilePaused) {
      callbacks.holdWhilePaused(stop);
      pauseAgreed = false;
      lastStepEnd = std::chrono::steady_clock::now();  // the pause is not a step's time
    }
    if (saveNow && !stopAgreed) {
      save();
    }
    if (evalNow && !stopAgreed) {
      evaluate();
      lastStepEnd = std::chrono::steady_clock::now();  // evaluation time is not a step's
    }
  }
  reportAll();
  loader.reset();
  result.stopped = (stopAgreed || stop.stop_requested()) && step < totalSteps;
  if (step > firstStep || !resumed) {
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

// Devices of this process's replicas: the CPU for all, or consecutive GPUs from the asked index
// (offset by the process's LOCAL_RANK when each process of a node drives its own GPUs).
std::vector<c10::Device> replicaDevices(const settings::TrainSettings& settings,
                                        const dist::Launch& launch) {
  std::vector<c10::Device> devices;
  if (settings.device.rfind("cuda", 0) != 0) {
    devices.assign(static_cast<std::size_t>(settings.replicas), core::parseDevice(settings.device));
    return devices;
  }
  const auto colon = settings.device.find(':');
  const int asked = colon == std::string::npos ? 0 : std::atoi(settings.device.c_str() + colon + 1);
  const int first = asked + launch.localRank * settings.replicas;
  const int needed = first + settings.replicas;
  const auto available = static_cast<int>(torch::cuda::device_count());
  if (available < needed) {
    throw core::UsageError(
        (settings.replicas > 1 ? "--num_gpus " + std::to_string(settings.replicas)
                               : "--device " + settings.device) +
        ": " + std::to_string(settings.replicas) + " GPU(s) asked for" +
        (first > 0 ? " from cuda:" + std::to_string(first) : std::string()) + ", but this machine" +
        (available == 0 ? " has no usable CUDA GPU" : " has only " + std::to_string(available)) +
        (launch.processes > 1 ? " (LOCAL_RANK " + std::to_string(launch.localRank) + ")" : "") +
        (available > first ? "; use --num_gpus " + std::to_string(available - first)
                           : "; train on the CPU with --device cpu (--replicas N for CPU ranks)"));
  }
  for (int i = 0; i < settings.replicas; ++i) {
    devices.emplace_back(c10::kCUDA, static_cast<c10::DeviceIndex>(first + i));
  }
  return devices;
}

}  // namespace

TrainResult train(const settings::TrainSettings& asked, bool resume,
                  const TrainCallbacks& callbacks, std::stop_token stop) {
  core::throwIfInvalid("training", asked.validate());
  const dist::Launch launch = dist::launchFromEnvironment();
  const int local = asked.replicas;
  const int world = launch.processes * local;
  if (asked.batchSize % world != 0) {
    throw core::UsageError("the global batch (" + std::to_string(asked.batchSize) +
                           ") must split evenly between the " + std::to_string(world) +
                           " replicas of " + std::to_string(launch.processes) + " process(es)");
  }
  const auto devices = replicaDevices(asked, launch);
  if (asked.torchThreads > 0) {
    torch::set_num_threads(asked.torchThreads);
  }
  if (world == 1) {
    return trainReplica(asked, resume, callbacks, stop, Replica{0, 1, nullptr, devices[0]});
  }

  const auto timeout =
      std::chrono::milliseconds(static_cast<std::int64_t>(asked.collectiveTimeoutSeconds * 1000.0));
  const auto rendezvous =
      launch.processes > 1 ? dist::Rendezvous::tcp(launch, timeout) : dist::Rendezvous::inMemory();
  // Replica threads other than rank 0 pass on only warnings and skips, each under its rank.
  std::mutex logMutex;
  const auto replicaCallbacks = [&](int rank) {
    if (rank == 0) {
      return callbacks;
    }
    TrainCallbacks quiet;
    quiet.pauseRequested = callbacks.pauseRequested;  // every replica holds (see TrainCallbacks)
    quiet.holdWhilePaused = callbacks.holdWhilePaused;
    if (callbacks.onLog) {
      quiet.onLog = [&, rank](const std::string& text) {
        const std::lock_guard lock(logMutex);
        callbacks.onLog(text.rfind("rank ", 0) == 0 ? text
                                                    : "rank " + std::to_string(rank) + ": " + text);
      };
    }
    return quiet;
  };
  const auto run = [&](int index) {
    const int rank = launch.processRank * local + index;
    dist::GroupOptions options;
    options.rank = rank;
    options.size = world;
    options.device = devices[static_cast<std::size_t>(index)].str();
    options.timeout = timeout;
    // The replica's GPU is the thread's current device from here on (the NCCL backend's
    // construction included); trainReplica keeps it so.
    const auto device = devices[static_cast<std::size_t>(index)];
    const c10::OptionalDeviceGuard onDevice(device.is_cuda() ? std::make_optional(device)
                                                             : std::nullopt);
    dist::Group group(*rendezvous, options);
    try {
      return trainReplica(asked, resume, replicaCallbacks(rank), stop,
                          Replica{rank, world, &group, devices[static_cast<std::size_t>(index)]});
    } catch (const CollectiveError&) {
      throw;
    } catch (const std::exception& e) {
      group.reportFailure(dist::errorText(e.what()));
      throw;
    }
  };
  if (local == 1) {
    return run(0);
  }
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(local));
  std::vector<bool> collectiveErrors(static_cast<std::size_t>(local), false);
  TrainResult result;
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < local; ++i) {
      threads.emplace_back([&, i] {
        try {
          auto r = run(i);
          if (i == 0) {
            result = std::move(r);
          }
        } catch (const CollectiveError&) {
          collectiveErrors[static_cast<std::size_t>(i)] = true;
          errors[static_cast<std::size_t>(i)] = std::current_exception();
        } catch (...) {
          errors[static_cast<std::size_t>(i)] = std::current_exception();
        }
      });
    }
  }
  // The cause first: a replica's own failure, then the others' reports of losing it.
  for (int i = 0; i < local; ++i) {
    if (errors[static_cast<std::size_t>(i)] && !collectiveErrors[static_cast<std::size_t>(i)]) {
      std::rethrow_exception(errors[static_cast<std::size_t>(i)]);
    }
  }
  for (const auto& error : errors) {
    if (error) {
      std::rethrow_exception(error);
    }
  }
  return result;
}

}  // namespace taxon::train
