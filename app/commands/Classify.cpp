#include "commands/Classify.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "Interrupt.hpp"
#include "TerminalProgress.hpp"
#include "core/Csv.hpp"
#include "core/Error.hpp"
#include "core/Files.hpp"
#include "infer/Rollup.hpp"

namespace taxon::app {

namespace fs = std::filesystem;

namespace {

// The files named, with each folder replaced by the files below it in path order. A folder that
// cannot be read or holds no files is an error naming it.
std::vector<fs::path> filesToClassify(const std::vector<std::string>& images) {
  std::vector<fs::path> files;
  for (const auto& image : images) {
    std::error_code error;
    if (!fs::is_directory(image, error)) {
      files.emplace_back(image);
      continue;
    }
    std::vector<fs::path> inside;
    for (auto it = fs::recursive_directory_iterator(
             image, fs::directory_options::skip_permission_denied, error);
         !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
      if (it->is_regular_file(error)) {
        inside.push_back(it->path());
      }
    }
    if (error) {
      core::throwFileError(image, "cannot be read: " + error.message());
    }
    if (inside.empty()) {
      core::throwFileError(image, "is a folder with no files");
    }
    std::sort(inside.begin(), inside.end());
    files.insert(files.end(), inside.begin(), inside.end());
  }
  return files;
}

}  // namespace

int runClassify(const ClassifyOptions& o) {
  // The output is checked before anything is classified: an unwritable --csv must not
  // fail after the whole batch.
  if (!o.csv.empty()) {
    core::checkWritableFile(o.csv);
  }
  const std::vector<fs::path> files = filesToClassify(o.images);
  infer::Classifier classifier(o.checkpointDir, o.settings);
  for (const auto& warning : classifier.warnings()) {
    std::fprintf(stderr, "warning: %s\n", warning.c_str());
  }
  const auto bar = files.size() > 64 ? barIfTerminal() : nullptr;
  // The roll-up sums every category under a parent: it needs the whole distribution.
  const int ranked =
      o.rollup ? std::max(o.topK, static_cast<int>(classifier.categories().size())) : o.topK;
  const auto results = classifier.classifyFiles(files, ranked, interruptToken(),
                                                bar ? bar->callback() : core::ProgressFn{});
  if (bar) {
    bar->finish();
  }
  std::string csv = "path,rank,class,category,score\n";
  int failed = 0;
  for (const auto& r : results) {
    if (!r.error.empty()) {
      ++failed;
      std::fprintf(stderr, "error: %s\n", r.error.c_str());
      continue;
    }
    std::printf("%s\n", r.path.c_str());
    for (std::size_t i = 0; i < r.top.size() && i < static_cast<std::size_t>(o.topK); ++i) {
      std::printf("%.3f - %s\n", r.top[i].score, r.top[i].name.c_str());
      char score[32];
      std::snprintf(score, sizeof score, "%.6f", r.top[i].score);
      core::appendCsvRow(csv, {r.path.string(), std::to_string(i + 1),
                               std::to_string(r.top[i].index), r.top[i].name, score});
    }
    if (o.rollup) {
      if (const auto rollup = infer::rollUp(r.top, o.rollupBelow)) {
        std::printf("rollup: %s\n", infer::describeRollup(*rollup).c_str());
      }
    }
  }
  std::fflush(stdout);
  if (!o.csv.empty()) {
    core::writeFileAtomic(o.csv, csv);
  }
  if (failed > 0) {
    std::fprintf(stderr, "%d of %zu images could not be classified\n", failed, results.size());
    return 1;
  }
  return 0;
}

Command addClassifyCommand(CLI::App& app) {
  auto* cli = app.add_subcommand("classify", "Rank categories for image files");
  auto o = std::make_shared<ClassifyOptions>();
  cli->add_option("--checkpoint_dir", o->checkpointDir, "Train dir (its newest checkpoint) or file")
      ->required();
  cli->add_option("--top_k", o->topK, "Categories to print per image")
      ->check(atLeast(1))
      ->capture_default_str();
  cli->add_option("--csv", o->csv, "Also write a CSV table (path,rank,class,category,score)");
  cli->add_option("--device", o->settings.device, "cpu, cuda or cuda:N")->capture_default_str();
  cli->add_option("--batch_size", o->settings.batchSize, "Images per forward pass")
      ->check(atLeast(1))
      ->capture_default_str();
  addPrecisionOption(*cli, o->settings.precision, "auto",
                     "bf16 gave the same top-1 on 99.75 % of a test set");
  cli->add_flag("--rollup", o->rollup,
                "When no category is confident and the leading ones share a parent, also print "
                "the parent with their summed score (\"rollup: Shoes > Sneakers 0.93: Men 0.48, "
                "Women 0.45\")");
  cli->add_option("--rollup_below", o->rollupBelow, "What counts as not confident, for --rollup")
      ->check(CLI::Range(0.01, 1.0))
      ->capture_default_str();
  cli->add_option("images", o->images,
                  "Image files, or folders: the files below them, in path order")
      ->required();
  return {cli, [o]() -> int { return runClassify(*o); }};
}

}  // namespace taxon::app
