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

namespace {

void printGroups(const char* title, const std::vector<similar::DuplicateGroup>& groups,
                 bool (*which)(const similar::DuplicateGroup&), int show) {
  int shown = 0;
  std::int64_t count = 0;
  for (const auto& group : groups) {
    count += which(group);
  }
  if (count == 0) {
    return;
  }
  std::printf("\n%s (%s):\n", title, withThousands(count).c_str());
  int number = 0;
  for (const auto& group : groups) {
    ++number;
    if (!which(group) || shown++ >= show) {
      continue;
    }
    std::printf("  group %d (%s):\n", number, group.exact ? "exact copies" : "near copies");
    for (const auto& m : group.members) {
      std::printf("    %-10s  %-28s  %.4f  %s\n", std::string(project::splitName(m.split)).c_str(),
                  m.category.empty() ? "(unlabeled)" : m.category.c_str(),
                  static_cast<double>(m.distance), m.path.string().c_str());
    }
  }
  if (count > show) {
    std::printf("  ... and %s more\n", withThousands(count - show).c_str());
  }
}

}  // namespace

int runDuplicates(DuplicatesOptions& o) {
  similar::DuplicateReport report;
  {
    TerminalProgress bar;
    report = similar::findDuplicates(o.settings, bar.callback(), interruptToken());
  }
  const auto& c = report.calibration;
  if (c.given) {
    std::printf("Threshold %.4f (given); ", c.threshold);
  } else {
    std::printf("Threshold %.4f, calibrated on %d images copied three ways (resized, re-encoded): ",
                c.threshold, c.images);
  }
  std::printf(
      "copies lie at %.4f (median) to %.4f (most) from their image, distinct images at %.4f "
      "(1st percentile) and %.4f (median) from their nearest; within the threshold: %.1f %% of "
      "the copies, %.1f %% of the distinct.\n",
      c.copyMedian, c.copyMax, c.nearestP1, c.nearestMedian, 100.0 * c.copiesCaught,
      100.0 * c.distinctWithin);
  if (!c.given && c.copyMax > c.nearestP1) {
    std::printf(
        "Note: this model's features put some copies farther apart than 1 %% of distinct images "
        "are from their nearest; the threshold was capped there (give --threshold to choose).\n");
  }
  std::int64_t exact = 0, near = 0, leaking = 0, conflicting = 0, inGroups = 0;
  for (const auto& g : report.groups) {
    (g.exact ? exact : near) += 1;
    leaking += g.crossesSplits;
    conflicting += g.conflictingLabels;
    inGroups += static_cast<std::int64_t>(g.members.size());
  }
  std::printf(
      "%s of %s images are in %s of copies (%s exact, %s near); %s cross splits (%s test or "
      "validation images have a copy in training); %s have conflicting labels.\n",
      withThousands(inGroups).c_str(), withThousands(report.images).c_str(),
      countOf(static_cast<std::int64_t>(report.groups.size()), "group").c_str(),
      withThousands(exact).c_str(), withThousands(near).c_str(), withThousands(leaking).c_str(),
      withThousands(report.leakedTestImages).c_str(), withThousands(conflicting).c_str());
  if (report.notEmbedded > 0) {
    std::printf("%s have no vector yet (only exact copies of them were found): run taxon embed.\n",
                countOf(report.notEmbedded, "image").c_str());
  }
  printGroups(
      "Groups across splits (leakage)", report.groups,
      [](const similar::DuplicateGroup& g) { return g.crossesSplits; }, o.show);
  printGroups(
      "Groups with conflicting labels", report.groups,
      [](const similar::DuplicateGroup& g) { return g.conflictingLabels; }, o.show);
  std::printf("\nReports: %s, %s, %s\n", report.duplicatesCsv.string().c_str(),
              report.leakageCsv.string().c_str(), report.conflictsCsv.string().c_str());
  if (report.cancelled) {
    std::fprintf(stderr, "Duplicates cancelled: the reports list the groups found so far.\n");
    return 1;
  }
  return 0;
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

Command addDuplicatesCommand(CLI::App& app) {
  auto* cli = app.add_subcommand(
      "duplicates",
      "Find copies within a project (exact and resized or re-encoded), copies across splits "
      "(leakage) and copies with different labels (after taxon embed)");
  auto o = std::make_shared<DuplicatesOptions>();
  auto& s = o->settings;
  cli->add_option("project", s.project, "Project folder")->required();
  cli->add_option("--checkpoint_dir", s.checkpointDir, "Train dir (its newest checkpoint) or file")
      ->required();
  cli->add_option("--threshold", s.threshold,
                  "Cosine distance within which two images are copies (default: calibrated on "
                  "copies of the project's own images)")
      ->check(CLI::Range(0.0, 1.0));
  cli->add_option("--neighbours", s.neighbours, "Neighbours looked at per image")
      ->check(atLeast(1))
      ->capture_default_str();
  cli->add_option("--calibration_images", s.calibrationImages,
                  "Images copied three ways to calibrate the threshold")
      ->check(atLeast(10))
      ->capture_default_str();
  cli->add_option("--report_dir", s.reportDir,
                  "Where the CSV files go (default: the run's eval folder)");
  cli->add_option("--show", o->show, "Groups printed of each kind")
      ->check(atLeast(0))
      ->capture_default_str();
  cli->add_option("--device", s.classifier.device, "cpu, cuda or cuda:N")->capture_default_str();
  return {cli, [o]() -> int { return runDuplicates(*o); }};
}

}  // namespace taxon::app
