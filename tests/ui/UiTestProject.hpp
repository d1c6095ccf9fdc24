// A real tiny project for the UI tests: real PNG files in category folders (two levels), imported
// into a real catalog with the engine's importer, and optionally its TFRecord shards.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "TestFiles.hpp"
#include "data/Catalog.hpp"
#include "data/Importer.hpp"
#include "data/RecordBuilder.hpp"

namespace taxon::test {

inline const std::vector<std::string>& uiTestCategories() {
  static const std::vector<std::string> names = {"Bags > Bag", "Shoes > Sandal", "Shoes > Sneaker",
                                                 "Tops > Shirt"};
  return names;
}

// Makes PROJECT/source/<Level1>/<Level2>/NNN.png (`perCategory` each, 40 x 40 pictures whose
// colour depends on the category) and imports them into PROJECT. With `records`, also writes
// PROJECT/records (train, validation and test shards).
inline void makeUiTestProject(const std::filesystem::path& project, int perCategory = 12,
                              bool records = false) {
  namespace fs = std::filesystem;
  const fs::path source = project / "source";
  int seed = 1;
  for (std::size_t c = 0; c < uiTestCategories().size(); ++c) {
    const auto levels = data::categorySegments(uiTestCategories()[c]);
    fs::path folder = source;
    std::string rest = uiTestCategories()[c];
    for (const auto& part : {rest.substr(0, rest.find(" > ")), rest.substr(rest.find(" > ") + 3)}) {
      folder /= part;
    }
    fs::create_directories(folder);
    for (int i = 0; i < perCategory; ++i) {
      cv::Mat picture = makePicture(40, 40, static_cast<std::uint32_t>(seed++));
      // A category colour so that a tiny model can learn something.
      picture += cv::Scalar(60.0 * static_cast<double>(c % 2), 60.0 * static_cast<double>(c / 2),
                            30.0 * static_cast<double>(c));
      char name[16];
      std::snprintf(name, sizeof name, "%03d.png", i);
      writeFile(folder / name, encode(picture, ".png"));
    }
  }
  data::Catalog catalog(project, /*create=*/true);
  data::ImportSettings settings;
  settings.sources = {source};
  settings.validationFraction = 0.25;
  settings.threads = 2;
  data::importImages(catalog, settings);
  if (records) {
    data::RecordBuildSettings build;
    build.project = project;
    build.trainShards = 1;
    build.validationShards = 1;
    build.numThreads = 2;
    data::buildRecords(build);
  }
}

}  // namespace taxon::test
