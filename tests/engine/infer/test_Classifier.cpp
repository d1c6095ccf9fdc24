// Classifying image files with a real checkpoint: ranked categories with the model's own softmax
// scores, and a file that cannot be classified named without stopping the others.
#include "infer/Classifier.hpp"

#include <gtest/gtest.h>

#include "../eval/TinyModel.hpp"
#include "core/Error.hpp"

namespace taxon::infer {
namespace {

namespace fs = std::filesystem;

TEST(Classifier, RanksCategoriesWithTheModelsScores) {
  test::TempDir dir;
  test::writeRecordSet(dir / "records", 6);
  test::writeRandomCheckpoint(dir / "run", dir / "records", 42, "train");
  // The images as files: PNGs from the records, and one JPEG.
  std::vector<std::string> encoded;
  std::vector<fs::path> files;
  for (const auto& example : test::readExamples(dir / "records" / "train-00000-of-00001")) {
    files.push_back(dir / "images" / example.filename);
    test::writeFile(files.back(), example.encoded);
    encoded.push_back(example.encoded);
  }
  encoded.push_back(test::makeJpeg(90, 60, 5));
  files.push_back(dir / "images" / "photo.jpg");
  test::writeFile(files.back(), encoded.back());
  const at::Tensor reference = test::referenceProbabilities(dir / "run", encoded);

  ClassifierSettings settings;
  settings.batchSize = 3;
  settings.decodeThreads = 2;
  Classifier classifier(dir / "run", settings);
  EXPECT_EQ(classifier.categories(), test::fourCategories());
  EXPECT_EQ(classifier.step(), 42);
  EXPECT_EQ(classifier.checkpoint(), dir / "run" / "model.ckpt-42.taxon");
  EXPECT_TRUE(classifier.warnings().empty());

  const auto results = classifier.classifyFiles(files, 4);
  ASSERT_EQ(results.size(), files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto& result = results[i];
    EXPECT_EQ(result.path, files[i]);
    EXPECT_TRUE(result.error.empty()) << result.error;
    ASSERT_EQ(result.top.size(), 4u);
    double sum = 0;
    for (std::size_t r = 0; r < 4; ++r) {
      const auto& ranked = result.top[r];
      sum += ranked.score;
      if (r > 0) {
        EXPECT_GE(result.top[r - 1].score, ranked.score);
      }
      EXPECT_EQ(ranked.name, test::fourCategories()[static_cast<std::size_t>(ranked.index)]);
      EXPECT_NEAR(ranked.score,
                  reference[static_cast<std::int64_t>(i)][ranked.index].item<double>(), 1e-4);
    }
    EXPECT_NEAR(sum, 1.0, 1e-4);
    EXPECT_EQ(result.top[0].index,
              reference[static_cast<std::int64_t>(i)].argmax().item<int64_t>());
  }

  // Fewer asked: the best ones; more asked than there are categories: all of them.
  const auto top2 = classifier.classifyFiles({files[1]}, 2);
  ASSERT_EQ(top2[0].top.size(), 2u);
  EXPECT_EQ(top2[0].top[0].index, results[1].top[0].index);
  EXPECT_EQ(top2[0].top[1].index, results[1].top[1].index);
  EXPECT_EQ(classifier.classifyFiles({files[1]}, 10)[0].top.size(), 4u);

  // From memory, the same answer as from the file.
  const auto fromBytes = classifier.classifyBytes(encoded[2], "dropped.png", 4);
  EXPECT_TRUE(fromBytes.error.empty());
  ASSERT_EQ(fromBytes.top.size(), 4u);
  for (std::size_t r = 0; r < 4; ++r) {
    EXPECT_EQ(fromBytes.top[r].index, results[2].top[r].index);
    EXPECT_NEAR(fromBytes.top[r].score, results[2].top[r].score, 1e-5);
  }
}

TEST(Classifier, AFileThatCannotBeClassifiedIsNamedAndTheOthersStillAre) {
  test::TempDir dir;
  test::writeRecordSet(dir / "records", 4);
  test::writeRandomCheckpoint(dir / "run", dir / "records", 7, "train");
  const fs::path good = dir / "good.jpg";
  test::writeFile(good, test::makeJpeg(80, 80, 3));
  const fs::path corrupt = dir / "corrupt.jpg";
  const std::string jpeg = test::makeJpeg(80, 80, 4);
  test::writeFile(corrupt, std::string(jpeg.size(), 'x'));
  const fs::path missing = dir / "missing.jpg";
  const fs::path empty = dir / "empty.png";
  test::writeFile(empty, "");

  Classifier classifier(dir / "run");
  const auto results = classifier.classifyFiles({corrupt, good, missing, empty}, 3);
  ASSERT_EQ(results.size(), 4u);
  for (std::size_t i : {0u, 2u, 3u}) {
    EXPECT_TRUE(results[i].top.empty()) << results[i].path;
    EXPECT_NE(results[i].error.find(results[i].path.string()), std::string::npos)
        << results[i].error;
  }
  EXPECT_TRUE(results[1].error.empty()) << results[1].error;
  EXPECT_EQ(results[1].top.size(), 3u);

  const auto fromBytes = classifier.classifyBytes("not an image", "pasted.jpg", 3);
  EXPECT_TRUE(fromBytes.top.empty());
  EXPECT_NE(fromBytes.error.find("pasted.jpg"), std::string::npos) << fromBytes.error;
}

TEST(Classifier, NoCheckpointIsAnErrorNamingTheFolder) {
  test::TempDir dir;
  try {
    Classifier classifier(dir.path());
    FAIL() << "an empty folder holds no checkpoint";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir.path().string()), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace taxon::infer
