// A real tiny project for the UI tests: real Fashion-MNIST pictures (28 x 28 grey, from Debian's
// dataset-fashion-mnist) as PNG files in category folders (two levels), imported into a real
// catalog with the engine's importer, and optionally its TFRecord shards. Four of the ten classes,
// so that the pages show what a user sees and a tiny model learns them in a few dozen steps.
#pragma once

#include <zlib.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <opencv2/core.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "TestFiles.hpp"
#include "project/Catalog.hpp"
#include "project/Importer.hpp"
#include "project/ProjectRecords.hpp"
#include "records/RecordBuilder.hpp"

namespace taxon::test {

inline const std::vector<std::string>& uiTestCategories() {
  static const std::vector<std::string> names = {"Bags > Bag", "Shoes > Sandal", "Shoes > Sneaker",
                                                 "Tops > Shirt"};
  return names;
}

// The Fashion-MNIST class of each of uiTestCategories(): Bag, Sandal, Sneaker, Shirt.
inline constexpr std::array<int, 4> kUiTestFashionClasses = {8, 5, 7, 6};

// The first `count` training pictures of Fashion-MNIST class `label` (0-9), 28 x 28 grey, read
// from the Debian package's IDX files (the setup installs it).
inline std::vector<cv::Mat> fashionMnistPictures(int label, int count) {
  const std::string dir = "/usr/share/datasets/fashion-mnist/";
  const auto open = [](const std::string& path, int header) {
    gzFile file = gzopen(path.c_str(), "rb");
    if (file == nullptr) {
      throw std::runtime_error("cannot open " + path + " (package dataset-fashion-mnist)");
    }
    char skip[16];
    gzread(file, skip, static_cast<unsigned>(header));
    return file;
  };
  gzFile images = open(dir + "train-images-idx3-ubyte.gz", 16);
  gzFile labels = open(dir + "train-labels-idx1-ubyte.gz", 8);
  std::vector<cv::Mat> out;
  cv::Mat picture(28, 28, CV_8UC1);
  unsigned char l = 0;
  for (int i = 0; i < 60000 && static_cast<int>(out.size()) < count; ++i) {
    if (gzread(labels, &l, 1) != 1 || gzread(images, picture.data, 28 * 28) != 28 * 28) {
      break;
    }
    if (l == label) {
      out.push_back(picture.clone());
    }
  }
  gzclose(images);
  gzclose(labels);
  if (static_cast<int>(out.size()) < count) {
    throw std::runtime_error("Fashion-MNIST has fewer pictures of class " + std::to_string(label));
  }
  return out;
}

// Makes PROJECT/source/<Level1>/<Level2>/NNN.png (`perCategory` real Fashion-MNIST pictures of
// the category's class each) and imports them into PROJECT. With `records`, also writes
// PROJECT/records (train, validation and test shards).
inline void makeUiTestProject(const std::filesystem::path& project, int perCategory = 12,
                              bool records = false) {
  namespace fs = std::filesystem;
  const fs::path source = project / "source";
  for (std::size_t c = 0; c < uiTestCategories().size(); ++c) {
    const auto pictures = fashionMnistPictures(kUiTestFashionClasses[c], perCategory);
    const auto levels = core::categorySegments(uiTestCategories()[c]);
    fs::path folder = source;
    std::string rest = uiTestCategories()[c];
    for (const auto& part : {rest.substr(0, rest.find(" > ")), rest.substr(rest.find(" > ") + 3)}) {
      folder /= part;
    }
    fs::create_directories(folder);
    for (int i = 0; i < perCategory; ++i) {
      const cv::Mat& picture = pictures[static_cast<std::size_t>(i)];
      char name[16];
      std::snprintf(name, sizeof name, "%03d.png", i);
      writeFile(folder / name, encode(picture, ".png"));
    }
  }
  project::Catalog catalog(project, /*create=*/true);
  project::ImportSettings settings;
  settings.sources = {source};
  settings.validationFraction = 0.25;
  settings.threads = 2;
  project::importImages(catalog, settings);
  if (records) {
    records::RecordBuildSettings build;
    build.project = project;
    build.trainShards = 1;
    build.validationShards = 1;
    build.numThreads = 2;
    project::buildRecords(build);
  }
}

// Adds `perClass` more real pictures of each of the four classes (after the ones
// makeUiTestProject takes) as PROJECT/unlabeled/NNN.png, interleaved, and imports them as
// unlabeled images. Returns the Fashion-MNIST class of each, in file order.
inline std::vector<int> addUnlabeledPictures(const std::filesystem::path& project, int perClass,
                                             int skip = 12) {
  std::vector<std::vector<cv::Mat>> byClass;
  for (const int label : kUiTestFashionClasses) {
    auto pictures = fashionMnistPictures(label, skip + perClass);
    byClass.emplace_back(pictures.begin() + skip, pictures.end());
  }
  std::vector<int> classes;
  const std::filesystem::path folder = project / "unlabeled";
  for (int i = 0; i < perClass; ++i) {
    for (std::size_t c = 0; c < byClass.size(); ++c) {
      char name[16];
      std::snprintf(name, sizeof name, "%03zu.png", classes.size());
      writeFile(folder / name, encode(byClass[c][static_cast<std::size_t>(i)], ".png"));
      classes.push_back(kUiTestFashionClasses[c]);
    }
  }
  project::Catalog catalog(project, /*create=*/false);
  project::ImportSettings settings;
  settings.unlabeled = {folder};
  settings.validationFraction = 0.25;
  settings.threads = 2;
  project::importImages(catalog, settings);
  return classes;
}

}  // namespace taxon::test
