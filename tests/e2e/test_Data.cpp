// `taxon import` and `taxon build-records` as a user runs them, on real image files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "RunCommand.hpp"
#include "TestFiles.hpp"
#include "core/Text.hpp"
#include "data/ImageExample.hpp"
#include "data/RecordFile.hpp"

namespace taxon::test {
namespace {

namespace fs = std::filesystem;

void makeSeedFolders(const fs::path& root, int perCategory) {
  const char* categories[] = {"Women/Shoes/Sneakers", "Men/Shoes/Sneakers", "婦人/靴"};
  std::uint32_t seed = 1;
  for (const char* category : categories) {
    for (int i = 0; i < perCategory; ++i) {
      writeFile(root / category / ("photo " + std::to_string(i) + ".jpg"),
                makeJpeg(60 + i, 40 + i, seed++));
    }
  }
}

std::vector<data::ImageExample> readShards(const fs::path& dir, const std::string& split) {
  std::vector<data::ImageExample> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().starts_with(split + "-")) {
      data::RecordReader reader(entry.path());
      std::string payload;
      while (reader.next(payload)) {
        out.push_back(data::decodeExample(payload));
      }
    }
  }
  return out;
}

TEST(DataCli, BuildRecordsTakesTheSeedsFlagsWithNestedFolders) {
  TempDir dir;
  makeSeedFolders(dir / "train", 6);
  makeSeedFolders(dir / "validation", 2);
  writeFile(dir / "train" / "Men" / "Shoes" / "Sneakers" / "broken.jpg", "not a jpeg");
  const auto r = taxon({"build-records", "--train_directory", (dir / "train").string(),
                        "--validation_directory=" + (dir / "validation").string(),
                        "--output_directory", (dir / "out").string(), "--train_shards", "2",
                        "--validation_shards", "1", "--num_threads", "2"});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.err.find("broken.jpg: not an image"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(dir / "out" / "train-00000-of-00002"));
  EXPECT_TRUE(fs::exists(dir / "out" / "train-00001-of-00002"));
  EXPECT_TRUE(fs::exists(dir / "out" / "validation-00000-of-00001"));
  EXPECT_EQ(readFile(dir / "out" / "labels.txt"),
            "Men > Shoes > Sneakers\nWomen > Shoes > Sneakers\n婦人 > 靴\n");
  const auto train = readShards(dir / "out", "train");
  ASSERT_EQ(train.size(), 18u);
  for (const auto& e : train) {
    ASSERT_GE(e.label, 1);
    ASSERT_LE(e.label, 3);
    const char* names[] = {"Men > Shoes > Sneakers", "Women > Shoes > Sneakers", "婦人 > 靴"};
    EXPECT_EQ(e.text, names[e.label - 1]);
    EXPECT_EQ(e.format, "JPEG");
    EXPECT_GE(e.width, 60);
  }
  // Original JPEG bytes are stored as they are.
  const auto original = readFile(dir / "train" / "婦人" / "靴" / "photo 0.jpg");
  bool found = false;
  for (const auto& e : train) {
    found = found || e.encoded == original;
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(readShards(dir / "out", "validation").size(), 6u);
}

TEST(DataCli, LabelsFileChoosesAndOrdersTheCategories) {
  TempDir dir;
  makeSeedFolders(dir / "train", 2);
  writeFile(dir / "labels.txt", "Women/Shoes/Sneakers\n婦人 > 靴\n");
  const auto r = taxon({"build-records", "--train_directory", (dir / "train").string(),
                        "--output_directory", (dir / "out").string(), "--labels_file",
                        (dir / "labels.txt").string(), "--train_shards", "1"});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.err.find("is not in the labels file"), std::string::npos) << r.err;
  const auto train = readShards(dir / "out", "train");
  ASSERT_EQ(train.size(), 4u);
  for (const auto& e : train) {
    EXPECT_EQ(e.text, e.label == 1 ? "Women > Shoes > Sneakers" : "婦人 > 靴");
  }
}

