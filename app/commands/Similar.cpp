#include "commands/Similar.hpp"

#include <cstdio>
#include <memory>

#include "Interrupt.hpp"
#include "TerminalProgress.hpp"
#include "project/ProjectLayout.hpp"

namespace taxon::app {

int runEmbed(EmbedOptions& o) {
  const auto& s = o.settings;
  similar::EmbedReport report;
  {
    TerminalProgress bar;
    report = similar::embed(s, bar.callback(), interruptToken());
  }
  for (const auto& warning : report.warnings) {
    std::fprintf(stderr, "warning: %s\n", warning.c_str());
  }
  const auto reportFile = report.failed.empty()
                              ? std::filesystem::path()
                              : writeIssueReport(project::ProjectLayout(s.project).reportsDir(),
                                                 "embed", report.failed, {});
  printIssues("Images that could not be embedded", report.failed, reportFile.string());
  std::printf(
      "Embedded %s with %s at step %s (%s of %s images were already embedded): %lld floats an "
      "image, in %s.\n",
      countOf(report.embedded, "image").c_str(), s.checkpointDir.string().c_str(),
      withThousands(report.step).c_str(), withThousands(report.alreadyDone).c_str(),
      withThousands(report.considered).c_str(), static_cast<long long>(report.dim),
      report.store.string().c_str());
  if (report.indexed > 0) {
    std::printf("Added %s to the neighbour index.\n", countOf(report.indexed, "row").c_str());
  }
  if (report.cancelled) {
    std::fprintf(stderr,
                 "Embed cancelled: the vectors stored so far are kept; run it again to "
                 "continue.\n");
    return 1;
  }
  return report.failed.empty() ? 0 : 1;
}

int runSimilar(SimilarOptions& o) {
  std::vector<std::string> warnings;
  const auto found = similar::similarImages(o.settings, o.image, &warnings);
  for (const auto& warning : warnings) {
    std::fprintf(stderr, "warning: %s\n", warning.c_str());
  }
  std::printf("%4s  %8s  %-10s  %-30s  %s\n", "rank", "distance", "split", "category", "image");
  int rank = 0;
  for (const auto& n : found) {
    std::printf("%4d  %8.4f  %-10s  %-30s  %s\n", ++rank, static_cast<double>(n.distance),
                std::string(project::splitName(n.split)).c_str(),
                n.category.empty() ? "(unlabeled)" : n.category.c_str(), n.path.string().c_str());
  }
  return found.empty() ? 1 : 0;
}

Command addEmbedCommand(CLI::App& app) {
  auto* cli = app.add_subcommand(
      "embed",
      "Compute every project image's feature vector under a trained model (for similar images "
      "and near-duplicates)");
  auto o = std::make_shared<EmbedOptions>();
  auto& s = o->settings;
  cli->add_option("project", s.project, "Project folder")->required();
  cli->add_option("--checkpoint_dir", s.checkpointDir, "Train dir (its newest checkpoint) or file")
      ->required();
  cli->add_option("--device", s.classifier.device, "cpu, cuda or cuda:N")->capture_default_str();
  cli->add_option("--batch_size", s.classifier.batchSize, "Images per forward pass")
      ->check(atLeast(1))
      ->capture_default_str();
  cli->add_option("--commit_every", s.chunk,
                  "Images embedded and stored together (a stop or a crash loses at most these)")
      ->check(atLeast(1))
      ->capture_default_str();
  return {cli, [o]() -> int { return runEmbed(*o); }};
}

Command addSimilarCommand(CLI::App& app) {
  auto* cli = app.add_subcommand("similar",
                                 "List a project's images most like an image (after taxon embed)");
  auto o = std::make_shared<SimilarOptions>();
  auto& s = o->settings;
  cli->add_option("project", s.project, "Project folder")->required();
  cli->add_option("image", o->image, "An image file, of the project or not")->required();
  cli->add_option("--checkpoint_dir", s.checkpointDir, "Train dir (its newest checkpoint) or file")
      ->required();
  cli->add_option("--k", s.k, "How many neighbours")->check(atLeast(1))->capture_default_str();
  cli->add_option("--device", s.classifier.device, "cpu, cuda or cuda:N")->capture_default_str();
  return {cli, [o]() -> int { return runSimilar(*o); }};
}

}  // namespace taxon::app
