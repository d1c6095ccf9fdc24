#include "eval/torch/Evaluator.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "checkpoint/TrainedModel.hpp"
#include "core/Error.hpp"
#include "core/Files.hpp"
#include "core/torch/Device.hpp"
#include "data/Loader.hpp"
#include "data/torch/BatchTensors.hpp"
#include "deploy/torch/GraphRunner.hpp"
#include "deploy/torch/InceptionOnnx.hpp"

namespace taxon::eval {

namespace fs = std::filesystem;

MetricsReport evaluateModel(model::InceptionV3Impl& model, const records::RecordSet& records,
                            const c10::Device& device, const ModelEvalSettings& settings,
                            std::stop_token stop, const core::ProgressFn& progress) {
  const records::RecordSplit& split = records.split(settings.subset);
  if (split.records == 0) {  // a precision of 0 would read as a model that is always wrong
    throw core::Error("nothing to evaluate: " + records.emptySplitReason(settings.subset));
  }
  const std::int64_t total =
      settings.maxExamples > 0 ? std::min(settings.maxExamples, split.records) : split.records;
  data::LoaderSettings loaderSettings;
  loaderSettings.shards = split.shards;
  loaderSettings.mode = data::LoaderMode::kEval;
  loaderSettings.batchSize = settings.batchSize;
  loaderSettings.preprocess.height = static_cast<int>(model.settings().imageSize);
  loaderSettings.preprocess.width = static_cast<int>(model.settings().imageSize);
  loaderSettings.workerThreads = settings.loaderThreads;
  loaderSettings.skipCorruptRecords = settings.skipCorrupt;
  // Evaluation must not compete with itself for the cores: two batches ahead are enough.
  loaderSettings.queueBatches = 2;
  data::Loader loader(loaderSettings, stop);

  MetricsAccumulator metrics(records.categories, settings.metrics);
  model.eval();
  torch::NoGradGuard noGrad;
  std::unique_ptr<deploy::GraphRunner> runner;
  if (!settings.precision.empty()) {
    deploy::OnnxProvenance provenance;
    provenance.categories = records.categories;
    deploy::RunnerSettings runnerSettings;
    runnerSettings.device = device;
    runnerSettings.precision = deploy::parsePrecision(settings.precision, device);
    runner = std::make_unique<deploy::GraphRunner>(deploy::inceptionToOnnx(model, provenance),
                                                   runnerSettings);
  }
  std::int64_t done = 0;
  std::vector<std::int64_t> classes;
  while (done < total) {
    auto batch = loader.next();
    if (!batch) {
      break;
    }
    const int keep = static_cast<int>(std::min<std::int64_t>(batch->size, total - done));
    classes.resize(static_cast<std::size_t>(keep));
    for (int i = 0; i < keep; ++i) {
      const std::int64_t c = batch->labels[static_cast<std::size_t>(i)] - records.labelOffset;
      if (c < 0 || c >= records.numClasses()) {
        throw core::Error(batch->keys[static_cast<std::size_t>(i)] + ": label " +
                          std::to_string(batch->labels[static_cast<std::size_t>(i)]) +
                          " is outside the " + std::to_string(records.numClasses()) +
                          " categories of " + records.directory.string());
      }
      classes[static_cast<std::size_t>(i)] = c;
    }
    const auto tensors = data::toTensors(*batch, device);
    auto probabilities = (runner ? runner->run(tensors.images).at(1)
                                 : torch::softmax(model.forward(tensors.images).logits, 1))
                             .narrow(0, 0, keep)
                             .to(torch::kCPU, torch::kFloat)
                             .contiguous();
    batch->keys.resize(static_cast<std::size_t>(keep));
    metrics.add(probabilities.data_ptr<float>(), static_cast<std::size_t>(keep), classes.data(),
                batch->keys);
    done += keep;
    if (progress) {
      progress({"eval " + settings.subset, done, total, "images"});
    }
  }
  auto report = metrics.report();
  report.expectedExamples = total;
  if (!stop.stop_requested()) {
    report.lostExamples = total - done;
  }
  for (const auto& skipped : loader.stats().skipped) {
    report.skipped.push_back({skipped.key, skipped.reason});
  }
  return report;
}

std::int64_t recalibrateBatchNorm(model::InceptionV3Impl& model, const records::RecordSet& records,
                                  const c10::Device& device, const RecalibrationSettings& settings,
                                  std::stop_token stop, const core::ProgressFn& progress) {
  const records::RecordSplit& split = records.split(settings.subset);
  if (split.records == 0) {  // a precision of 0 would read as a model that is always wrong
    throw core::Error("nothing to evaluate: " + records.emptySplitReason(settings.subset));
  }
  const std::int64_t total = std::min(settings.examples, split.records);
  std::vector<torch::nn::BatchNorm2dImpl*> layers;
  for (const auto& child : model.modules()) {
    if (auto* bn = child->as<torch::nn::BatchNorm2dImpl>()) {
      layers.push_back(bn);
    }
  }
  if (total <= 0 || layers.empty()) {
    return 0;
  }
  data::Loader loader(data::shuffledEvaluationCrops(
                          split.shards, static_cast<int>(model.settings().imageSize),
                          settings.batchSize, settings.seed, total, settings.loaderThreads),
                      stop);

  std::vector<std::optional<double>> momenta;
  for (auto* bn : layers) {
    momenta.push_back(bn->options.momentum());
  }
  model.eval();
  for (auto* bn : layers) {
    bn->train();
  }
  torch::NoGradGuard noGrad;
  std::int64_t done = 0;
  std::int64_t used = 0;
  std::int64_t batches = 0;
  while (done < total) {
    auto batch = loader.next();
    if (!batch) {
      break;
    }
    const std::int64_t keep = std::min<std::int64_t>(batch->size, total - done);
    done += keep;
    // A batch of one image has no spread where a layer's maps are 1 x 1 (the aux head at 75 px),
    // which batch norm refuses in training mode: a last batch of one is left out (33 training
    // images in batches of 8 ended a run at its first checkpoint).
    if (keep < 2) {
      continue;
    }
    // Batch k replaces 1 / (k + 1) of the statistics: an equal-weight average of all batches.
    ++batches;
    for (auto* bn : layers) {
      bn->options.momentum(1.0 / static_cast<double>(batches));
    }
    const auto tensors = data::toTensors(*batch, device);
    model.forward(tensors.images.narrow(0, 0, keep));
    used += keep;
    if (progress) {
      progress({"batch-norm statistics", done, total, "images"});
    }
  }
  for (std::size_t i = 0; i < layers.size(); ++i) {
    layers[i]->options.momentum(momenta[i]);
  }
  model.eval();
  return used;
}

EvalOutcome evaluateCheckpoint(const EvalSettings& settings, std::stop_token stop,
                               const core::ProgressFn& progress) {
  auto trained = checkpoint::loadTrainedModel(settings.checkpoint, settings.device);
  const fs::path dataDir = settings.dataDir.empty() ? trained.settings.dataDir : settings.dataDir;
  const records::RecordSet records = records::openRecordSet(dataDir);
  if (records.categories != trained.categories) {
    core::throwFileError(dataDir, "its categories (" + std::to_string(records.numClasses()) +
                                      ") are not the ones the model in " +
                                      trained.checkpoint.string() + " was trained on (" +
                                      std::to_string(trained.categories.size()) + ")");
  }
  EvalOutcome outcome;
  outcome.step = trained.step;
  outcome.checkpoint = trained.checkpoint;
  outcome.warnings = trained.warnings;
  if (settings.recalibrateExamples > 0) {
    RecalibrationSettings recalibration;
    recalibration.examples = settings.recalibrateExamples;
    recalibration.batchSize = settings.model.batchSize;
    recalibration.loaderThreads = settings.model.loaderThreads;
    recalibration.seed = settings.recalibrateSeed;
    recalibrateBatchNorm(*trained.model, records, core::parseDevice(settings.device), recalibration,
                         stop, progress);
  }
  outcome.report = evaluateModel(*trained.model, records, core::parseDevice(settings.device),
                                 settings.model, stop, progress);
  outcome.stopped = stop.stop_requested();
  if (!settings.evalDir.empty() && !outcome.stopped) {
    writeReport(outcome.report, settings.evalDir);
    // Where the numbers come from, beside them.
    const fs::path summaryPath = settings.evalDir / "summary.json";
    nlohmann::json summary;
    {
      std::ifstream in(summaryPath, std::ios::binary);
      summary = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    }
    if (summary.is_discarded() || !summary.is_object()) {
      summary = nlohmann::json::object();
    }
    summary["checkpoint"] = outcome.checkpoint.string();
    summary["step"] = outcome.step;
    summary["subset"] = settings.model.subset;
    summary["data_dir"] = dataDir.string();
    summary["expected_examples"] = outcome.report.expectedExamples;
    summary["lost_examples"] = outcome.report.lostExamples;
    auto skipped = nlohmann::json::array();
    for (const auto& s : outcome.report.skipped) {
      skipped.push_back({{"key", s.key}, {"reason", s.reason}});
    }
    summary["skipped"] = skipped;
    core::writeFileAtomic(summaryPath, summary.dump(2) + "\n");
  }
  return outcome;
}

}  // namespace taxon::eval
