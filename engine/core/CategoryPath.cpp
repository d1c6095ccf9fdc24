#include "core/CategoryPath.hpp"

#include "core/Error.hpp"

namespace taxon::core {

namespace {

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

}  // namespace

std::string normalizeCategoryPath(std::string_view path) {
  std::string out;
  std::size_t start = 0;
  while (true) {
    const auto end = path.find('>', start);
    const auto segment =
        trim(path.substr(start, end == std::string_view::npos ? end : end - start));
    if (segment.empty()) {
      throw core::Error("category name \"" + std::string(path) + "\" has an empty level");
    }
    if (!out.empty()) {
      out += " > ";
    }
    // Runs of spaces inside a name count as one ("Running  Shoes" is "Running Shoes").
    for (std::size_t i = 0; i < segment.size(); ++i) {
      if (segment[i] != ' ' || segment[i - 1] != ' ') {  // segment[0] is never a space
        out += segment[i];
      }
    }
    if (end == std::string_view::npos) {
      break;
    }
    start = end + 1;
  }
  return out;
}

std::vector<std::string> categorySegments(std::string_view path) {
  std::vector<std::string> segments;
  std::size_t start = 0;
  while (true) {
    const auto end = path.find(" > ", start);
    segments.emplace_back(path.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) {
      break;
    }
    start = end + 3;
  }
  return segments;
}

std::string categoryPrefix(std::string_view path, int levels) {
  std::size_t end = 0;
  for (int level = 0; level < levels; ++level) {
    end = path.find(" > ", level == 0 ? 0 : end + 3);
    if (end == std::string_view::npos) {
      return std::string(path);
    }
  }
  return std::string(path.substr(0, end));
}

}  // namespace taxon::core
