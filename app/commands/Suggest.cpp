#include "commands/Suggest.hpp"

#include <cstdio>
#include <memory>

#include "Interrupt.hpp"
#include "TerminalProgress.hpp"
#include "core/Files.hpp"
#include "project/Catalog.hpp"
#include "project/ProjectLayout.hpp"

namespace taxon::app {

int runSuggest(SuggestOptions& o) {
  auto& s = o.settings;
  s.project = o.project;
  s.unlabeledOnly = o.subset == "unlabeled";
  label::SuggestReport report;
  {
    TerminalProgress bar;
    report = label::suggest(s, bar.callback(), interruptToken());
  }
  for (const auto& warning : report.warnings) {
    std::fprintf(stderr, "warning: %s\n", warning.c_str());
  }
  const auto reportFile = report.failed.empty()
                              ? std::filesystem::path()
                              : writeIssueReport(project::ProjectLayout(o.project).reportsDir(),
                                                 "suggest", report.failed, {});
  printIssues("Images that could not be classified", report.failed, reportFile.string());
  std::printf(
      "Suggested categories for %s with %s at step %s (%s of %s %s already had one from "
      "it).\n",
      countOf(report.suggested, "image").c_str(), report.run.c_str(),
      withThousands(report.step).c_str(), withThousands(report.alreadyDone).c_str(),
      withThousands(report.considered).c_str(), s.unlabeledOnly ? "unlabeled images" : "images");
  // What accepting would do at a few thresholds, so that the next command is an informed one.
  project::Catalog catalog(o.project, /*create=*/false);
  project::SuggestionQuery query;
  std::string line;
  for (const double threshold : {0.99, 0.95, 0.9, 0.8, 0.5}) {
    query.minScore = threshold;
    char part[64];
    std::snprintf(part, sizeof part, "%s%s at %.2f", line.empty() ? "" : ", ",
                  withThousands(catalog.suggestionCount(query)).c_str(), threshold);
    line += part;
  }
  std::printf("Unlabeled images whose top suggestion scores at least: %s.\n", line.c_str());
  if (!s.unlabeledOnly) {
    project::SuggestionQuery disagreements;
    disagreements.subset = project::SuggestionQuery::Subset::Disagreements;
    disagreements.minScore = 0.9;
    std::printf(
        "Labeled images whose label the model contradicts with a score of at least 0.90: "
        "%s (the app's Review > Disagreements).\n",
        withThousands(catalog.suggestionCount(disagreements)).c_str());
  }
  std::printf("Accept them with: taxon accept %s --min_score 0.95 (taxon undo reverts).\n",
              o.project.c_str());
  if (o.pick > 0 && !report.cancelled) {
    label::PickSettings pick;
    pick.count = o.pick;
    pick.strategy = *label::parsePickStrategy(o.strategy);
    pick.seed = o.seed;
    const auto ids = label::pickToLabel(catalog, pick);
    std::string list;
    for (const auto id : ids) {
      list += catalog.resolve(catalog.image(id)->path).string() + "\n";
    }
    if (!o.pickList.empty()) {
      core::writeFileAtomic(o.pickList, list);
    }
    std::printf("Picked %s to label next (strategy %s): the app's Review > Label next%s.\n",
                countOf(static_cast<std::int64_t>(ids.size()), "unlabeled image").c_str(),
                o.strategy.c_str(), o.pickList.empty() ? "" : (", and " + o.pickList).c_str());
  }
  if (report.cancelled) {
    std::fprintf(stderr,
                 "Suggest cancelled: the suggestions stored so far are kept; run it again to "
                 "continue.\n");
    return 1;
  }
  return report.failed.empty() ? 0 : 1;
}

Command addSuggestCommand(CLI::App& app) {
  auto* cli = app.add_subcommand(
      "suggest", "Have a trained model suggest categories for a project's unlabeled images");
  auto o = std::make_shared<SuggestOptions>();
  cli->add_option("project", o->project, "Project folder")->required();
  cli->add_option("--checkpoint_dir", o->settings.checkpointDir,
                  "Train dir (its newest checkpoint) or file")
      ->required();
  cli->add_option("--subset", o->subset,
                  "unlabeled: the images without a category; all: every image (for finding "
                  "labels the model disagrees with)")
      ->check(CLI::IsMember({"unlabeled", "all"}))
      ->capture_default_str();
  cli->add_option("--device", o->settings.classifier.device, "cpu, cuda or cuda:N")
      ->capture_default_str();
  cli->add_option("--batch_size", o->settings.classifier.batchSize, "Images per forward pass")
      ->check(atLeast(1))
      ->capture_default_str();
  cli->add_option("--commit_every", o->settings.chunk,
                  "Images classified and stored together (a stop or a crash loses at most these)")
      ->check(atLeast(1))
      ->capture_default_str();
  cli->add_option("--rollup_below", o->settings.confident,
                  "Below this top score, a suggestion whose leading categories share a parent "
                  "names the parent with their summed score")
      ->check(CLI::Range(0.01, 1.0))
      ->capture_default_str();
  cli->add_option("--pick", o->pick,
                  "Then mark this many unlabeled images as the ones to label next (active "
                  "learning; the app's Review > Label next)")
      ->check(atLeast(0));
  cli->add_option("--strategy", o->strategy,
                  "How --pick chooses: random, entropy (most uncertain), margin (smallest gap "
                  "between the top two) or diverse (uncertain and unlike each other)")
      ->check(CLI::IsMember({"random", "entropy", "margin", "diverse"}))
      ->capture_default_str();
  cli->add_option("--seed", o->seed, "The random strategy's draw")->capture_default_str();
  cli->add_option("--pick_list", o->pickList, "Also write the picked images' paths, one per line");
  addPrecisionOption(*cli, o->settings.classifier.precision, "auto",
                     "bf16 gave the same top-1 on 99.75 % of a test set");
  return {cli, [o]() -> int { return runSuggest(*o); }};
}

}  // namespace taxon::app