TEST(DataCli, ImportThenBuildRecordsFromTheProject) {
  TempDir dir;
  makeSeedFolders(dir / "photos", 10);
  writeFile(dir / "photos" / "Men" / "empty.jpg", "");
  const auto project = (dir / "プロジェクト").string();
  const auto imported = taxon({"import", project, (dir / "photos").string(), "--seed=3"});
  EXPECT_EQ(imported.exitCode, 0) << imported.err;
  EXPECT_NE(imported.out.find("Imported 30 new images"), std::string::npos) << imported.out;
  EXPECT_NE(imported.out.find("3 categories; 27 train, 3 validation, 0 test"), std::string::npos)
      << imported.out;
  EXPECT_NE(imported.err.find("empty.jpg: empty file (0 bytes)"), std::string::npos)
      << imported.err;

  const auto built = taxon({"build-records", project, "--train_shards=3", "--max_side=32"});
  EXPECT_EQ(built.exitCode, 0) << built.err;
  const auto train = readShards(fs::path(project) / "records", "train");
  ASSERT_EQ(train.size(), 27u);
  for (const auto& e : train) {
    EXPECT_LE(std::max(e.width, e.height), 32) << "--max_side re-encodes larger images";
  }
  EXPECT_EQ(readShards(fs::path(project) / "records", "validation").size(), 3u);
  EXPECT_TRUE(fs::exists(fs::path(project) / "records" / "manifest.json"));

  // Rebuilding with fewer shards removes the stale ones.
  EXPECT_EQ(taxon({"build-records", project, "--train_shards=1"}).exitCode, 0);
  EXPECT_FALSE(fs::exists(fs::path(project) / "records" / "train-00002-of-00003"));
  EXPECT_EQ(readShards(fs::path(project) / "records", "train").size(), 27u);
}

TEST(DataCli, ErrorsNameTheProblem) {
  const auto noInput = taxon({"build-records", "--output_directory", "/tmp/x"});
  EXPECT_EQ(noInput.exitCode, 2);
  EXPECT_NE(noInput.err.find("--train_directory"), std::string::npos) << noInput.err;
  const auto missing = taxon({"import", "/tmp/taxon-e2e-missing-project", "/nonexistent/photos"});
  EXPECT_EQ(missing.exitCode, 1);
  EXPECT_NE(missing.err.find("/nonexistent/photos: does not exist"), std::string::npos)
      << missing.err;
}

}  // namespace
}  // namespace taxon::test

namespace taxon::test {
namespace {

TEST(DataCli, InfoDescribesAProjectAndVerifiesShards) {
  TempDir dir;
  makeSeedFolders(dir / "photos", 4);
  const auto project = (dir / "p").string();
  ASSERT_EQ(taxon({"import", project, (dir / "photos").string()}).exitCode, 0);
  const auto described = taxon({"info", project});
  EXPECT_EQ(described.exitCode, 0) << described.err;
  EXPECT_NE(described.out.find("婦人 > 靴"), std::string::npos) << described.out;
  EXPECT_NE(described.out.find("3 categories, 12 images"), std::string::npos) << described.out;
  // The table is aligned by display width (the wide characters of "婦人 > 靴" take two columns
  // each): from the header to "all", every row is as wide as the header.
  std::istringstream lines(described.out);
  std::string line;
  std::size_t headerWidth = 0;
  int rows = 0;
  while (std::getline(lines, line)) {
    if (line.starts_with("  category")) {
      headerWidth = core::displayWidth(line);
    } else if (headerWidth > 0 && line.starts_with("  ")) {
      EXPECT_EQ(core::displayWidth(line), headerWidth) << line;
      ++rows;
    }
  }
  EXPECT_EQ(rows, 4);  // 3 categories and "all"

  ASSERT_EQ(taxon({"build-records", project, "--train_shards=1"}).exitCode, 0);
  const auto records = fs::path(project) / "records";
  const auto good = taxon({"info", records.string()});
  EXPECT_EQ(good.exitCode, 0) << good.err;
  EXPECT_NE(good.out.find("0 damaged"), std::string::npos) << good.out;

  // Flip one byte inside the first record's payload.
  const auto shard = records / "train-00000-of-00001";
  std::string bytes = readFile(shard);
  bytes[40] = static_cast<char>(bytes[40] ^ 0x20);
  writeFile(shard, bytes);
  const auto strict = taxon({"info", shard.string()});
  EXPECT_EQ(strict.exitCode, 1);
  EXPECT_NE(strict.err.find("train-00000-of-00001: byte 0: record payload checksum mismatch"),
            std::string::npos)
      << strict.err;
  const auto lenient = taxon({"info", records.string(), "--skip_corrupt"});
  EXPECT_EQ(lenient.exitCode, 1) << "damage is still reported in the exit code";
  EXPECT_NE(lenient.out.find("1 damaged"), std::string::npos) << lenient.out;
}

}  // namespace
}  // namespace taxon::test
