#include "project/ProjectLayout.hpp"

#include <algorithm>
#include <system_error>

#include "records/RecordSet.hpp"

namespace taxon::project {

namespace fs = std::filesystem;

namespace {

std::optional<fs::file_time_type> modified(const fs::path& file) {
  std::error_code error;
  const auto time = fs::last_write_time(file, error);
  if (error) {
    return std::nullopt;
  }
  return time;
}

}  // namespace

std::vector<fs::path> ProjectLayout::runDirs() const {
  std::vector<fs::path> dirs;
  std::error_code error;
  for (fs::directory_iterator it(runsDir(), error), end; !error && it != end; it.increment(error)) {
    if (it->is_directory(error)) {
      dirs.push_back(it->path());
    }
  }
  std::sort(dirs.begin(), dirs.end());
  if (fs::exists(demoRunDir() / kMetricsFile, error)) {
    dirs.push_back(demoRunDir());
  }
  return dirs;
}

bool ProjectLayout::recordsCurrent() const {
  return recordsCurrent(recordsDir());
}

bool ProjectLayout::recordsCurrent(const fs::path& records) const {
  const auto manifest = modified(records / "manifest.json");
  std::error_code error;
  if (!manifest || fs::exists(records / records::kIncompleteMarker, error)) {
    return false;  // never built, or a build that did not finish
  }
  std::optional<fs::file_time_type> catalog;
  for (const auto& file : {catalogFile(), fs::path(catalogFile().string() + "-wal")}) {
    const auto time = modified(file);
    if (time && (!catalog || *time > *catalog)) {
      catalog = time;
    }
  }
  return !catalog || *manifest >= *catalog;
}

std::optional<fs::path> ProjectLayout::newestReport() const {
  std::vector<fs::path> candidates = {demoEvalDir()};
  std::error_code error;
  for (fs::directory_iterator it(runsDir(), error), end; !error && it != end; it.increment(error)) {
    candidates.push_back(it->path() / "eval");
  }
  std::optional<fs::path> newest;
  std::optional<fs::file_time_type> newestTime;
  for (const auto& dir : candidates) {
    const auto time = modified(dir / kSummaryFile);
    if (time && (!newestTime || *time > *newestTime)) {
      newest = dir;
      newestTime = time;
    }
  }
  return newest;
}

fs::path evalDirOf(const fs::path& checkpoint) {
  std::error_code error;
  return fs::is_directory(checkpoint, error) ? checkpoint / "eval"
                                             : checkpoint.parent_path() / "eval";
}

std::string defaultEvalSubset(const fs::path& records) {
  std::error_code error;
  for (fs::directory_iterator it(records, error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (name.starts_with("test-") && records::isShardName(name)) {
      return "test";
    }
  }
  return "validation";
}

}  // namespace taxon::project
