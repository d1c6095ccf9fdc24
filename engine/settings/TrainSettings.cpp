#include "settings/TrainSettings.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/Error.hpp"
#include "core/JsonNumbers.hpp"
#include "settings/TrainSettingsJson.hpp"

namespace taxon::settings {

void TrainSettings::applyRecipe(std::string_view recipeName) {
  TrainSettings defaults;  // the inception recipe
  optimizer = defaults.optimizer;
  learningRate = 0.0;
  learningRatePer256 = defaults.learningRatePer256;
  schedule = defaults.schedule;
  decayEpochs = defaults.decayEpochs;
  decayFactor = defaults.decayFactor;
  warmupEpochs = defaults.warmupEpochs;
  rmsDecay = defaults.rmsDecay;
  momentum = defaults.momentum;
  rmsEpsilon = defaults.rmsEpsilon;
  labelSmoothing = defaults.labelSmoothing;
  auxWeight = defaults.auxWeight;
  weightDecay = defaults.weightDecay;
  batchNormDecay = defaults.batchNormDecay;
  emaDecay = defaults.emaDecay;
  dropout = defaults.dropout;
  minCropArea = defaults.minCropArea;
  colourDistort = defaults.colourDistort;
  if (recipeName == "inception") {
    recipe = "inception";
  } else if (recipeName == "small-data") {
    recipe = "small-data";
    optimizer = OptimizerKind::kSgd;
    schedule = ScheduleKind::kCosine;
    warmupEpochs = 1.0;
    learningRatePer256 = 0.4;
    batchNormDecay = 0.99;
    emaDecay = 0.999;
    minCropArea = 0.8;
    colourDistort = false;
  } else {
    throw core::UsageError("unknown recipe '" + std::string(recipeName) +
                           "' (known: inception, small-data)");
  }
}

std::vector<std::string> TrainSettings::validate() const {
  std::vector<std::string> problems;
  const auto need = [&](bool ok, const std::string& problem) {
    if (!ok) {
      problems.push_back(problem);
    }
  };
  need(!trainDir.empty(), "a train dir is needed (--train_dir)");
  need(!dataDir.empty(), "a data dir with record files is needed (--data_dir)");
  need(device == "cpu" || device.rfind("cuda", 0) == 0,
       "device must be cpu, cuda or cuda:N (got '" + device + "')");
  need(imageSize >= 75, "image size must be at least 75 (got " + std::to_string(imageSize) + ")");
  need(depthMultiplier > 0.0, "depth multiplier must be positive");
  need(dropout >= 0.0 && dropout < 1.0, "dropout must be in [0, 1)");
  need(batchSize >= 1, "batch size must be at least 1");
  need(learningRate >= 0.0 && std::isfinite(learningRate),
       "learning rate must be positive (or 0 for 0.1 x batch / 256)");
  need(learningRatePer256 > 0.0, "the learning rate per 256 images must be positive");
  need(decayEpochs > 0.0, "decay epochs must be positive");
  need(decayFactor > 0.0 && decayFactor <= 1.0, "decay factor must be in (0, 1]");
  need(warmupEpochs >= 0.0, "warm-up epochs must not be negative");
  need(rmsDecay >= 0.0 && rmsDecay < 1.0, "RMSProp decay must be in [0, 1)");
  need(momentum >= 0.0 && momentum < 1.0, "momentum must be in [0, 1)");
  need(rmsEpsilon > 0.0, "RMSProp epsilon must be positive");
  need(labelSmoothing >= 0.0 && labelSmoothing < 1.0, "label smoothing must be in [0, 1)");
  need(auxWeight >= 0.0, "auxiliary loss weight must not be negative");
  need(weightDecay >= 0.0, "weight decay must not be negative");
  need(batchNormDecay >= 0.0 && batchNormDecay < 1.0, "batch-norm decay must be in [0, 1)");
  need(emaDecay >= 0.0 && emaDecay < 1.0, "weight-average decay must be in [0, 1)");
  need(maxSteps > 0 || maxEpochs > 0.0,
       "the run needs an end: a step limit (--max_steps) or an epoch limit (--num_epochs)");
  need(maxSteps >= 0 && maxEpochs >= 0.0, "step and epoch limits must not be negative");
  need(loaderThreads >= 0 && torchThreads >= 0, "thread counts must not be negative");
  need(minCropArea > 0.0 && minCropArea <= 1.0, "the smallest crop must be in (0, 1] of the image");
  need(shuffleBuffer >= 1, "the shuffle buffer must hold at least 1 record");
  need(logEverySteps >= 1, "log interval must be at least 1 step");
  need(saveEverySteps >= 1, "checkpoint interval must be at least 1 step");
  need(keepCheckpoints >= 1, "at least 1 checkpoint must be kept");
  need(recalibrateExamples >= 0, "the batch-norm recalibration images must not be negative");
  need(evalEverySteps >= 0 && evalExamples >= 0,
       "evaluation interval and size must not be negative");
  need(replicas >= 1, "at least 1 replica is needed (got " + std::to_string(replicas) + ")");
  need(batchSize % replicas == 0, "the global batch (" + std::to_string(batchSize) +
                                      ") must split evenly between the " +
                                      std::to_string(replicas) + " replicas");
  need(bucketMiB > 0.0, "the gradient bucket size must be positive");
  need(collectiveTimeoutSeconds >= 1.0, "the collective timeout must be at least 1 second");
  need(temperature > 0.0 && std::isfinite(temperature),
       "the distillation temperature must be positive");
  need(distillWeight >= 0.0 && distillWeight <= 1.0,
       "the distillation weight must be in [0, 1] (got " + std::to_string(distillWeight) + ")");
  need(teacherStep >= 0, "the teacher's step must not be negative");
  need(precision == "auto" || precision == "bf16" || precision == "fp32",
       "precision must be auto, bf16 or fp32 (got '" + precision + "')");
  return problems;
}

std::string_view name(OptimizerKind kind) {
  return kind == OptimizerKind::kRmsProp ? "rmsprop" : "sgd";
}

std::string_view name(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::kStaircase:
      return "staircase";
    case ScheduleKind::kCosine:
      return "cosine";
    case ScheduleKind::kConstant:
      return "constant";
  }
  return "?";
}

