// A project on disk: every folder and file name, and the rules that read them. The app, the
// command line and the UI ask here instead of spelling "records" or "runs" themselves.
//
//   PROJECT/taxon.sqlite        the catalog (project::Catalog), with -wal/-shm beside it
//   PROJECT/images/             images the project extracted itself (IDX, TFRecord imports)
//   PROJECT/records/            the record shards training reads (build-records' default)
//   PROJECT/runs/NAME/          training runs started from the app
//   PROJECT/train/              `taxon demo`'s run
//   PROJECT/eval/               `taxon demo`'s evaluation report
//   RUN/eval/                   a run's evaluation report (summary.json and CSV files)
//   PROJECT/reports/            import reports
//   PROJECT/.taxon-cache/thumbnails/   the app's thumbnail cache (safe to delete)
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace taxon::project {

class ProjectLayout {
 public:
  explicit ProjectLayout(std::filesystem::path root) : root_(std::move(root)) {}

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path catalogFile() const { return root_ / "taxon.sqlite"; }
  std::filesystem::path recordsDir() const { return root_ / "records"; }
  std::filesystem::path runsDir() const { return root_ / "runs"; }
  std::filesystem::path demoRunDir() const { return root_ / "train"; }
  std::filesystem::path demoEvalDir() const { return root_ / "eval"; }
  std::filesystem::path reportsDir() const { return root_ / "reports"; }
  std::filesystem::path imagesDir() const { return root_ / "images"; }
  std::filesystem::path thumbnailsDir() const { return root_ / ".taxon-cache" / "thumbnails"; }

  // The runs: every folder of runs/ by name, then the demo's run when it has logged metrics.
  std::vector<std::filesystem::path> runDirs() const;

  // Records are current when their manifest is not older than the catalog's last change; false
  // when there are no records. (A catalog never written counts as unchanged.)
  bool recordsCurrent() const;
  bool recordsCurrent(const std::filesystem::path& records) const;

  // The newest evaluation report folder (holding summary.json) of the demo and the runs.
  std::optional<std::filesystem::path> newestReport() const;

 private:
  std::filesystem::path root_;
};

// A run's evaluation report folder: RUN/eval, or beside a checkpoint file given instead of its
// folder.
std::filesystem::path evalDirOf(const std::filesystem::path& checkpoint);

// The split an evaluation of `records` uses by default: "test" when the records have a test split,
// else "validation".
std::string defaultEvalSubset(const std::filesystem::path& records);

// The report's summary file in an evaluation folder.
inline constexpr const char* kSummaryFile = "summary.json";
// A run's metrics log in its folder.
inline constexpr const char* kMetricsFile = "metrics.jsonl";

}  // namespace taxon::project
