#include "commands/Eval.hpp"

#include <cstdio>
#include <filesystem>
#include <memory>

#include "Interrupt.hpp"
#include "TerminalProgress.hpp"
#include "project/ProjectLayout.hpp"

namespace taxon::app {

namespace fs = std::filesystem;

int runEval(EvalOptions& options) {
  auto& s = options.settings;
  // The report goes to the run's eval/ unless told otherwise.
  if (s.evalDir.empty()) {
    s.evalDir = project::evalDirOf(s.checkpoint);
  }
  const auto bar = barIfTerminal();
  const auto outcome =
      eval::evaluateCheckpoint(s, interruptToken(), bar ? bar->callback() : core::ProgressFn{});
  if (bar) {
    bar->finish();
  }
  for (const auto& warning : outcome.warnings) {
    std::fprintf(stderr, "warning: %s\n", warning.c_str());
  }
  if (outcome.stopped) {
    std::fprintf(stderr, "Evaluation cancelled; no report written.\n");
    return 1;
  }
  const auto& r = outcome.report;
  constexpr std::size_t kListed = 20;
  for (std::size_t i = 0; i < r.skipped.size() && i < kListed; ++i) {
    std::fprintf(stderr, "warning: skipped %s: %s\n", r.skipped[i].key.c_str(),
                 r.skipped[i].reason.c_str());
  }
  if (r.skipped.size() > kListed) {
    std::fprintf(stderr, "warning: and %zu more skipped (all in summary.json)\n",
                 r.skipped.size() - kListed);
  }
  std::fprintf(stderr, "%s (step %lld), %s of the %s of %s\n", outcome.checkpoint.c_str(),
               static_cast<long long>(outcome.step), withThousands(r.examples).c_str(),
               countOf(r.expectedExamples, "image").c_str(), s.model.subset.c_str());
  if (r.lostExamples > 0) {
    std::fprintf(stderr,
                 "warning: %s images were lost to damaged records or images that do "
                 "not decode; the figures are of the %s evaluated\n",
                 withThousands(r.lostExamples).c_str(), withThousands(r.examples).c_str());
  }
  std::printf("%s\n", eval::seedLine(r).c_str());
  if (!r.mostConfused.empty()) {
    std::printf("most confused:\n");
    for (std::size_t i = 0; i < r.mostConfused.size() && i < 5; ++i) {
      const auto& p = r.mostConfused[i];
      std::printf("  %5lld  %s <-> %s\n", static_cast<long long>(p.total()),
                  r.categoryNames[static_cast<std::size_t>(p.a)].c_str(),
                  r.categoryNames[static_cast<std::size_t>(p.b)].c_str());
    }
  }
  if (!s.evalDir.empty()) {
    std::fprintf(stderr, "Report in %s\n", s.evalDir.c_str());
  }
  return 0;
}

Command addEvalCommand(CLI::App& app) {
  auto* cli = app.add_subcommand(
      "eval", "Evaluate a checkpoint: precision@1, recall@5, confusions, likely mislabeled images");
  auto o = std::make_shared<EvalOptions>();
  auto* s = &o->settings;
  cli->add_option("--checkpoint_dir", s->checkpoint, "Train dir (its newest checkpoint) or file")
      ->required();
  cli->add_option("--eval_dir", s->evalDir,
                  "Where the report files go (default: eval/ in the train dir)");
  cli->add_option("--data_dir", s->dataDir, "Record shards (default: the ones trained on)");
  cli->add_option("--subset", s->model.subset, "Split to evaluate")
      ->check(CLI::IsMember({"validation", "test", "train"}))
      ->capture_default_str();
  cli->add_option("--device", s->device, "cpu, cuda or cuda:N")->capture_default_str();
  addPrecisionOption(*cli, s->model.precision, "fp32", "fp32 keeps the reported metrics exact");
  cli->add_option("--batch_size", s->model.batchSize, "Images per forward pass")
      ->check(atLeast(1))
      ->capture_default_str();
  cli->add_option("--num_examples", s->model.maxExamples, "Evaluate the first N only (0: all)")
      ->capture_default_str();
  cli->add_option("--num_preprocess_threads", s->model.loaderThreads, "0: one per core");
  cli->add_option("--recalibrate_batch_norm", s->recalibrateExamples,
                  "First recompute batch-norm statistics for the averaged weights from N training "
                  "images (checkpoints that carry none of their own; 0: off)")
      ->capture_default_str();
  cli->add_option("--recalibration_seed", s->recalibrateSeed,
                  "Which training images --recalibrate_batch_norm draws (a run recalibrates with "
                  "its own --seed)")
      ->capture_default_str();
  cli->add_option("--top_k", s->model.metrics.topK, "K of recall@K")
      ->check(atLeast(1))
      ->capture_default_str();
  cli->add_flag("--skip_corrupt", s->model.skipCorrupt,
                "Evaluate past damaged records (failing their checksums, or a shard cut short) "
                "instead of failing; what was skipped and lost is reported");
  cli->add_option("--max_mislabeled", s->model.metrics.maxMislabeled,
                  "Images most likely mislabeled to list in the report")
      ->capture_default_str();
  cli->add_option("--max_confused_pairs", s->model.metrics.maxConfusedPairs,
                  "Most-confused category pairs to list in the report")
      ->capture_default_str();
  return {cli, [o]() -> int { return runEval(*o); }};
}

}  // namespace taxon::app
