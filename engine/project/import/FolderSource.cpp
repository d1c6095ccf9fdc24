#include <system_error>
#include <utility>

#include "image/CategoryFolders.hpp"
#include "project/Split.hpp"
#include "project/import/ImportSources.hpp"

namespace taxon::project::importer {

namespace fs = std::filesystem;

namespace {

// The seed's layout (build_image_data.py's --train_directory and --validation_directory side by
// side): a root whose folders are all named after splits holds one tree of category folders per
// split. Returns those splits' folders, or nothing for an ordinary root.
std::vector<std::pair<fs::path, Split>> splitFolders(const fs::path& root) {
  std::vector<std::pair<fs::path, Split>> found;
  std::vector<ImportIssue> ignored;
  for (const auto& entry : image::sortedEntries(root, ignored)) {
    std::error_code ec;
    if (!fs::is_directory(entry, ec)) {
      continue;
    }
    const auto split = parseSplit(entry.filename().string());
    if (!split || *split == Split::Unassigned) {
      return {};
    }
    found.emplace_back(entry, *split);
  }
  return found;
}

// Every image below `root`'s category folders, with the split they come from.
void addFolderImages(const fs::path& root, Split split, image::FolderVisits& visited,
                     Collected& out, const std::stop_token& stop) {
  image::forEachCategoryImage(
      root, out.issues,
      [&](const std::string& path, const std::string& category) {
        out.candidates.push_back({path, category, split});
      },
      stop, &visited);
}

}  // namespace

bool collectFolders(const fs::path& root, Collected& out, const std::stop_token& stop) {
  image::FolderVisits visited;
  const auto splits = splitFolders(root);
  if (splits.empty()) {
    addFolderImages(root, Split::Unassigned, visited, out, stop);
    return false;
  }
  // train/, validation/, test/: each a tree of category folders, its split kept.
  for (const auto& [folder, split] : splits) {
    addFolderImages(folder, split, visited, out, stop);
  }
  return true;
}

void collectUnlabeled(const fs::path& root, Collected& out, const std::stop_token& stop) {
  image::forEachLooseImage(
      root, out.issues,
      [&](const std::string& path, const std::string&) {
        out.candidates.push_back({path, std::string(), Split::Unassigned});
      },
      stop);
}

}  // namespace taxon::project::importer
