// `taxon import` and `taxon build-records`.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>

#include "Commands.hpp"
#include "Interrupt.hpp"
#include "core/Error.hpp"
#include "core/Files.hpp"
#include "core/Progress.hpp"
#include "project/Importer.hpp"
#include "project/ProjectRecords.hpp"
#include "records/RecordBuilder.hpp"

namespace taxon::app {

namespace fs = std::filesystem;

std::string withThousands(std::int64_t value) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  for (int at = static_cast<int>(digits.size()) - 3; at > 0; at -= 3) {
    digits.insert(static_cast<std::size_t>(at), ",");
  }
  return value < 0 ? "-" + digits : digits;
}

std::string countOf(std::int64_t count, const std::string& noun, const std::string& plural) {
  return withThousands(count) + " " + (count == 1 ? noun : (plural.empty() ? noun + "s" : plural));
}

CLI::Validator atLeast(long long minimum) {
  return CLI::Validator(
      [minimum](std::string& value) -> std::string {
        long long number = 0;
        std::size_t used = 0;
        try {
          number = std::stoll(value, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != value.size() || number < minimum) {
          return "must be a whole number of at least " + std::to_string(minimum) + " (got '" +
                 value + "')";
        }
        return {};
      },
      ">= " + std::to_string(minimum));
}

void printIssues(const std::string& title, const std::vector<project::ImportIssue>& issues,
                 const std::string& fullListFile, std::size_t shown) {
  if (issues.empty()) {
    return;
  }
  std::fprintf(stderr, "%s (%s):\n", title.c_str(),
               withThousands(static_cast<std::int64_t>(issues.size())).c_str());
  for (std::size_t i = 0; i < issues.size() && i < shown; ++i) {
    std::fprintf(stderr, "  %s: %s\n", issues[i].path.c_str(), issues[i].reason.c_str());
  }
  if (issues.size() > shown) {
    std::fprintf(stderr, "  ... and %s more, all listed in %s\n",
                 withThousands(static_cast<std::int64_t>(issues.size() - shown)).c_str(),
                 fullListFile.c_str());
  }
}

namespace {

// Writes the skipped files and duplicates as a tab-separated report; returns its path.
fs::path writeReport(const fs::path& dir, const std::string& stem,
                     const std::vector<project::ImportIssue>& skipped,
                     const std::vector<project::Duplicate>& duplicates) {
  const std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::gmtime(&now));
  fs::create_directories(dir);
  const fs::path file = dir / (stem + "-" + stamp + ".tsv");
  std::string text = "kind\tpath\tdetail\n";
  for (const auto& s : skipped) {
    text += "skipped\t" + s.path + "\t" + s.reason + "\n";
  }
  for (const auto& d : duplicates) {
    text += "duplicate\t" + d.path + "\t" + d.sameAs + "\n";
  }
  core::writeFileAtomic(file, text);
  return file;
}

struct ImportOptions {
  std::string project;
  std::vector<std::string> sources;
  std::string format = "auto";
  project::ImportSettings settings;
  std::string labelsFile;
};

int runImport(ImportOptions& o) {
  auto& s = o.settings;
  s.sources.assign(o.sources.begin(), o.sources.end());
  s.labelsFile = o.labelsFile;
  const std::pair<const char*, project::SourceFormat> formats[] = {
      {"auto", project::SourceFormat::Auto},
      {"folders", project::SourceFormat::Folders},
      {"csv", project::SourceFormat::Csv},
      {"idx", project::SourceFormat::Idx},
      {"tfrecord", project::SourceFormat::TfRecord}};
  for (const auto& [name, format] : formats) {
    if (o.format == name) {
      s.format = format;
    }
  }
  // Every source is checked before the project is created or anything is written.
  project::checkImportSources(s);
  project::Catalog catalog(o.project, /*create=*/true);
  project::ImportReport report;
  {
    core::TerminalProgress bar;
    report = project::importImages(catalog, s, bar.callback(), interruptToken());
  }
  const fs::path reportFile = report.skipped.empty() && report.duplicates.empty()
                                  ? fs::path()
                                  : writeReport(catalog.projectDir() / "reports", "import",
                                                report.skipped, report.duplicates);
  printIssues("Skipped files", report.skipped, reportFile.string());
  if (!report.duplicates.empty()) {
    std::fprintf(stderr, "Duplicates (same content, imported anyway) (%s):\n",
                 withThousands(static_cast<std::int64_t>(report.duplicates.size())).c_str());
    for (std::size_t i = 0; i < report.duplicates.size() && i < 10; ++i) {
      std::fprintf(stderr, "  %s = %s\n", report.duplicates[i].path.c_str(),
                   report.duplicates[i].sameAs.c_str());
    }
    if (report.duplicates.size() > 10) {
      std::fprintf(stderr, "  ... all listed in %s\n", reportFile.c_str());
    }
  }
  if (!report.differentLabels.empty()) {
    const auto n = static_cast<std::int64_t>(report.differentLabels.size());
    std::fprintf(stderr, "%s %s already in the project %s listed with another category; %s:\n",
                 withThousands(n).c_str(), n == 1 ? "image" : "images", n == 1 ? "is" : "are",
                 report.relabelEdit != 0
                     ? "relabeled as listed (one edit: Edit > Undo in the app reverts it)"
                     : "kept as they are (--relabel gives them the listed one, as one undoable "
                       "edit)");
    for (std::size_t i = 0; i < report.differentLabels.size() && i < 10; ++i) {
      const auto& d = report.differentLabels[i];
      std::fprintf(stderr, "  %s: %s -> %s\n", d.path.c_str(),
                   d.current.empty() ? "(no category)" : d.current.c_str(), d.listed.c_str());
    }
    if (report.differentLabels.size() > 10) {
      std::fprintf(stderr, "  ... and %s more\n", withThousands(n - 10).c_str());
    }
  }
  if (report.splitFolders) {
    std::fprintf(stderr,
                 "The source is laid out as split folders (train/, validation/, test/): their "
                 "splits are kept and the folders below them are the categories.\n");
  }
  std::printf("Imported %s into %s (%s already there, %s skipped).\n",
              countOf(report.added, "new image").c_str(), catalog.projectDir().c_str(),
              withThousands(report.alreadyPresent).c_str(),
              withThousands(static_cast<std::int64_t>(report.skipped.size())).c_str());
  std::printf("The project has %s; %s train, %s validation, %s test images.\n",
              countOf(report.categories, "category", "categories").c_str(),
              withThousands(report.train).c_str(), withThousands(report.validation).c_str(),
              withThousands(report.test).c_str());
  if (report.cancelled) {
    std::fprintf(stderr, "Import cancelled: the %s images added before the stop are kept",
                 withThousands(report.added).c_str());
    if (report.extractedRemoved > 0) {
      std::fprintf(stderr, "; the %s files extracted but not yet added were removed",
                   withThousands(report.extractedRemoved).c_str());
    }
    std::fprintf(stderr, ". Run the same import again to continue.\n");
    return 1;
  }
  if (report.added == 0 && report.alreadyPresent == 0) {
    std::fprintf(
        stderr, "taxon import: error: nothing was imported: %s\n",
        report.skipped.empty()
            ? "no image files were found in the sources"
            : ("every file or row was skipped (" +
               withThousands(static_cast<std::int64_t>(report.skipped.size())) + ", listed above)")
                  .c_str());
    return 1;
  }
  return 0;
}

struct RecordsOptions {
  std::string project;
  records::RecordBuildSettings settings;
  std::string trainDirectory, validationDirectory, outputDirectory, labelsFile;
};

int runBuildRecords(RecordsOptions& o) {
  auto& s = o.settings;
  s.project = o.project;
  s.trainDirectory = o.trainDirectory;
  s.validationDirectory = o.validationDirectory;
  s.outputDirectory = o.outputDirectory;
  s.labelsFile = o.labelsFile;
  records::RecordBuildReport report;
  {
    core::TerminalProgress bar;
    report = project::buildRecords(s, bar.callback(), interruptToken());
  }
  if (report.cancelled) {
    std::fprintf(stderr, "Cancelled: finished shards are in place, unfinished ones removed.\n");
    return 1;
  }
  const fs::path out = s.outputDirectory.empty() ? s.project / "records" : s.outputDirectory;
  const fs::path reportFile =
      report.skipped.empty() ? fs::path() : writeReport(out, "skipped", report.skipped, {});
  printIssues("Skipped files", report.skipped, reportFile.string());
  for (const auto& name : report.emptyCategories) {
    std::fprintf(stderr, "warning: category \"%s\" has no images and gets no label\n",
                 name.c_str());
  }
  for (const auto& split : report.splits) {
    std::printf("%-10s %s records in %zu shard%s\n", split.name.c_str(),
                withThousands(split.records).c_str(), split.shards.size(),
                split.shards.size() == 1 ? "" : "s");
  }
  std::printf(
      "Wrote %.1f MB to %s with labels.txt (%zu labels, the first is 1) and manifest.json"
      "%s.\n",
      static_cast<double>(report.bytesWritten) / 1e6, out.c_str(), report.labels.size(),
      report.reencoded > 0
          ? ("; " + withThousands(report.reencoded) + " images re-encoded as JPEG").c_str()
          : "");
  return 0;
}

}  // namespace

