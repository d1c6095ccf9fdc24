#include "commands/Import.hpp"

#include <cstdio>
#include <filesystem>
#include <memory>

#include "Interrupt.hpp"
#include "TerminalProgress.hpp"
#include "project/ProjectLayout.hpp"

namespace taxon::app {

namespace fs = std::filesystem;

int runImport(ImportOptions& o) {
  auto& s = o.settings;
  s.sources.assign(o.sources.begin(), o.sources.end());
  s.unlabeled.assign(o.unlabeled.begin(), o.unlabeled.end());
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
    TerminalProgress bar;
    report = project::importImages(catalog, s, bar.callback(), interruptToken());
  }
  const fs::path reportFile =
      report.skipped.empty() && report.duplicates.empty()
          ? fs::path()
          : writeIssueReport(project::ProjectLayout(catalog.projectDir()).reportsDir(), "import",
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
  std::printf("The project has %s; %s train, %s validation, %s test images%s.\n",
              countOf(report.categories, "category", "categories").c_str(),
              withThousands(report.train).c_str(), withThousands(report.validation).c_str(),
              withThousands(report.test).c_str(),
              report.unlabeled > 0
                  ? (", " + withThousands(report.unlabeled) + " of them unlabeled").c_str()
                  : "");
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

Command addImportCommand(CLI::App& app) {
  auto* cli = app.add_subcommand(
      "import",
      "Import images into a project (class folders, CSV, Fashion-MNIST IDX, TFRecord, unlabeled)");
  auto o = std::make_shared<ImportOptions>();
  cli->add_option("project", o->project, "Project folder (created if missing)")->required();
  cli->add_option("sources", o->sources,
                  "Folders of category folders, CSV manifests (path,label[,split]; an empty label "
                  "is an unlabeled image), Fashion-MNIST IDX files or folder, TFRecord shards or "
                  "their folder");
  cli->add_option("--unlabeled", o->unlabeled,
                  "Folders of images without a category (every image below them, at any depth), "
                  "to be labeled in the project; left out of records and training until then");
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

}  // namespace taxon::app
