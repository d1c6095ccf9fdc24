#include "commands/Export.hpp"

#include <cstdio>
#include <memory>

#include "Interrupt.hpp"
#include "TerminalProgress.hpp"
#include "checkpoint/TrainedModel.hpp"
#include "core/Error.hpp"
#include "core/Files.hpp"
#include "deploy/torch/InceptionOnnx.hpp"

namespace taxon::app {

namespace {

int exportTorchvision(const ExportOptions& o) {
  const auto trained = checkpoint::exportTorchvision(o.checkpointDir, o.output);
  std::fprintf(stderr,
               "Wrote %s (step %lld, averaged weights). In Python:\n"
               "  m = torchvision.models.inception_v3(num_classes=%zu, aux_logits=%s, "
               "init_weights=False)\n  m.load_state_dict(torch.load('%s'))\n",
               o.output.c_str(), static_cast<long long>(trained.step), trained.categories.size(),
               trained.settings.auxLogits ? "True" : "False", o.output.c_str());
  return 0;
}

int exportOnnx(const ExportOptions& o) {
  deploy::OnnxExportOptions options;
  options.int8 = o.quantize == "int8";
  options.dataDir = o.dataDir;
  options.calibration.images = o.calibrationImages;
  options.calibration.method = deploy::parseCalibrationMethod(o.calibration);
  const auto bar = options.int8 ? barIfTerminal() : nullptr;
  const auto written = deploy::exportOnnx(o.checkpointDir, o.output, options, interruptToken(),
                                          bar ? bar->callback() : core::ProgressFn{});
  if (bar) {
    bar->finish();
  }
  if (written.stopped) {
    std::fprintf(stderr, "Cancelled during calibration; nothing was written.\n");
    return 1;
  }
  std::fprintf(stderr,
               "Wrote %s (%.1f MB; step %lld, averaged weights, %zu categories, input 3 x %lld x "
               "%lld%s). The README's \"Serving an exported model\" shows how to use it.\n",
               o.output.c_str(), static_cast<double>(written.bytes) / 1e6,
               static_cast<long long>(written.step), written.categories,
               static_cast<long long>(written.imageSize), static_cast<long long>(written.imageSize),
               options.int8 ? ("; int8, calibrated on " +
                               std::to_string(written.calibrationImages) + " training images")
                                  .c_str()
                            : "");
  return 0;
}

}  // namespace

int runExport(const ExportOptions& o) {
  if (o.quantize != "none" && o.format != "onnx") {
    throw core::Error("--quantize " + o.quantize + " needs --format onnx");
  }
  core::checkWritableFile(o.output);  // before loading anything
  return o.format == "onnx" ? exportOnnx(o) : exportTorchvision(o);
}

Command addExportCommand(CLI::App& app) {
  auto* cli = app.add_subcommand(
      "export", "Export the averaged weights as a torchvision state_dict or an ONNX model");
  auto o = std::make_shared<ExportOptions>();
  cli->add_option("--checkpoint_dir", o->checkpointDir, "Train dir (its newest checkpoint) or file")
      ->required();
  cli->add_option("--format", o->format,
                  "torchvision: an inception_v3 state_dict (.pth); onnx: an ONNX model (opset 17, "
                  "batch norm folded, categories and preprocessing in its metadata)")
      ->check(CLI::IsMember({"torchvision", "onnx"}))
      ->capture_default_str();
  cli->add_option("--output", o->output, "The file to write")->required();
  cli->add_option("--quantize", o->quantize,
                  "onnx: none, or int8 (QDQ: per-channel int8 weights, uint8 activations "
                  "calibrated on training images)")
      ->check(CLI::IsMember({"none", "int8"}))
      ->capture_default_str();
  cli->add_option("--calibration_images", o->calibrationImages,
                  "int8: training images (shuffled, central crops) that set the activation scales")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 40))
      ->capture_default_str();
  cli->add_option("--calibration", o->calibration,
                  "int8: percentile (99.99th from each end, averaged over batches) or minmax")
      ->check(CLI::IsMember({"percentile", "minmax"}))
      ->capture_default_str();
  cli->add_option("--data_dir", o->dataDir,
                  "int8: records to calibrate on (their train split); default: the run's");
  return {cli, [o]() -> int { return runExport(*o); }};
}

}  // namespace taxon::app