Command addImportCommand(CLI::App& app) {
  auto* cli = app.add_subcommand(
      "import", "Import images into a project (class folders, CSV, Fashion-MNIST IDX, TFRecord)");
  auto o = std::make_shared<ImportOptions>();
  cli->add_option("project", o->project, "Project folder (created if missing)")->required();
  cli->add_option("sources", o->sources,
                  "Folders of category folders, CSV manifests (path,label[,split]), Fashion-MNIST "
                  "IDX files or folder, TFRecord shards or their folder")
      ->required();
  cli->add_option("--format", o->format, "Source format")
      ->check(CLI::IsMember({"auto", "folders", "csv", "idx", "tfrecord"}))
      ->capture_default_str();
  cli->add_option("--validation_fraction", o->settings.validationFraction,
                  "Share of each category held out for validation")
      ->check(CLI::Range(0.0, 0.99))
      ->capture_default_str();
  cli->add_option("--seed", o->settings.seed, "Seed of the stratified split")
      ->capture_default_str();
  cli->add_flag("--resplit", o->settings.resplit,
                "Draw train/validation again for every image (default: keep placed images)");
  cli->add_option("--num_threads", o->settings.threads, "Image checks in parallel (0: all cores)")
      ->check(atLeast(0))
      ->capture_default_str();
  cli->add_option("--limit", o->settings.limit, "At most N images per source file (0: all)")
      ->check(atLeast(0))
      ->capture_default_str();
  cli->add_option("--labels_file", o->labelsFile,
                  "TFRecord: category names for labels without text (line 1 is label 1)");
  cli->add_flag("--relabel", o->settings.relabel,
                "Give images the project already has the category the sources list now (one "
                "undoable edit); default: keep theirs and list the differences");
  return {cli, [o] { return runImport(*o); }};
}

