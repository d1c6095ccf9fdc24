#include "commands/Info.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "checkpoint/CheckpointFiles.hpp"
#include "checkpoint/TrainedModel.hpp"
#include "core/Error.hpp"
#include "core/Text.hpp"
#include "core/torch/Runtime.hpp"
#include "deploy/OnnxModel.hpp"
#include "model/ModelSize.hpp"
#include "project/Catalog.hpp"
#include "project/CatalogCheck.hpp"
#include "project/ProjectLayout.hpp"
#include "records/RecordSet.hpp"
#include "records/ShardCheck.hpp"
#include "train/RunDirectory.hpp"
#include "train/Teacher.hpp"

namespace taxon::app {

namespace fs = std::filesystem;

namespace {

// A project: categories with their images per split.
int describeProject(const fs::path& dir) {
  project::Catalog catalog(dir, /*create=*/false);
  const auto counts = catalog.countsByCategory();
  std::int64_t train = 0, validation = 0, test = 0, unassigned = 0;
  std::printf("Project %s\n", catalog.projectDir().c_str());
  // Columns by display width, not bytes: wide characters take two columns.
  std::size_t nameColumns = core::displayWidth("(unlabeled)");
  for (const auto& c : counts) {
    nameColumns = std::max(nameColumns, core::displayWidth(c.path));
  }
  const auto row = [&](const std::string& name, const std::string& a, const std::string& b,
                       const std::string& c, const std::string& d) {
    std::printf("  %s %9s %10s %9s %10s\n", core::padRight(name, nameColumns).c_str(), a.c_str(),
                b.c_str(), c.c_str(), d.c_str());
  };
  row("category", "train", "validation", "test", "unassigned");
  for (const auto& c : counts) {
    row(c.path, withThousands(c.train), withThousands(c.validation), withThousands(c.test),
        withThousands(c.unassigned));
    train += c.train;
    validation += c.validation;
    test += c.test;
    unassigned += c.unassigned;
  }
  // The images without a category, after the categories: left out of records and training.
  const auto unlabeled = catalog.imageCount(project::kUnlabeled);
  if (unlabeled > 0) {
    std::int64_t n[4] = {};
    const project::Split splits[4] = {project::Split::Train, project::Split::Validation,
                                      project::Split::Test, project::Split::Unassigned};
    for (int i = 0; i < 4; ++i) {
      n[i] = catalog.imageCount(project::kUnlabeled, splits[i]);
    }
    row("(unlabeled)", withThousands(n[0]), withThousands(n[1]), withThousands(n[2]),
        withThousands(n[3]));
    train += n[0];
    validation += n[1];
    test += n[2];
    unassigned += n[3];
  }
  row("all", withThousands(train), withThousands(validation), withThousands(test),
      withThousands(unassigned));
  std::printf("%zu categories, %s images%s; %zu import problems on record.\n", counts.size(),
              withThousands(catalog.imageCount()).c_str(),
              unlabeled > 0 ? (" (" + withThousands(unlabeled) +
                               " unlabeled, left out of records and training until labeled)")
                                  .c_str()
                            : "",
              catalog.importIssues(1000000).size());
  // The consistency check: what a crash or a full disk could have broken.
  const auto problems = project::checkCatalog(catalog);
  if (problems.empty()) {
    std::printf("Catalog check: ok.\n");
    return 0;
  }
  std::fprintf(stderr, "Catalog check: %zu problem%s in %s:\n", problems.size(),
               problems.size() == 1 ? "" : "s", catalog.file().c_str());
  for (const auto& problem : problems) {
    std::fprintf(stderr, "  %s\n", problem.c_str());
  }
  return 1;
}

// TFRecord shards: every record's two checksums are verified. Each shard's line is printed as
// soon as it is read, its damage (with --skip_corrupt) just before it.
int printShardCheck(const fs::path& path, bool skipCorrupt) {
  const auto shards = records::findShards(path);
  records::ShardCheckOptions options;
  options.skipCorrupt = skipCorrupt;
  options.onShard = [](const records::ShardCheck& shard) {
    for (const auto& d : shard.damaged) {
      std::fprintf(stderr, "  %s: byte %lld: %s (skipped)\n", shard.file.c_str(),
                   static_cast<long long>(d.begin), d.reason.c_str());
    }
    std::printf("  %-40s %9s records\n", shard.file.filename().c_str(),
                withThousands(shard.records).c_str());
  };
  const auto report = records::verifyShards(shards, options);
  std::printf("%zu shards, %s records with valid checksums, %s damaged.\n", shards.size(),
              withThousands(report.records()).c_str(),
              withThousands(report.damagedRecords()).c_str());
  std::error_code error;
  if (fs::is_directory(path, error) && fs::exists(path / records::kIncompleteMarker, error)) {
    std::fprintf(stderr,
                 "%s: taxon build-records stopped before it finished this folder: its shards "
                 "mix two builds and training refuses them; run build-records again.\n",
                 (path / records::kIncompleteMarker).c_str());
    return 1;
  }
  return report.damagedRecords() > 0 ? 1 : 0;
}

// An exported ONNX model: what it takes and gives, its operators, and Taxon's metadata (the
// categories as a count).
int describeOnnx(const fs::path& path) {
  const auto summary = deploy::readOnnxSummary(path);
  std::printf("ONNX model %s: IR version %lld, opset %lld\n", path.c_str(),
              static_cast<long long>(summary.irVersion), static_cast<long long>(summary.opset));
  std::string ops;
  for (const auto& [op, count] : summary.opCounts) {
    ops += (ops.empty() ? "" : ", ") + op + " " + std::to_string(count);
  }
  const auto list = [](const std::vector<std::string>& names) {
    std::string out;
    for (const auto& name : names) {
      out += (out.empty() ? "" : ", ") + name;
    }
    return out;
  };
  std::printf("  inputs: %s; outputs: %s\n  nodes: %s\n", list(summary.inputs).c_str(),
              list(summary.outputs).c_str(), ops.c_str());
  for (const auto& [key, value] : summary.metadata) {
    if (key == "taxon.categories") {
      const auto categories = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
      std::printf("  %s: %zu categories\n", key.c_str(),
                  categories.is_array() ? categories.size() : std::size_t{0});
    } else {
      std::printf("  %s: %s\n", key.c_str(), value.c_str());
    }
  }
  return 0;
}

std::string millions(std::int64_t count) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f M", static_cast<double>(count) / 1e6);
  return text;
}

std::string billions(std::int64_t count) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f G", static_cast<double>(count) / 1e9);
  return text;
}

