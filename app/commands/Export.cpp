#include "commands/Export.hpp"

#include <cstdio>
#include <memory>

#include "checkpoint/TrainedModel.hpp"
#include "core/Files.hpp"

namespace taxon::app {

int runExport(const ExportOptions& o) {
  core::checkWritableFile(o.output);  // before loading anything
  const auto trained = checkpoint::exportTorchvision(o.checkpointDir, o.output);
  std::fprintf(stderr,
               "Wrote %s (step %lld, averaged weights). In Python:\n"
               "  m = torchvision.models.inception_v3(num_classes=%zu, aux_logits=%s, "
               "init_weights=False)\n  m.load_state_dict(torch.load('%s'))\n",
               o.output.c_str(), static_cast<long long>(trained.step), trained.categories.size(),
               trained.settings.auxLogits ? "True" : "False", o.output.c_str());
  return 0;
}

Command addExportCommand(CLI::App& app) {
  auto* cli = app.add_subcommand(
      "export", "Export the averaged weights as a torchvision inception_v3 state_dict");
  auto o = std::make_shared<ExportOptions>();
  cli->add_option("--checkpoint_dir", o->checkpointDir, "Train dir (its newest checkpoint) or file")
      ->required();
  cli->add_option("--format", o->format, "Export format")
      ->check(CLI::IsMember({"torchvision"}))
      ->capture_default_str();
  cli->add_option("--output", o->output, "The .pth file to write")->required();
  return {cli, [o]() -> int { return runExport(*o); }};
}

}  // namespace taxon::app
