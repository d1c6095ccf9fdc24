// Small real data sets for the training tests: PNG images in TFRecord shards, as build-records
// writes them (the seed's layout: shards and labels.txt, no manifest).
#pragma once

#include <filesystem>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "TestFiles.hpp"
#include "data/ImageExample.hpp"
#include "data/RecordFile.hpp"
#include "train/TrainSettings.hpp"

namespace taxon::test {

inline const std::vector<std::string>& fourCategories() {
  static const std::vector<std::string> names = {
      "Men > Shoes > Sneakers", "Women > Shoes > Sneakers", "Women > Bags", "Other"};
  return names;
}

// Image i of category i % 4: a picture with a large block of its category's colour, so that the
// categories can be learned and every image still differs.
inline std::string categoryPng(int i) {
  cv::Mat picture = makePicture(64, 64, static_cast<std::uint32_t>(i + 1));
  static const cv::Scalar colours[] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255}};
  cv::rectangle(picture, {8, 8}, {56, 56}, colours[i % 4], -1);
  return encode(picture, ".png");
}

// DIR/train-00000-of-00001 and DIR/validation-00000-of-00001 (the same `count` images), and
// DIR/labels.txt.
inline void writeRecordSet(const std::filesystem::path& dir, int count) {
  std::filesystem::create_directories(dir);
  for (const std::string split : {"train", "validation"}) {
    data::RecordWriter writer(dir / (split + "-00000-of-00001"));
    for (int i = 0; i < count; ++i) {
      data::ImageExample example;
      example.encoded = categoryPng(i);
      example.filename = "img-" + std::to_string(i) + ".png";
      example.label = i % 4 + 1;
      example.text = fourCategories()[static_cast<std::size_t>(i % 4)];
      example.width = 64;
      example.height = 64;
      writer.write(data::encodeExample(example));
    }
    writer.close();
  }
  std::string labels;
  for (const auto& name : fourCategories()) {
    labels += name + "\n";
  }
  writeFile(dir / "labels.txt", labels);
}

// A network and recipe small enough for tests: 16 channels everywhere, 75 x 75 inputs, batch 8.
inline train::TrainSettings tinyRun(const std::filesystem::path& trainDir,
                                    const std::filesystem::path& dataDir) {
  train::TrainSettings s;
  s.trainDir = trainDir;
  s.dataDir = dataDir;
  s.imageSize = 75;
  s.depthMultiplier = 0.1;
  s.batchSize = 8;
  s.learningRate = 0.01;
  s.maxSteps = 12;
  s.loaderThreads = 2;
  s.torchThreads = 2;
  s.shuffleBuffer = 16;
  s.logEverySteps = 1;
  s.saveEverySteps = 1000;
  s.keepCheckpoints = 20;
  s.evalAtEnd = false;
  s.batchNormDecay = 0.9;
  s.emaDecay = 0.9;
  return s;
}

}  // namespace taxon::test
