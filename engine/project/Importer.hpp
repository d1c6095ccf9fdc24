// `taxon import`: brings images into a project from class folders (nested folders are levels of
// the category path), CSV manifests (path,label[,split]; an empty label is an unlabeled image),
// Fashion-MNIST IDX files (our built-in default project), TFRecord shards made by the seed's
// build_image_data.py, and folders of unlabeled photos (every image below them, no category: the
// model suggests one, people review). The readers, one per format, and the orchestrator live in
// project/import/.
//
// Every image at a path the project does not have yet is checked (ImageCheck) on worker threads;
// broken ones are skipped and listed with the reason, duplicates are reported, and the import goes
// on. A path the project has is not read again (only its category is compared), so importing the
// same folder again costs a catalog lookup per file; a file changed in place keeps its row.
// Memory stays bounded: files are checked and written to the catalog in chunks. Then the
// stratified split places the new images (Split.hpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <stop_token>
#include <string>
#include <vector>

#include "core/Progress.hpp"
#include "image/ImageCheck.hpp"
#include "project/Catalog.hpp"

namespace taxon::project {

enum class SourceFormat { Auto, Folders, Csv, Idx, TfRecord, Unlabeled };
std::string_view sourceFormatName(SourceFormat format);

struct ImportSettings {
  std::vector<std::filesystem::path> sources;  // folders or files
  // Folders of unlabeled images: every image below them, at any depth, without a category.
  std::vector<std::filesystem::path> unlabeled;
  SourceFormat format = SourceFormat::Auto;  // Auto: decided per source
  double validationFraction = 0.1;           // the stratified split after the import
  std::uint64_t seed = 0;                    // seed of the split
  bool resplit = false;                      // re-draw train/validation for every image
  int threads = 0;                           // image checks in parallel; 0: all cores
  std::int64_t limit = 0;                    // at most this many images per source file; 0: all
  std::filesystem::path labelsFile;          // TFRecord: names for labels without text
  // An image the project has, listed with another category: false keeps its category (and the
  // report lists it); true gives it the listed one, all such changes as one undoable edit.
  bool relabel = false;
  image::ImageCheckLimits checkLimits;

  // Every problem at once, each naming the setting; empty when the settings are usable.
  std::vector<std::string> validate() const;
};

struct Duplicate {
  std::string path;
  std::string sameAs;  // an image already in the project, or imported earlier in this run
};

struct ImportReport {
  std::int64_t examined = 0;        // image files looked at
  std::int64_t added = 0;           // new images in the catalog
  std::int64_t alreadyPresent = 0;  // paths the catalog already had
  std::vector<ImportIssue> skipped;
  std::vector<Duplicate> duplicates;
  std::int64_t categories = 0;                       // categories in the project afterwards
  std::int64_t train = 0, validation = 0, test = 0;  // images in each split afterwards
  std::int64_t unlabeled = 0;                        // images without a category afterwards
  // Images the project had, listed with another category (kept, or relabeled: relabelEdit).
  std::vector<DifferentLabel> differentLabels;
  std::int64_t relabelEdit = 0;       // the edit that relabeled them (0: none)
  bool splitFolders = false;          // a source was laid out as train/, validation/, test/ folders
  std::int64_t extractedRemoved = 0;  // extracted files removed because a stop came first
  bool cancelled = false;
};

// Checks the settings and every source (exists, has a format, a CSV file reads as one) without
// writing anything; throws core::Error naming the first source at fault. importImages calls it
// first; a caller that creates the project first calls it before.
void checkImportSources(const ImportSettings& settings);

// Runs the import. A folder whose folders are all named train, validation or test (the seed's
// layout) keeps those splits; CSV rows listing a file twice with two labels keep the first and
// report the conflict; no category is created for an image that is not added. `progress` is
// called on the calling thread and the worker threads. A stop request finishes the current chunk,
// leaves the catalog consistent (what was added stays; files extracted into the project but not
// added are removed) and returns with cancelled set. Throws core::Error for problems with the
// project or the settings; problems with single files land in the report.
ImportReport importImages(Catalog& catalog, const ImportSettings& settings,
                          const core::ProgressFn& progress = {}, std::stop_token stop = {});

// The Fashion-MNIST classes (label index 0-9) as two-level category paths, e.g. "Shoes > Sneaker".
const std::vector<std::string>& fashionMnistCategories();

}  // namespace taxon::project