nlohmann::json sizeJson(const settings::TrainSettings& s, const model::ModelSize& size) {
  return {
      {"depth_multiplier", s.depthMultiplier}, {"image_size", s.imageSize},
      {"parameters", size.parameters},         {"inference_parameters", size.inferenceParameters},
      {"multiply_adds", size.multiplyAdds},    {"flops", size.flops()}};
}

// A trained model (a train dir or a checkpoint): the network, its parameters and what one image
// costs; for a distilled model, its teacher's too when the teacher can still be read.
int describeModel(const fs::path& path, const std::string& format) {
  auto trained = checkpoint::loadTrainedModel(path, "cpu");
  for (const auto& warning : trained.warnings) {
    std::fprintf(stderr, "warning: %s\n", warning.c_str());
  }
  const auto& s = trained.settings;
  const auto size = model::measureModel(trained.model);
  std::optional<settings::TrainSettings> teacher;
  std::optional<model::ModelSize> teacherSize;
  std::string teacherProblem;
  if (s.distilling()) {
    try {
      teacher = train::readTeacherSettings(s.teacherDir);
      teacherSize = model::measureModel(checkpoint::modelSettings(
          *teacher, static_cast<std::int64_t>(trained.categories.size())));
    } catch (const core::Error& e) {
      teacherProblem = e.what();
    }
  }
  if (format == "json") {
    nlohmann::json out = sizeJson(s, size);
    out["checkpoint"] = trained.checkpoint.string();
    out["step"] = trained.step;
    out["categories"] = trained.categories.size();
    out["aux_logits"] = s.auxLogits;
    if (s.distilling()) {
      nlohmann::json t{{"dir", s.teacherDir.string()},
                       {"step", s.teacherStep},
                       {"fingerprint", s.teacherFingerprint},
                       {"temperature", s.temperature},
                       {"distill_weight", s.distillWeight}};
      if (teacher) {
        t.update(sizeJson(*teacher, *teacherSize));
      } else {
        t["unreadable"] = teacherProblem;
      }
      out["teacher"] = t;
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::printf("Model %s (step %s)\n", trained.checkpoint.c_str(),
              withThousands(trained.step).c_str());
  std::printf("  Inception-v3, depth multiplier %g, %lld x %lld px input, %zu categories%s\n",
              s.depthMultiplier, static_cast<long long>(s.imageSize),
              static_cast<long long>(s.imageSize), trained.categories.size(),
              s.auxLogits ? ", auxiliary head" : "");
  std::printf("  parameters   %s (%s)", withThousands(size.parameters).c_str(),
              millions(size.parameters).c_str());
  if (size.inferenceParameters != size.parameters) {
    std::printf("; %s classify, the auxiliary head only trains",
                withThousands(size.inferenceParameters).c_str());
  }
  std::printf("\n  per image    %s multiply-adds = %sFLOPs at %lld px\n",
              billions(size.multiplyAdds).c_str(), billions(size.flops()).c_str(),
              static_cast<long long>(s.imageSize));
  if (s.distilling()) {
    std::printf("  distilled from %s (step %lld, weights %s) at temperature %g, weight %g\n",
                s.teacherDir.c_str(), static_cast<long long>(s.teacherStep),
                s.teacherFingerprint.c_str(), s.temperature, s.distillWeight);
    if (teacher) {
      std::printf(
          "  teacher      depth multiplier %g, %lld px: %s parameters, %s multiply-adds per "
          "image; the student has %.0f %% of its parameters and %.0f %% of its multiply-adds\n",
          teacher->depthMultiplier, static_cast<long long>(teacher->imageSize),
          millions(teacherSize->inferenceParameters).c_str(),
          billions(teacherSize->multiplyAdds).c_str(),
          100.0 * static_cast<double>(size.inferenceParameters) /
              static_cast<double>(teacherSize->inferenceParameters),
          100.0 * static_cast<double>(size.multiplyAdds) /
              static_cast<double>(teacherSize->multiplyAdds));
    } else {
      std::printf("  teacher      not readable now: %s\n", teacherProblem.c_str());
    }
  }
  return 0;
}

// A train dir, or one of its checkpoint files.
bool isRun(const fs::path& path) {
  return train::findRunFiles(path).any() || checkpoint::checkpointStep(path.filename().string());
}

}  // namespace

int runInfo(const InfoOptions& options) {
  if (!options.model.empty()) {
    return describeModel(options.model, options.format);
  }
  if (!options.path.empty()) {
    const fs::path path = options.path;
    if (!fs::exists(path)) {
      core::throwFileError(path, "does not exist");
    }
    if (isRun(path)) {
      return describeModel(path, options.format);
    }
    if (fs::exists(project::ProjectLayout(path).catalogFile())) {
      return describeProject(path);
    }
    if (path.extension() == ".onnx") {
      return describeOnnx(path);
    }
    return printShardCheck(path, options.skipCorrupt);
  }
  const std::string& format = options.format;
  const core::RuntimeInfo info = core::queryRuntime();
  if (format == "json") {
    nlohmann::json devices = nlohmann::json::array();
    for (const auto& d : info.cudaDevices) {
      devices.push_back({{"index", d.index},
                         {"name", d.name},
                         {"memory_gib", d.memoryGiB},
                         {"compute_capability",
                          std::to_string(d.computeMajor) + "." + std::to_string(d.computeMinor)}});
    }
    const nlohmann::json out = {
        {"taxon", info.taxonVersion},           {"git_revision", info.gitRevision},
        {"libtorch", info.torchVersion},        {"libtorch_cuda", info.torchCudaVersion},
        {"cudnn", info.cudnnVersion},           {"nccl_compiled", info.ncclCompiled},
        {"cuda_available", info.cudaAvailable}, {"cuda_devices", devices},
        {"cpu_threads", info.cpuThreads},       {"opencv", info.opencvVersion},
        {"protobuf", info.protobufVersion},     {"sqlite", info.sqliteVersion}};
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::printf("Taxon %s (%s)\n", info.taxonVersion.c_str(), info.gitRevision.c_str());
  std::printf(
      "  LibTorch   %s, %s\n", info.torchVersion.c_str(),
      info.torchCudaVersion.empty() ? "CPU only" : ("CUDA " + info.torchCudaVersion).c_str());
  std::printf("  cuDNN      %s\n", info.cudnnVersion.empty() ? "-" : info.cudnnVersion.c_str());
  std::printf("  NCCL       %s\n", info.ncclCompiled ? "compiled in" : "not compiled in");
  std::printf("  OpenCV     %s\n", info.opencvVersion.c_str());
  std::printf("  protobuf   %s\n", info.protobufVersion.c_str());
  std::printf("  SQLite     %s\n", info.sqliteVersion.c_str());
  std::printf("  CPU        %d threads\n", info.cpuThreads);
  if (info.cudaDevices.empty()) {
    std::printf("  GPUs       none found (training runs on the CPU)\n");
  }
  for (const auto& d : info.cudaDevices) {
    std::printf("  GPU %d      %s, %.0f GiB, compute %d.%d\n", d.index, d.name.c_str(), d.memoryGiB,
                d.computeMajor, d.computeMinor);
  }
  return 0;
}

Command addInfoCommand(CLI::App& app) {
  auto* cli = app.add_subcommand(
      "info",
      "Show versions and devices, a project's categories and splits, a trained model's size, "
      "shards, or an ONNX model");
  auto options = std::make_shared<InfoOptions>();
  cli->add_option(
      "path", options->path,
      "A project folder, a run's train dir or checkpoint, TFRecord shards (a file or a folder) "
      "to verify, or a .onnx file");
  cli->add_option("--model", options->model,
                  "A trained model (a train dir or a checkpoint file): its size, multiply-adds and "
                  "FLOPs per image, and its teacher's when it was distilled")
      ->excludes(cli->get_option("path"));
  cli->add_option("--format", options->format, "For the runtime summary and --model")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cli->add_flag("--skip_corrupt", options->skipCorrupt,
                "Shards: report damaged records and read on (default: stop at the first)");
  return {cli, [options] { return runInfo(*options); }};
}

}  // namespace taxon::app
