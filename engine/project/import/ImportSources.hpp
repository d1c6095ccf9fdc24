// What the import's source readers hand to the orchestrator (Importer.cpp): the image files each
// source lists, with the category and split it gives them, and the problems met on the way. One
// reader per source format, each in its own file. Private to project/import.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stop_token>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/Progress.hpp"
#include "project/Catalog.hpp"
#include "project/Importer.hpp"

namespace taxon::project::importer {

// A file to check and add, with the category and split its source gave it.
// The path is kept as its string: an import holds every source's candidates at once, and a
// std::filesystem::path costs about four times the heap of its string.
struct Candidate {
  std::string path;
  std::string category;
  Split split = Split::Unassigned;
};

struct Collected {
  std::vector<Candidate> candidates;
  std::vector<ImportIssue> issues;
};

// --- class folders (FolderSource.cpp) ---

// Every image below `root`'s category folders. A root whose folders are all named train,
// validation or test (the seed's layout) holds one tree per split and keeps those splits: returns
// true then.
bool collectFolders(const std::filesystem::path& root, Collected& out, const std::stop_token& stop);

// Every image below `root` at any depth, without a category (`taxon import --unlabeled`).
void collectUnlabeled(const std::filesystem::path& root, Collected& out,
                      const std::stop_token& stop);

// --- CSV manifests (CsvSource.cpp) ---

// Where each file listed by a CSV manifest was first listed, with which category: the same file
// listed again with another category is a conflict, reported, and the first listing is kept.
using CsvListings = std::unordered_map<std::string, std::pair<std::string, std::string>>;

// Checks that `file` reads as a comma-separated manifest: a whole file in another shape (a folder,
// semicolons or tabs) is core::Error before the import writes anything.
void checkCsvShape(const std::filesystem::path& file);

// The rows of a path,label[,split] manifest; a row at fault is an issue naming its line.
void collectCsv(const std::filesystem::path& file, Collected& out, CsvListings& listings);

// --- Fashion-MNIST IDX files (IdxSource.cpp) ---

// `dir`/`stem` or `dir`/`stem`.gz, whichever exists; empty when neither does.
std::filesystem::path findIdx(const std::filesystem::path& dir, const std::string& stem);

// Extracts the images of an IDX folder or images file as PNGs into the project's images folder.
void extractIdx(const std::filesystem::path& source, const std::filesystem::path& projectDir,
                std::int64_t limit, Collected& out, const core::ProgressFn& progress,
                const std::stop_token& stop);

// --- TFRecord shards (TfRecordSource.cpp) ---

// Extracts the encoded images of a shard, or of every shard in a folder, into the project.
void extractTfRecords(const std::filesystem::path& source, const ImportSettings& settings,
                      const std::filesystem::path& projectDir, Collected& out,
                      const std::stop_token& stop);

}  // namespace taxon::project::importer
