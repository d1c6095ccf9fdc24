#include "Commands.hpp"

#include <cstdio>
#include <ctime>

#include "core/Files.hpp"

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

fs::path writeIssueReport(const fs::path& dir, const std::string& stem,
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

void addPrecisionOption(CLI::App& command, std::string& precision, const std::string& initial,
                        const std::string& why) {
  precision = initial;
  command
      .add_option("--precision", precision,
                  "fp32, bf16, or auto: bf16 where the CPU has AVX512-BF16 or AMX, or on a CUDA "
                  "device of compute capability 8.0 or newer, fp32 elsewhere; " +
                      why)
      ->check(CLI::IsMember({"fp32", "bf16", "auto"}))
      ->capture_default_str();
}

}  // namespace taxon::app
