#include <cerrno>
#include <fstream>

#include "core/CategoryPath.hpp"
#include "core/Csv.hpp"
#include "core/Error.hpp"
#include "project/Split.hpp"
#include "project/import/ImportSources.hpp"

namespace taxon::project::importer {

namespace fs = std::filesystem;

namespace {

constexpr const char* kCsvColumns = "expected the columns path,label[,split] separated by commas";

std::string trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) {
    return {};
  }
  return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

}  // namespace

void checkCsvShape(const fs::path& file) {
  std::error_code ec;
  if (fs::is_directory(file, ec)) {
    core::throwFileError(file,
                         "is a folder, not a CSV manifest (import a folder of category "
                         "folders without --format csv)");
  }
  std::ifstream in(file);
  if (!in) {
    core::throwFileError(file, "cannot open the CSV manifest: " + core::errnoText(errno));
  }
  std::string line;
  while (std::getline(in, line) && (line.empty() || line == "\r")) {
  }
  if (line.find(',') == std::string::npos) {
    for (const char separator : {';', '\t', '|'}) {
      if (line.find(separator) != std::string::npos) {
        const std::string name = separator == '\t' ? "tabs" : std::string("'") + separator + "'";
        core::throwFileError(file, "line 1 is separated by " + name + "; " + kCsvColumns);
      }
    }
  }
}

void collectCsv(const fs::path& file, Collected& out, CsvListings& listings) {
  std::ifstream in(file);
  if (!in) {
    core::throwFileError(file, "cannot open the CSV manifest");
  }
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (number == 1 && line.size() >= 3 && line.substr(0, 3) == "\xEF\xBB\xBF") {
      line.erase(0, 3);  // UTF-8 byte order mark
    }
    if (line.empty() || line == "\r") {
      continue;
    }
    const auto fields = core::splitCsvLine(line);
    if (number == 1 && fields.size() >= 2 && fields[0] == "path" && fields[1] == "label") {
      continue;
    }
    const std::string where = file.string() + ":" + std::to_string(number);
    if (fields.size() < 2 || fields.size() > 3 || fields[0].empty()) {
      out.issues.push_back({where, std::to_string(fields.size()) + " column" +
                                       (fields.size() == 1 ? "" : "s") + "; " + kCsvColumns});
      continue;
    }
    fs::path path = trim(fields[0]);
    if (path.is_relative()) {
      path = file.parent_path() / path;
    }
    Candidate c{path.string(), fields[1], Split::Unassigned};
    if (fields.size() >= 3 && !fields[2].empty()) {
      const auto split = parseSplit(fields[2]);
      if (!split) {
        out.issues.push_back({where, "unknown split \"" + fields[2] +
                                         "\" (use train, validation, test or leave it empty)"});
        continue;
      }
      c.split = *split;
    }
    // An empty label is an unlabeled image (category ""), for the model to suggest one.
    try {
      c.category =
          trim(c.category).empty() ? std::string() : core::normalizeCategoryPath(c.category);
    } catch (const core::Error& e) {
      out.issues.push_back({where, e.what()});
      continue;
    }
    const auto [first, isNew] =
        listings.try_emplace(fs::absolute(path).lexically_normal().string(), c.category, where);
    if (!isNew) {
      if (first->second.first != c.category) {
        const auto label = [](const std::string& category) {
          return category.empty() ? std::string("unlabeled") : "\"" + category + "\"";
        };
        out.issues.push_back({where, "conflicting label: " + path.string() + " is listed at " +
                                         first->second.second + " as " +
                                         label(first->second.first) + " and here as " +
                                         label(c.category) + "; the first is kept"});
      }
      continue;  // listed twice with the same label: once is enough
    }
    out.candidates.push_back(std::move(c));
  }
}

}  // namespace taxon::project::importer
