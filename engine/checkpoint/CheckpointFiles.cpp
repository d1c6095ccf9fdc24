#include "checkpoint/CheckpointFiles.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace taxon::checkpoint {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPrefix = "model.ckpt-";
constexpr std::string_view kSuffix = ".taxon";

}  // namespace

std::string checkpointFileName(std::int64_t step) {
  return std::string(kPrefix) + std::to_string(step) + std::string(kSuffix);
}

bool isUnfinishedCheckpoint(const std::string& fileName) {
  return fileName.rfind(kPrefix, 0) == 0 &&
         fileName.find(std::string(kSuffix) + ".tmp-") != std::string::npos;
}

std::optional<std::int64_t> checkpointStep(const std::string& fileName) {
  if (fileName.size() <= kPrefix.size() + kSuffix.size() || fileName.rfind(kPrefix, 0) != 0 ||
      fileName.compare(fileName.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) {
    return std::nullopt;
  }
  const std::string digits =
      fileName.substr(kPrefix.size(), fileName.size() - kPrefix.size() - kSuffix.size());
  if (digits.empty() || digits.size() > 18 ||
      !std::all_of(digits.begin(), digits.end(),
                   [](unsigned char c) { return std::isdigit(c) != 0; })) {
    return std::nullopt;
  }
  return std::stoll(digits);
}

std::vector<CheckpointInfo> listCheckpoints(const fs::path& directory) {
  std::vector<CheckpointInfo> found;
  std::error_code error;
  for (fs::directory_iterator it(directory, error), end; !error && it != end; it.increment(error)) {
    if (const auto step = checkpointStep(it->path().filename().string());
        step && it->is_regular_file(error)) {
      found.push_back({it->path(), *step});
    }
  }
  std::sort(found.begin(), found.end(),
            [](const CheckpointInfo& a, const CheckpointInfo& b) { return a.step < b.step; });
  return found;
}

std::optional<CheckpointInfo> newestCheckpoint(const fs::path& path) {
  std::error_code error;
  if (fs::is_regular_file(path, error)) {
    return CheckpointInfo{path, checkpointStep(path.filename().string()).value_or(0)};
  }
  auto all = listCheckpoints(path);
  if (all.empty()) {
    return std::nullopt;
  }
  return all.back();
}

}  // namespace taxon::checkpoint