Command addBuildRecordsCommand(CLI::App& app) {
  auto* cli = app.add_subcommand(
      "build-records",
      "Write TFRecord shards of tf.train.Example, labels.txt and manifest.json, like the seed's "
      "build_image_data.py (same flags), from folders or a project");
  auto o = std::make_shared<RecordsOptions>();
  auto& s = o->settings;
  cli->add_option("project", o->project,
                  "Build from this project's splits (default output: "
                  "PROJECT/records)");
  cli->add_option("--project", o->project, "Same as the positional project");
  cli->add_option("--train_directory", o->trainDirectory, "Folder of training category folders");
  cli->add_option("--validation_directory", o->validationDirectory,
                  "Folder of validation category folders");
  cli->add_option("--output_directory", o->outputDirectory, "Where the shards go");
  cli->add_option("--labels_file", o->labelsFile,
                  "Category folders to use, one per line (line 1 is label 1)");
  cli->add_option("--train_shards", s.trainShards, "Shards of the training split")
      ->check(atLeast(1))
      ->capture_default_str();
  cli->add_option("--validation_shards", s.validationShards, "Shards of the validation split")
      ->check(atLeast(1))
      ->capture_default_str();
  cli->add_option("--test_shards", s.testShards, "Projects: shards of the test split")
      ->check(atLeast(1))
      ->capture_default_str();
  cli->add_option("--num_threads", s.numThreads, "Images read and checked in parallel")
      ->check(atLeast(1))
      ->capture_default_str();
  cli->add_option("--max_side", s.maxSide, "Re-encode images whose longer side exceeds N (0: keep)")
      ->check(atLeast(0))
      ->capture_default_str();
  cli->add_option("--seed", s.seed, "Order of images across shards")->capture_default_str();
  cli->add_option_function<std::string>(
         "--verify", [o](const std::string& v) { o->settings.verifyDecode = v == "decode"; },
         "decode: decode every image at 1/8 size to prove it whole (default); header: headers, "
         "sizes and end markers only, as fast as a copy")
      ->check(CLI::IsMember({"decode", "header"}));
  return {cli, [o] { return runBuildRecords(*o); }};
}

}  // namespace taxon::app