OptimizerKind parseOptimizer(std::string_view text) {
  for (auto kind : {OptimizerKind::kRmsProp, OptimizerKind::kSgd}) {
    if (text == name(kind)) {
      return kind;
    }
  }
  throw core::UsageError("unknown optimizer '" + std::string(text) + "' (known: rmsprop, sgd)");
}

ScheduleKind parseSchedule(std::string_view text) {
  for (auto kind : {ScheduleKind::kStaircase, ScheduleKind::kCosine, ScheduleKind::kConstant}) {
    if (text == name(kind)) {
      return kind;
    }
  }
  throw core::UsageError("unknown learning-rate schedule '" + std::string(text) +
                         "' (known: staircase, cosine, constant)");
}

// One list of fields serves both directions, so the two cannot drift apart.
template <typename Settings, typename Visit>
void visitFields(Settings& s, Visit&& visit) {
  visit("device", s.device);
  visit("image_size", s.imageSize);
  visit("depth_multiplier", s.depthMultiplier);
  visit("aux_logits", s.auxLogits);
  visit("dropout", s.dropout);
  visit("recipe", s.recipe);
  visit("batch_size", s.batchSize);
  visit("learning_rate", s.learningRate);
  visit("learning_rate_per_256", s.learningRatePer256);
  visit("decay_epochs", s.decayEpochs);
  visit("decay_factor", s.decayFactor);
  visit("warmup_epochs", s.warmupEpochs);
  visit("rms_decay", s.rmsDecay);
  visit("momentum", s.momentum);
  visit("rms_epsilon", s.rmsEpsilon);
  visit("label_smoothing", s.labelSmoothing);
  visit("aux_weight", s.auxWeight);
  visit("weight_decay", s.weightDecay);
  visit("batch_norm_decay", s.batchNormDecay);
  visit("ema_decay", s.emaDecay);
  visit("max_steps", s.maxSteps);
  visit("max_epochs", s.maxEpochs);
  visit("seed", s.seed);
  visit("loader_threads", s.loaderThreads);
  visit("shuffle_buffer", s.shuffleBuffer);
  visit("distort", s.distort);
  visit("min_crop_area", s.minCropArea);
  visit("colour_distort", s.colourDistort);
  visit("torch_threads", s.torchThreads);
  visit("log_every_n_steps", s.logEverySteps);
  visit("save_every_n_steps", s.saveEverySteps);
  visit("keep_checkpoints", s.keepCheckpoints);
  visit("eval_every_n_steps", s.evalEverySteps);
  visit("eval_examples", s.evalExamples);
  visit("eval_subset", s.evalSubset);
  visit("eval_at_end", s.evalAtEnd);
}

