// Images in category folders, the seed's layout: every file below a folder is an image of the
// category named by the folders from the root down ("Women/Shoes/Sneakers/1.jpg" is a
// "Women > Shoes > Sneakers" image). Import and build-records both read it.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <set>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "core/Error.hpp"

namespace taxon::image {

struct FolderImage {
  std::filesystem::path path;
  std::string category;  // the folders below the root joined by " > "
};

// Folders already walked (device, inode): a second visit through a link is reported, not walked.
using FolderVisits = std::set<std::pair<dev_t, ino_t>>;

// Called with each image's path (the native string) and category, in the walk's order.
using FolderImageFn = std::function<void(const std::string& path, const std::string& category)>;

// Walks `root` like scanCategoryFolders, handing each image to `found` instead of keeping them
// all: a std::filesystem::path costs about 750 bytes of heap for a 75-character path (its
// components are parsed and kept), its string 190, which counts at a million files.
void forEachCategoryImage(const std::filesystem::path& root, std::vector<core::FileIssue>& issues,
                          const FolderImageFn& found, std::stop_token stop = {},
                          FolderVisits* visits = nullptr);

// Every file below `root`, at any depth and directly in it, handed to `found` with an empty
// category: a folder of photos nobody has labeled yet. Folder names carry no meaning; links,
// loops and special files are handled as in forEachCategoryImage.
void forEachLooseImage(const std::filesystem::path& root, std::vector<core::FileIssue>& issues,
                       const FolderImageFn& found, std::stop_token stop = {},
                       FolderVisits* visits = nullptr);

// Walks `root` (see above). Files directly in `root`, special files, unreadable folders, broken
// links and symbolic link loops are reported in `issues`. Sorted, deterministic, never follows a
// loop. Scans that share `visits` also report a folder that a previous one walked.
std::vector<FolderImage> scanCategoryFolders(const std::filesystem::path& root,
                                             std::vector<core::FileIssue>& issues,
                                             std::stop_token stop = {},
                                             FolderVisits* visits = nullptr);

// The entries of `dir`, sorted by name; a folder that cannot be read adds to `issues`.
std::vector<std::filesystem::path> sortedEntries(const std::filesystem::path& dir,
                                                 std::vector<core::FileIssue>& issues);

}  // namespace taxon::image
