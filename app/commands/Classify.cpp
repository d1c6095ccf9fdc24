#include "commands/Classify.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "Interrupt.hpp"
#include "TerminalProgress.hpp"
#include "core/Csv.hpp"
#include "core/Error.hpp"
#include "core/Files.hpp"
#include "explain/Explainer.hpp"
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

// One strip per image: the picture the model saw, then each ranked category's Grad-CAM overlay
// captioned "RANK. SCORE CATEGORY" (captions in OpenCV's Hershey font, which draws ASCII only).
cv::Mat explanationStrip(const explain::Explanation& e,
                         const std::vector<infer::RankedCategory>& ranked) {
  const int gap = 6, caption = 28;
  const int w = e.view.cols, h = e.view.rows;
  cv::Mat strip(h + caption, static_cast<int>(1 + e.maps.size()) * (w + gap) - gap, CV_8UC3,
                cv::Scalar::all(255));
  auto put = [&](const cv::Mat& picture, int column, const std::string& text) {
    const int x = column * (w + gap);
    picture.copyTo(strip(cv::Rect(x, caption, w, h)));
    const double scale = 0.45;
    std::string shown = text;
    int baseline = 0;
    while (shown.size() > 4 &&
           cv::getTextSize(shown, cv::FONT_HERSHEY_SIMPLEX, scale, 1, &baseline).width > w - 4) {
      shown = shown.substr(0, shown.size() - 4) + "...";
    }
    cv::putText(strip, shown, {x + 2, caption - 9}, cv::FONT_HERSHEY_SIMPLEX, scale,
                cv::Scalar::all(0), 1, cv::LINE_AA);
  };
  put(e.view, 0,
      "input; Grad-CAM on " + e.block + " (" + std::to_string(e.mapSide) + "x" +
          std::to_string(e.mapSide) + ")");
  for (std::size_t i = 0; i < e.maps.size(); ++i) {
    char text[64];
    std::snprintf(text, sizeof text, "%zu. %.3f ", i + 1, ranked[i].score);
    put(explain::overlay(e.view, e.maps[i].map), static_cast<int>(i) + 1,
        text + ranked[i].name + (e.maps[i].empty ? " (no evidence)" : ""));
  }
  return strip;
}

// OUTDIR/STEM.png for each classified image, STEM-2.png and so on when stems repeat. Returns the
// number of images explained; errors are printed and counted in `failed`.
int writeExplanations(const ClassifyOptions& o, const std::vector<infer::Classification>& results,
                      int& failed) {
  const fs::path dir = o.explainDir;
  explain::Explainer explainer(o.checkpointDir, o.settings.device);
  explainer.setBlock(o.explainBlock);
  std::fprintf(stderr, "explaining with Grad-CAM on %s\n", explainer.block().c_str());
  const auto bar = results.size() > 8 ? barIfTerminal() : nullptr;
  const auto progress = bar ? bar->callback() : core::ProgressFn{};
  std::map<std::string, int> seen;
  int written = 0;
  std::int64_t done = 0;
  for (const auto& r : results) {
    if (interruptToken().stop_requested()) {
      break;
    }
    ++done;
    if (!r.error.empty()) {
      continue;
    }
    // Maps for the categories printed (at most five), in the classifier's order.
    std::vector<std::int64_t> wanted;
    for (std::size_t i = 0;
         i < r.top.size() && i < std::size_t{5} && i < static_cast<std::size_t>(o.topK); ++i) {
      wanted.push_back(r.top[i].index);
    }
    const auto e = explainer.explainFile(r.path, 0, wanted);
    if (!e.error.empty()) {
      ++failed;
      std::fprintf(stderr, "error: %s\n", e.error.c_str());
      continue;
    }
    const std::string stem = r.path.stem().string();
    const int n = ++seen[stem];
    const fs::path out = dir / (n == 1 ? stem + ".png" : stem + "-" + std::to_string(n) + ".png");
    std::vector<unsigned char> png;
    cv::imencode(".png", explanationStrip(e, r.top), png);
    core::writeFileAtomic(out, std::string(png.begin(), png.end()));
    ++written;
    if (progress) {
      progress({"explain", done, static_cast<std::int64_t>(results.size()), "images"});
    }
  }
  if (bar) {
    bar->finish();
  }
  return written;
}

}  // namespace

int runClassify(const ClassifyOptions& o) {
  // The output is checked before anything is classified: an unwritable --csv must not
  // fail after the whole batch.
  if (!o.csv.empty()) {
    core::checkWritableFile(o.csv);
  }
  if (!o.explainDir.empty()) {
    std::error_code error;
    fs::create_directories(o.explainDir, error);
    if (error || !fs::is_directory(o.explainDir, error)) {
      core::throwFileError(o.explainDir, "cannot be created as a folder" +
                                             (error ? ": " + error.message() : std::string()));
    }
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
  if (!o.explainDir.empty()) {
    const int written = writeExplanations(o, results, failed);
    std::fprintf(stderr, "wrote %d explanation%s to %s\n", written, written == 1 ? "" : "s",
                 o.explainDir.c_str());
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
  cli->add_option("--explain", o->explainDir,
                  "Also write, for each image, OUTDIR/NAME.png: the picture the model saw and "
                  "where it looked for each of its top categories (Grad-CAM, at most 5)");
  cli->add_option("--explain_block", o->explainBlock,
                  "The block --explain looks at: auto (the last mixed block whose map is at least "
                  "5 x 5: Mixed_7c from 203-pixel inputs, Mixed_6e from 107, Mixed_5d below), "
                  "Mixed_7c, Mixed_6e or Mixed_5d")
      ->check(CLI::IsMember({"auto", "Mixed_7c", "Mixed_6e", "Mixed_5d"}))
      ->capture_default_str();
  cli->add_option("images", o->images,
                  "Image files, or folders: the files below them, in path order")
      ->required();
  return {cli, [o]() -> int { return runClassify(*o); }};
}

}  // namespace taxon::app
