// build-records on real images: the seed's category folders and a project's catalog become shards
// whose records, labels and manifest agree, reproducibly.
#include "records/RecordBuilder.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stop_token>
#include <tuple>

#include "TestFiles.hpp"
#include "core/Error.hpp"
#include "core/Progress.hpp"
#include "image/ImageCheck.hpp"
#include "project/Catalog.hpp"
#include "project/ProjectRecords.hpp"
#include "records/ImageExample.hpp"
#include "records/RecordFile.hpp"
#include "records/RecordSet.hpp"

namespace taxon::records {
namespace {

namespace fs = std::filesystem;

// Every Example in the shards of `split` under `dir`, in shard order.
std::vector<ImageExample> readSplit(const fs::path& dir, const std::string& split) {
  std::vector<ImageExample> out;
  for (const auto& shard : listShards(dir, split + "-")) {
    RecordReader reader(shard);
    std::string payload;
    while (reader.next(payload)) {
      out.push_back(decodeExample(payload));
    }
  }
  return out;
}

std::vector<std::string> fileLines(const fs::path& path) {
  std::vector<std::string> lines;
  std::istringstream in(test::readFile(path));
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

// ROOT/train/{Cats,Dogs/Small}/ and ROOT/validation/...: JPEGs, one PNG among the train cats.
void writeFolders(const fs::path& root) {
  for (int i = 0; i < 5; ++i) {
    test::writeFile(root / "train" / "Cats" / ("c" + std::to_string(i) + ".jpg"),
                    test::makeJpeg(24, 20, static_cast<std::uint32_t>(i)));
    test::writeFile(root / "train" / "Dogs" / "Small" / ("d" + std::to_string(i) + ".jpg"),
                    test::makeJpeg(20, 24, static_cast<std::uint32_t>(10 + i)));
  }
  test::writeFile(root / "train" / "Cats" / "picture.png", test::makePng(30, 16, 99));
  for (int i = 0; i < 2; ++i) {
    test::writeFile(root / "validation" / "Cats" / ("v" + std::to_string(i) + ".jpg"),
                    test::makeJpeg(24, 20, static_cast<std::uint32_t>(20 + i)));
    test::writeFile(root / "validation" / "Dogs" / "Small" / ("w" + std::to_string(i) + ".jpg"),
                    test::makeJpeg(24, 20, static_cast<std::uint32_t>(30 + i)));
  }
}

RecordBuildSettings folderSettings(const fs::path& root) {
  RecordBuildSettings s;
  s.trainDirectory = root / "train";
  s.validationDirectory = root / "validation";
  s.outputDirectory = root / "out";
  s.trainShards = 3;
  s.validationShards = 1;
  return s;
}

TEST(RecordBuilder, FoldersBecomeShardsLabelsAndAManifestThatAgree) {
  test::TempDir dir;
  writeFolders(dir.path());
  const RecordBuildSettings settings = folderSettings(dir.path());
  const RecordBuildReport report = buildRecordsFromFolders(settings);
  const fs::path out = settings.outputDirectory;

  EXPECT_EQ(report.labels, (std::vector<std::string>{"Cats", "Dogs > Small"}));
  EXPECT_EQ(fileLines(out / "labels.txt"), report.labels);
  EXPECT_TRUE(report.skipped.empty());
  EXPECT_EQ(report.reencoded, 1);  // the PNG
  ASSERT_EQ(report.splits.size(), 2u);
  EXPECT_EQ(report.splits[0].name, "train");
  EXPECT_EQ(report.splits[0].records, 11);
  ASSERT_EQ(report.splits[0].shards.size(), 3u);
  EXPECT_EQ(report.splits[0].shards[2].file, "train-00002-of-00003");
  EXPECT_EQ(report.splits[1].records, 4);

  const auto manifest = nlohmann::json::parse(test::readFile(out / "manifest.json"));
  EXPECT_EQ(manifest["num_classes"], 2);
  EXPECT_EQ(manifest["label_offset"], 1);
  EXPECT_EQ(manifest["splits"]["train"]["records"], 11);
  EXPECT_EQ(manifest["splits"]["validation"]["records"], 4);
  std::int64_t bytes = 0;
  for (const auto& shard : manifest["splits"]["train"]["shards"]) {
    const fs::path file = out / shard["file"].get<std::string>();
    EXPECT_EQ(countRecords(file), shard["records"].get<std::int64_t>()) << file;
    EXPECT_EQ(static_cast<std::int64_t>(fs::file_size(file)), shard["bytes"].get<std::int64_t>());
    bytes += shard["bytes"].get<std::int64_t>();
  }
  EXPECT_GT(bytes, 0);

  // What training reads: the set as RecordSet opens it.
  const RecordSet set = openRecordSet(out);
  EXPECT_EQ(set.categories, report.labels);
  EXPECT_EQ(set.count("train"), 11);
  EXPECT_EQ(set.count("validation"), 4);

  // Every image is there once, with its category's label and text, as a JPEG of its own size.
  const auto train = readSplit(out, "train");
  ASSERT_EQ(train.size(), 11u);
  std::map<std::string, ImageExample> byName;
  for (const auto& example : train) {
    byName[example.filename] = example;
  }
  ASSERT_EQ(byName.size(), 11u);
  EXPECT_EQ(byName.at("c3.jpg").label, 1);
  EXPECT_EQ(byName.at("c3.jpg").text, "Cats");
  EXPECT_EQ(byName.at("d2.jpg").label, 2);
  EXPECT_EQ(byName.at("d2.jpg").text, "Dogs > Small");
  // Original JPEG bytes are kept as they are.
  EXPECT_EQ(byName.at("c3.jpg").encoded, test::readFile(dir / "train" / "Cats" / "c3.jpg"));
  EXPECT_EQ(byName.at("d2.jpg").width, 20);
  EXPECT_EQ(byName.at("d2.jpg").height, 24);
  // The PNG is stored re-encoded as a JPEG of the same size.
  const ImageExample& png = byName.at("picture.png");
  EXPECT_EQ(png.format, "JPEG");
  const auto header = image::readImageHeader(png.encoded);
  ASSERT_TRUE(header);
  EXPECT_EQ(header->format, "JPEG");
  EXPECT_EQ(header->width, 30);
  EXPECT_EQ(header->height, 16);
  EXPECT_EQ(png.width, 30);
  EXPECT_EQ(png.height, 16);
}

TEST(RecordBuilder, ABrokenImageIsSkippedAndListedTheRestWritten) {
  test::TempDir dir;
  writeFolders(dir.path());
  const fs::path broken = dir / "train" / "Cats" / "broken.jpg";
  const std::string jpeg = test::makeJpeg(24, 20, 77);
  test::writeFile(broken, std::string_view(jpeg).substr(0, jpeg.size() / 3));
  const RecordBuildReport report = buildRecordsFromFolders(folderSettings(dir.path()));
  ASSERT_EQ(report.skipped.size(), 1u);
  EXPECT_EQ(report.skipped[0].path, broken.string());
  EXPECT_FALSE(report.skipped[0].reason.empty());
  EXPECT_EQ(report.splits[0].records, 11);
  EXPECT_EQ(countRecords(dir / "out" / "train-00000-of-00003") +
                countRecords(dir / "out" / "train-00001-of-00003") +
                countRecords(dir / "out" / "train-00002-of-00003"),
            11);
}

TEST(RecordBuilder, AFewerShardBuildRemovesTheEarlierBuildsShards) {
  test::TempDir dir;
  writeFolders(dir.path());
  RecordBuildSettings settings = folderSettings(dir.path());
  settings.trainShards = 4;
  buildRecordsFromFolders(settings);
  ASSERT_TRUE(fs::exists(dir / "out" / "train-00003-of-00004"));
  test::writeFile(dir / "out" / "notes.txt", "mine");
  settings.trainShards = 2;
  buildRecordsFromFolders(settings);
  const auto shards = listShards(dir / "out", "train-");
  ASSERT_EQ(shards.size(), 2u);
  EXPECT_EQ(shards[0].filename(), "train-00000-of-00002");
  EXPECT_EQ(shards[1].filename(), "train-00001-of-00002");
  EXPECT_TRUE(fs::exists(dir / "out" / "notes.txt"));  // not a shard: left alone
  EXPECT_EQ(openRecordSet(dir / "out").count("train"), 11);
}

// A build that stops after it replaced a shard leaves a folder of two builds (whose shards may
// number the labels differently): it is marked, refused by training and evaluation, and the next
// build clears it. One that stops before its first shard is done leaves the earlier set usable.
TEST(RecordBuilder, ABuildStoppedHalfWayMarksTheFolderIncompleteUntilTheNextBuild) {
  test::TempDir dir;
  writeFolders(dir.path());
  RecordBuildSettings settings = folderSettings(dir.path());
  settings.numThreads = 1;
  buildRecordsFromFolders(settings);
  ASSERT_EQ(openRecordSet(dir / "out").count("train"), 11);
  const auto marker = dir / "out" / kIncompleteMarker;
  EXPECT_FALSE(fs::exists(marker));

  // Stopped within the first shard (4 of 11 images per 3 shards: the first holds 3).
  const auto stoppedAfter = [&](std::int64_t images) {
    std::stop_source stop;
    const auto report = buildRecordsFromFolders(
        settings,
        [&](const core::Progress& p) {
          if (p.done >= images) {
            stop.request_stop();
          }
        },
        stop.get_token());
    EXPECT_TRUE(report.cancelled);
  };
  stoppedAfter(2);
  EXPECT_FALSE(fs::exists(marker)) << "no shard was replaced";
  EXPECT_EQ(openRecordSet(dir / "out").count("train"), 11);

  stoppedAfter(6);  // the first shard replaced, the second not
  ASSERT_TRUE(fs::exists(marker));
  try {
    openRecordSet(dir / "out");
    ADD_FAILURE() << "an incomplete folder was opened";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find(kIncompleteMarker), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("run build-records again"), std::string::npos) << e.what();
  }
  buildRecordsFromFolders(settings);
  EXPECT_FALSE(fs::exists(marker));
  EXPECT_EQ(openRecordSet(dir / "out").count("train"), 11);
}

TEST(RecordBuilder, ALabelsFileNamesTheOrderAndACategoryWithoutImagesIsRefused) {
  test::TempDir dir;
  writeFolders(dir.path());
  RecordBuildSettings settings = folderSettings(dir.path());
  settings.labelsFile = dir / "labels.txt";
  // The seed's labels file names folders with slashes; its order gives the labels.
  test::writeFile(settings.labelsFile, "Dogs/Small\nCats\n");
  const RecordPlan plan = planFromFolders(settings);
  EXPECT_EQ(plan.labels, (std::vector<std::string>{"Dogs > Small", "Cats"}));
  const auto report = writeRecords(plan, settings);
  for (const auto& example : readSplit(settings.outputDirectory, "validation")) {
    EXPECT_EQ(example.label, example.filename[0] == 'w' ? 1 : 2) << example.filename;
  }

  test::writeFile(settings.labelsFile, "Cats\nDogs/Small\nBirds\n");
  try {
    planFromFolders(settings);
    FAIL() << "Birds has no images";
  } catch (const core::Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(settings.labelsFile.string()), std::string::npos) << message;
    EXPECT_NE(message.find("\"Birds\""), std::string::npos) << message;
  }
  // A folder the labels file does not name is skipped, naming its images.
  test::writeFile(settings.labelsFile, "Cats\n");
  const RecordPlan catsOnly = planFromFolders(settings);
  EXPECT_EQ(catsOnly.skipped.size(), 7u);  // 5 train and 2 validation dogs
}

// The records of split `split` under `dir` as (file name, label, encoded image), in file order.
std::vector<std::tuple<std::string, std::int64_t, std::string>> recordOrder(
    const fs::path& dir, const std::string& split) {
  std::vector<std::tuple<std::string, std::int64_t, std::string>> out;
  for (const auto& example : readSplit(dir, split)) {
    out.emplace_back(example.filename, example.label, example.encoded);
  }
  return out;
}

TEST(RecordBuilder, TheSameSeedWritesTheSameRecordsAnotherSeedAnotherOrder) {
  test::TempDir dir;
  writeFolders(dir.path());
  RecordBuildSettings settings = folderSettings(dir.path());
  settings.numThreads = 3;
  buildRecordsFromFolders(settings);
  settings.outputDirectory = dir / "again";
  buildRecordsFromFolders(settings);
  settings.outputDirectory = dir / "other";
  settings.seed = 777;
  buildRecordsFromFolders(settings);
  for (int shard = 0; shard < 3; ++shard) {
    const std::string name = shardName("train", shard, 3);
    EXPECT_EQ(countRecords(dir / "out" / name), countRecords(dir / "again" / name)) << name;
  }
  const auto order = recordOrder(dir / "out", "train");
  EXPECT_EQ(order, recordOrder(dir / "again", "train"));
  const auto other = recordOrder(dir / "other", "train");
  EXPECT_NE(order, other);
  EXPECT_EQ(std::set(order.begin(), order.end()), std::set(other.begin(), other.end()));
  EXPECT_EQ(test::readFile(dir / "out" / "manifest.json"),
            test::readFile(dir / "again" / "manifest.json"));
}

TEST(RecordBuilder, AProjectsCategoriesWithoutImagesAreLeftOut) {
  test::TempDir dir;
  const fs::path projectDir = dir / "project";
  {
    project::Catalog catalog(projectDir, /*create=*/true);
    std::vector<project::NewImage> images;
    const std::pair<const char*, project::Split> splits[] = {
        {"train", project::Split::Train}, {"validation", project::Split::Validation}};
    int seed = 0;
    for (const auto& [splitName, split] : splits) {
      for (const char* category : {"Shoes > Boots", "Bags"}) {
        for (int i = 0; i < 3; ++i) {
          const std::string bytes = test::makeJpeg(20, 20, static_cast<std::uint32_t>(++seed));
          const fs::path file = projectDir / "images" /
                                (std::string(splitName) + "-" + std::to_string(seed) + ".jpg");
          test::writeFile(file, bytes);
          images.push_back({file, image::contentHash(bytes), 20, 20, "JPEG",
                            static_cast<std::int64_t>(bytes.size()), category, split, "test"});
        }
      }
    }
    catalog.insertImages(images);
    catalog.createCategory("Hats");  // no images
  }
  RecordBuildSettings settings;
  settings.project = projectDir;
  settings.trainShards = 2;
  settings.validationShards = 1;
  const RecordBuildReport report = project::buildRecords(settings);
  EXPECT_EQ(report.labels, (std::vector<std::string>{"Bags", "Shoes > Boots"}));
  EXPECT_EQ(report.emptyCategories, (std::vector<std::string>{"Hats"}));
  const fs::path out = projectDir / "records";
  EXPECT_EQ(fileLines(out / "labels.txt"), report.labels);
  const RecordSet set = openRecordSet(out);
  EXPECT_EQ(set.count("train"), 6);
  EXPECT_EQ(set.count("validation"), 3 * 2);
  EXPECT_FALSE(set.splits.count("test"));  // no test images: no test split
  // A project's records name images by their catalog path, with the category's label.
  for (const auto& example : readSplit(out, "train")) {
    EXPECT_EQ(example.filename.rfind("images/train-", 0), 0u) << example.filename;
    EXPECT_EQ(report.labels[static_cast<std::size_t>(example.label - 1)], example.text);
  }
}

// Unlabeled images have a split but nothing to learn from: records leave them out, and the next
// records after one is labeled have it.
TEST(RecordBuilder, UnlabeledImagesJoinTheRecordsOnceLabeled) {
  test::TempDir dir;
  const fs::path projectDir = dir / "project";
  std::vector<std::int64_t> unlabeledIds;
  {
    project::Catalog catalog(projectDir, /*create=*/true);
    std::vector<project::NewImage> images;
    for (int i = 0; i < 10; ++i) {
      const std::string bytes = test::makeJpeg(20, 20, static_cast<std::uint32_t>(i + 1));
      const fs::path file = projectDir / "images" / (std::to_string(i) + ".jpg");
      test::writeFile(file, bytes);
      images.push_back({file, image::contentHash(bytes), 20, 20, "JPEG",
                        static_cast<std::int64_t>(bytes.size()), i < 4 ? "Bags" : "",
                        project::Split::Train, "test"});
    }
    catalog.insertImages(images);
    for (const auto& image : catalog.images(project::kUnlabeled)) {
      unlabeledIds.push_back(image.id);
    }
  }
  ASSERT_EQ(unlabeledIds.size(), 6u);
  RecordBuildSettings settings;
  settings.project = projectDir;
  settings.trainShards = 1;
  settings.validationShards = 1;
  const RecordBuildReport first = project::buildRecords(settings);
  EXPECT_EQ(first.labels, (std::vector<std::string>{"Bags"}));
  EXPECT_EQ(openRecordSet(projectDir / "records").count("train"), 4);
  {
    project::Catalog catalog(projectDir, /*create=*/false);
    catalog.relabelEach({{unlabeledIds[0], "Shoes"}, {unlabeledIds[1], "Bags"}});
  }
  const RecordBuildReport second = project::buildRecords(settings);
  EXPECT_EQ(second.labels, (std::vector<std::string>{"Bags", "Shoes"}));
  EXPECT_EQ(openRecordSet(projectDir / "records").count("train"), 6);
}

}  // namespace
}  // namespace taxon::records

namespace taxon::records {
namespace {

// build-records is byte-reproducible: tf.train.Example's features are a protobuf map, which
// protobuf serializes in a randomized order unless asked for determinism (encodeExample does).
// Without it two builds with the same seed write the same records, but not the same files.
TEST(RecordBuilder, TheSameSeedWritesTheSameBytes) {
  ImageExample example;
  example.encoded = test::makeJpeg(16, 16, 1);
  example.filename = "a.jpg";
  example.label = 2;
  example.text = "Dogs";
  example.width = 16;
  example.height = 16;
  const std::string first = encodeExample(example);
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(encodeExample(example), first) << "encoding " << i;
  }

  test::TempDir dir;
  writeFolders(dir.path());
  RecordBuildSettings settings = folderSettings(dir.path());
  buildRecordsFromFolders(settings);
  settings.outputDirectory = dir / "again";
  buildRecordsFromFolders(settings);
  for (int shard = 0; shard < 3; ++shard) {
    const std::string name = shardName("train", shard, 3);
    EXPECT_EQ(test::readFile(dir / "out" / name), test::readFile(dir / "again" / name)) << name;
  }
}

}  // namespace
}  // namespace taxon::records
