// What the subcommands of `taxon` share. Each command lives in app/commands/: a named options
// struct, the function that runs it, and add*Command, which registers its flags on `app` and
// returns what running it does once the command line has parsed. Runners return the exit code and
// throw core::UsageError (exit 2) or core::Error (exit 1) with a message naming the file at fault.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "project/Catalog.hpp"
#include "project/Importer.hpp"

namespace taxon::app {

struct Command {
  CLI::App* cli = nullptr;
  std::function<int()> run;
};

// Prints skipped files ("  PATH: REASON") to stderr, at most `shown`, and says where the rest is.
void printIssues(const std::string& title, const std::vector<project::ImportIssue>& issues,
                 const std::string& fullListFile, std::size_t shown = 30);

// Writes the skipped files and duplicates as a tab-separated report in `dir`
// (STEM-YYYYMMDD-HHMMSS.tsv, UTC); returns its path.
std::filesystem::path writeIssueReport(const std::filesystem::path& dir, const std::string& stem,
                                       const std::vector<project::ImportIssue>& skipped,
                                       const std::vector<project::Duplicate>& duplicates);

// "12,345"
std::string withThousands(std::int64_t value);

// "1 image", "12,345 images": the count and the noun, plural when it is not 1 (`plural`, or the
// noun with an s).
std::string countOf(std::int64_t count, const std::string& noun, const std::string& plural = "");

// A whole number of at least `minimum`, said so when it is not ("must be a whole number of at
// least 1", not CLI11's range of 300 digits).
CLI::Validator atLeast(long long minimum);

// --precision fp32|bf16|auto for the commands that run the inference form, starting at `initial`
// (`why` ends its help: what the default means for that command).
void addPrecisionOption(CLI::App& command, std::string& precision, const std::string& initial,
                        const std::string& why);

}  // namespace taxon::app
