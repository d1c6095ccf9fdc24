// Small real data sets for the training tests: PNG images in TFRecord shards, as build-records
// writes them (the seed's layout: shards and labels.txt, no manifest).
#pragma once

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "TestFiles.hpp"
#include "records/ImageExample.hpp"
#include "records/RecordFile.hpp"
#include "settings/TrainSettings.hpp"

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

// DIR/labels.txt with the four categories.
inline void writeFourLabels(const std::filesystem::path& dir) {
  std::string labels;
  for (const auto& name : fourCategories()) {
    labels += name + "\n";
  }
  writeFile(dir / "labels.txt", labels);
}

// DIR/SPLIT-00000-of-00001 with `count` 64 x 64 PNGs: image i is picture(i) with label label(i)
// (1-based; category i % 4 + 1 by default).
inline void writeShard(const std::filesystem::path& dir, const std::string& split, int count,
                       const std::function<std::string(int)>& picture = categoryPng,
                       const std::function<std::int64_t(int)>& label = {}) {
  std::filesystem::create_directories(dir);
  records::RecordWriter writer(dir / (split + "-00000-of-00001"));
  for (int i = 0; i < count; ++i) {
    records::ImageExample example;
    example.encoded = picture(i);
    example.filename = "img-" + std::to_string(i) + ".png";
    example.label = label ? label(i) : i % 4 + 1;
    example.text = fourCategories()[static_cast<std::size_t>(i % 4)];
    example.width = 64;
    example.height = 64;
    writer.write(records::encodeExample(example));
  }
  writer.close();
}

// DIR/train-00000-of-00001 and DIR/validation-00000-of-00001 (the same `count` images), and
// DIR/labels.txt.
inline void writeRecordSet(const std::filesystem::path& dir, int count) {
  for (const std::string split : {"train", "validation"}) {
    writeShard(dir, split, count);
  }
  writeFourLabels(dir);
}

// DIR/train-00000-of-00001 and DIR/validation-00000-of-00001 (the same `count` noisy pictures
// tinted by their category), and DIR/labels.txt. Every channel of every layer varies within a
// batch, so batch norm is well conditioned and two runs differ only by float rounding. Flat
// pictures (categoryPng) leave channels with almost no variance, where batch norm amplifies
// rounding without bound: one step's gradients then differ by up to 20 % between two correct
// float computations (oneDNN's AVX2 and AVX-512 kernels, or one replica and two).
inline void writeNoisyRecords(const std::filesystem::path& dir, int count) {
  for (const std::string split : {"train", "validation"}) {
    cv::RNG rng(7);
    writeShard(dir, split, count, [&](int i) {
      cv::Mat picture(64, 64, CV_8UC3);
      rng.fill(picture, cv::RNG::UNIFORM, 0, 160);
      static const cv::Scalar tints[] = {{90, 0, 0}, {0, 90, 0}, {0, 0, 90}, {60, 60, 60}};
      picture += tints[i % 4];
      return encode(picture, ".png");
    });
  }
  writeFourLabels(dir);
}

// The figure `key` ("cross_entropy", "learning_rate", ...) of every step in
// TRAIN_DIR/metrics.jsonl.
inline std::vector<double> loggedStepFigures(const std::filesystem::path& trainDir,
                                             const std::string& key) {
  std::ifstream in(trainDir / "metrics.jsonl");
  std::vector<double> out;
  std::string line;
  while (std::getline(in, line)) {
    const auto json = nlohmann::json::parse(line);
    if (json.contains("loss")) {
      out.push_back(json[key].get<double>());
    }
  }
  return out;
}

// The main head's cross-entropy of every step in TRAIN_DIR/metrics.jsonl.
inline std::vector<double> loggedCrossEntropies(const std::filesystem::path& trainDir) {
  return loggedStepFigures(trainDir, "cross_entropy");
}

// A network and recipe small enough for tests: 16 channels everywhere, 75 x 75 inputs, batch 8.
inline settings::TrainSettings tinyRun(const std::filesystem::path& trainDir,
                                       const std::filesystem::path& dataDir) {
  settings::TrainSettings s;
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

// `taxon train` arguments for the tiny network of tinyRun on DIR's records.
inline std::vector<std::string> tinyTrainArgs(const std::filesystem::path& trainDir,
                                              const std::filesystem::path& dataDir, int maxSteps) {
  return {"train",
          "--train_dir",
          trainDir.string(),
          "--data_dir",
          dataDir.string(),
          "--image_size",
          "75",
          "--depth_multiplier",
          "0.1",
          "--batch_size",
          "8",
          "--max_steps",
          std::to_string(maxSteps),
          "--log_every_n_steps",
          "2",
          "--num_threads",
          "2",
          "--num_preprocess_threads",
          "2",
          "--shuffle_buffer",
          "16"};
}

// Replaces the value of FLAG in ARGS (or adds the flag): one place per flag.
inline void setFlag(std::vector<std::string>& args, const std::string& flag,
                    const std::string& value) {
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == flag) {
      args[i + 1] = value;
      return;
    }
  }
  args.push_back(flag);
  args.push_back(value);
}

}  // namespace taxon::test
