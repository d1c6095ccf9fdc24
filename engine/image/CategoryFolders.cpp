#include "image/CategoryFolders.hpp"

#include <sys/stat.h>

#include <algorithm>

#include "core/Error.hpp"

namespace taxon::image {

namespace fs = std::filesystem;

namespace {

// `loose`: folder names are not categories, and every file at any depth is an image without one.
void walkFolder(const fs::path& dir, const std::string& category, bool loose, FolderVisits& visited,
                const FolderImageFn& found, std::vector<core::FileIssue>& issues,
                const std::stop_token& stop) {
  struct stat info {};
  if (::stat(dir.c_str(), &info) != 0) {
    issues.push_back({dir.string(), "cannot read folder: " + core::errnoText(errno)});
    return;
  }
  if (!visited.insert({info.st_dev, info.st_ino}).second) {
    issues.push_back({dir.string(),
                      "folder reached a second time through a symbolic link "
                      "(a loop or a duplicate link); skipped"});
    return;
  }
  for (const auto& entry : sortedEntries(dir, issues)) {
    if (stop.stop_requested()) {
      return;
    }
    std::error_code ec;
    const auto status = fs::status(entry, ec);  // follows symbolic links
    if (ec) {
      issues.push_back({entry.string(), fs::is_symlink(fs::symlink_status(entry, ec))
                                            ? "broken symbolic link"
                                            : "cannot read: " + ec.message()});
      continue;
    }
    const std::string name = entry.filename().string();
    if (fs::is_directory(status)) {
      walkFolder(entry,
                 loose              ? ""
                 : category.empty() ? name
                                    : category + " > " + name,
                 loose, visited, found, issues, stop);
    } else if (!fs::is_regular_file(status)) {
      issues.push_back({entry.string(), "not a regular file"});
    } else if (category.empty() && !loose) {
      issues.push_back({entry.string(), "not inside a category folder"});
    } else {
      found(entry.native(), category);
    }
  }
}

}  // namespace

std::vector<fs::path> sortedEntries(const fs::path& dir, std::vector<core::FileIssue>& issues) {
  std::vector<fs::path> entries;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    issues.push_back({dir.string(), "cannot read folder: " + ec.message()});
    return entries;
  }
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) {
      issues.push_back({dir.string(), "cannot read folder: " + ec.message()});
      break;
    }
    entries.push_back(it->path());
  }
  std::sort(entries.begin(), entries.end());
  return entries;
}

void forEachCategoryImage(const fs::path& root, std::vector<core::FileIssue>& issues,
                          const FolderImageFn& found, std::stop_token stop, FolderVisits* visits) {
  FolderVisits own;
  walkFolder(root, "", /*loose=*/false, visits != nullptr ? *visits : own, found, issues, stop);
}

void forEachLooseImage(const fs::path& root, std::vector<core::FileIssue>& issues,
                       const FolderImageFn& found, std::stop_token stop, FolderVisits* visits) {
  FolderVisits own;
  walkFolder(root, "", /*loose=*/true, visits != nullptr ? *visits : own, found, issues, stop);
}

std::vector<FolderImage> scanCategoryFolders(const fs::path& root,
                                             std::vector<core::FileIssue>& issues,
                                             std::stop_token stop, FolderVisits* visits) {
  std::vector<FolderImage> images;
  forEachCategoryImage(
      root, issues,
      [&](const std::string& path, const std::string& category) {
        images.push_back({path, category});
      },
      stop, visits);
  return images;
}

}  // namespace taxon::image