// Fields added after the first settings.json format: a file without them gets the defaults.
template <typename Settings, typename Visit>
void visitLaterFields(Settings& s, Visit&& visit) {
  visit("replicas", s.replicas);
  visit("sync_batch_norm", s.syncBatchNorm);
  visit("bucket_mib", s.bucketMiB);
  visit("collective_timeout_seconds", s.collectiveTimeoutSeconds);
  // "precision" in runs written before CPUs could autocast, where "bf16" meant bf16 on CUDA
  // only: read as "auto" (see trainSettingsFromJson).
  visit("train_precision", s.precision);
  visit("channels_last", s.channelsLast);
  visit("cudnn_benchmark", s.cudnnBenchmark);
  visit("recalibrate_batch_norm", s.recalibrateExamples);
  visit("teacher_step", s.teacherStep);
  visit("teacher_fingerprint", s.teacherFingerprint);
  visit("distill_temperature", s.temperature);
  visit("distill_weight", s.distillWeight);
}

nlohmann::json toJson(const TrainSettings& settings) {
  nlohmann::json json;
  json["train_dir"] = settings.trainDir.string();
  json["data_dir"] = settings.dataDir.string();
  json["init_from"] = settings.initFrom.string();
  json["teacher_dir"] = settings.teacherDir.string();
  json["optimizer"] = name(settings.optimizer);
  json["schedule"] = name(settings.schedule);
  const auto put = [&](const char* key, const auto& value) { json[key] = value; };
  visitFields(settings, put);
  visitLaterFields(settings, put);
  return json;
}

TrainSettings trainSettingsFromJson(const nlohmann::json& json) {
  TrainSettings settings;
  try {
    settings.trainDir = json.at("train_dir").get<std::string>();
    settings.dataDir = json.at("data_dir").get<std::string>();
    settings.initFrom = json.at("init_from").get<std::string>();
    if (json.contains("teacher_dir")) {
      settings.teacherDir = json.at("teacher_dir").get<std::string>();
    }
    settings.optimizer = parseOptimizer(json.at("optimizer").get<std::string>());
    settings.schedule = parseSchedule(json.at("schedule").get<std::string>());
    visitFields(settings, [&](const char* key, auto& value) {
      value = core::jsonAs<std::remove_reference_t<decltype(value)>>(json.at(key), key);
    });
    visitLaterFields(settings, [&](const char* key, auto& value) {
      if (json.contains(key)) {
        value = core::jsonAs<std::remove_reference_t<decltype(value)>>(json.at(key), key);
      }
    });
    if (!json.contains("train_precision") && json.contains("precision")) {
      const auto old = json.at("precision").get<std::string>();
      settings.precision = old == "bf16" ? "auto" : old;
    }
  } catch (const nlohmann::json::exception& e) {
    throw core::Error(std::string("the run's saved settings are incomplete: ") + e.what());
  }
  return settings;
}

}  // namespace taxon::settings
