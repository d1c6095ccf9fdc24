#include "project/Importer.hpp"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>

#include "TestFiles.hpp"
#include "core/Error.hpp"
#include "core/Files.hpp"
#include "records/ImageExample.hpp"
#include "records/RecordFile.hpp"

namespace taxon::project {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

std::string reasonFor(const ImportReport& report, const std::string& pathPart) {
  for (const auto& issue : report.skipped) {
    if (issue.path.find(pathPart) != std::string::npos) {
      return issue.reason;
    }
  }
  return "(not reported)";
}

ImportSettings settingsFor(const fs::path& source) {
  ImportSettings settings;
  settings.sources = {source};
  settings.threads = 2;
  return settings;
}

TEST(Importer, NestedFoldersBecomeCategoryPaths) {
  TempDir dir;
  const auto data = dir / "photos";
  for (int i = 0; i < 4; ++i) {
    test::writeFile(data / "Women" / "Shoes" / "Sneakers" / ("w" + std::to_string(i) + ".jpg"),
                    test::makeJpeg(40, 30, 10 + i));
    test::writeFile(data / "Men" / "Shoes" / "Sneakers" / ("m" + std::to_string(i) + ".png"),
                    test::makePng(30, 40, 20 + i));
    test::writeFile(data / "婦人" / "靴 スニーカー" / ("写真 " + std::to_string(i) + ".jpg"),
                    test::makeJpeg(32, 32, 30 + i));
  }
  Catalog catalog(dir / "project", true);
  std::int64_t lastProgress = 0;
  const auto report = importImages(catalog, settingsFor(data), [&](const core::Progress& p) {
    lastProgress = std::max(lastProgress, p.done);
  });
  EXPECT_EQ(report.added, 12);
  EXPECT_TRUE(report.skipped.empty()) << report.skipped[0].path << ": " << report.skipped[0].reason;
  EXPECT_EQ(lastProgress, 12);
  std::vector<std::string> paths;
  for (const auto& c : catalog.categories()) {
    paths.push_back(c.path);
  }
  EXPECT_EQ(paths, (std::vector<std::string>{"Men > Shoes > Sneakers", "Women > Shoes > Sneakers",
                                             "婦人 > 靴 スニーカー"}));
  const auto image = catalog.imageByPath(data / "婦人" / "靴 スニーカー" / "写真 0.jpg");
  ASSERT_TRUE(image.has_value());
  EXPECT_EQ(image->width, 32);
  EXPECT_EQ(image->format, "JPEG");
}

TEST(Importer, SkipsAndExplainsBrokenFilesAndGoesOn) {
  TempDir dir;
  const auto data = dir / "photos";
  const std::string good = test::makeJpeg(48, 48, 1);
  test::writeFile(data / "A" / "good.jpg", good);
  test::writeFile(data / "A" / "copy of good.jpg", good);
  test::writeFile(data / "A" / "empty.jpg", "");
  test::writeFile(data / "A" / "notes.txt", "not an image at all");
  test::writeFile(data / "A" / "cut.jpg", good.substr(0, good.size() / 2));
  test::writeFile(data / "A" / "anim.gif", "GIF89a\x10\x00\x10\x00\x00\x00\x00;");
  std::string bomb = test::makePng(8, 8);
  const unsigned char big[8] = {0x00, 0x01, 0x86, 0xa0, 0x00, 0x01, 0x86, 0xa0};
  std::copy(big, big + 8, bomb.begin() + 16);
  test::writeFile(data / "A" / "bomb.png", bomb);
  test::writeFile(data / "loose.jpg", test::makeJpeg(20, 20, 3));
  ASSERT_EQ(::mkfifo((data / "A" / "pipe.jpg").c_str(), 0644), 0);
  fs::create_directory_symlink(data, data / "A" / "loop");  // a symbolic link loop
  fs::create_symlink(data / "nowhere.jpg", data / "A" / "dangling.jpg");

  Catalog catalog(dir / "project", true);
  const auto report = importImages(catalog, settingsFor(data));
  EXPECT_EQ(report.added, 2);
  EXPECT_EQ(reasonFor(report, "empty.jpg"), "empty file (0 bytes)");
  EXPECT_EQ(reasonFor(report, "notes.txt"), "not an image (unrecognized content)");
  EXPECT_NE(reasonFor(report, "cut.jpg").find("truncated"), std::string::npos);
  EXPECT_EQ(reasonFor(report, "anim.gif"), "unsupported image format GIF");
  EXPECT_NE(reasonFor(report, "bomb.png").find("too large"), std::string::npos);
  EXPECT_EQ(reasonFor(report, "loose.jpg"), "not inside a category folder");
  EXPECT_EQ(reasonFor(report, "pipe.jpg"), "not a regular file");
  EXPECT_NE(reasonFor(report, "loop").find("second time"), std::string::npos);
  EXPECT_EQ(reasonFor(report, "dangling.jpg"), "broken symbolic link");
  ASSERT_EQ(report.duplicates.size(), 1u);
  EXPECT_NE(report.duplicates[0].path.find("good.jpg"), std::string::npos);
  // The report is kept in the catalog for the app.
  EXPECT_EQ(catalog.importIssues().size(), report.skipped.size());
}

TEST(Importer, ImportingAgainReadsOnlyTheNewFiles) {
  TempDir dir;
  const auto data = dir / "photos";
  for (int i = 0; i < 3; ++i) {
    test::writeFile(data / "Women" / "Shoes" / ("w" + std::to_string(i) + ".jpg"),
                    test::makeJpeg(40, 30, 10 + i));
  }
  Catalog catalog(dir / "project", true);
  const auto first = importImages(catalog, settingsFor(data));
  ASSERT_EQ(first.added, 3);
  const auto before = catalog.imageByPath(data / "Women" / "Shoes" / "w0.jpg");
  ASSERT_TRUE(before.has_value());
  // A known file emptied since: not read again (it would be skipped as empty), its row kept.
  test::writeFile(data / "Women" / "Shoes" / "w0.jpg", "");
  test::writeFile(data / "Women" / "Shoes" / "new.jpg", test::makeJpeg(30, 30, 40));
  test::writeFile(data / "Women" / "Shoes" / "w1 copy.jpg",
                  test::readFile(data / "Women" / "Shoes" / "w1.jpg"));
  const auto again = importImages(catalog, settingsFor(data));
  EXPECT_EQ(again.examined, 5);
  EXPECT_EQ(again.added, 2);
  EXPECT_EQ(again.alreadyPresent, 3);
  EXPECT_TRUE(again.skipped.empty()) << again.skipped[0].path << ": " << again.skipped[0].reason;
  // The new copy is still found to duplicate the known image.
  ASSERT_EQ(again.duplicates.size(), 1u);
  EXPECT_NE(again.duplicates[0].path.find("w1 copy.jpg"), std::string::npos);
  const auto after = catalog.imageByPath(data / "Women" / "Shoes" / "w0.jpg");
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->hash, before->hash);
  EXPECT_EQ(after->bytes, before->bytes);
  EXPECT_EQ(catalog.imageCount(), 5);
}

// Drops the capabilities that let root read any file, so permission errors happen as they do
// for ordinary users.
void dropFileCapabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  syscall(SYS_capget, &header, data);
  data[0].effective &= ~((1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH));
  syscall(SYS_capset, &header, data);
}

TEST(Importer, UnreadableFilesAndFoldersAreReportedNotFatal) {
  TempDir dir;
  const auto data = dir / "photos";
  test::writeFile(data / "A" / "ok.jpg", test::makeJpeg(20, 20, 1));
  test::writeFile(data / "A" / "secret.jpg", test::makeJpeg(20, 20, 2));
  test::writeFile(data / "B" / "hidden.jpg", test::makeJpeg(20, 20, 3));
  fs::permissions(data / "A" / "secret.jpg", fs::perms::none);
  fs::permissions(data / "B", fs::perms::none);
  const auto project = dir / "project";
  { Catalog create(project, true); }
  const pid_t child = fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    dropFileCapabilities();
    Catalog catalog(project, false);
    const auto report = importImages(catalog, settingsFor(data));
    const bool ok =
        report.added == 1 &&
        reasonFor(report, "secret.jpg").find("Permission denied") != std::string::npos &&
        reasonFor(report, "B").find("Permission denied") != std::string::npos;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  fs::permissions(data / "B", fs::perms::owner_all);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  Catalog catalog(project, false);
  EXPECT_EQ(catalog.imageCount(), 1);
  EXPECT_EQ(catalog.importIssues().size(), 2u);
}

TEST(Importer, CsvManifestWithQuotedHierarchicalLabels) {
  TempDir dir;
  test::writeFile(dir / "img" / "a.jpg", test::makeJpeg(20, 20, 1));
  test::writeFile(dir / "img" / "b, with comma.jpg", test::makeJpeg(20, 20, 2));
  test::writeFile(dir / "img" / "日本.jpg", test::makeJpeg(20, 20, 3));
  test::writeFile(dir / "list.csv",
                  "path,label\n"
                  "img/a.jpg,Women > Shoes > Sneakers\n"
                  "\"img/b, with comma.jpg\",\"Men > Shoes > Sneakers\",validation\n"
                  "img/日本.jpg,婦人 > 靴\n"
                  "img/missing.jpg,Women > Shoes\n"
                  "just-one-field\n"
                  "img/a.jpg,A,sometimes\n");
  Catalog catalog(dir / "project", true);
  const auto report = importImages(catalog, settingsFor(dir / "list.csv"));
  EXPECT_EQ(report.added, 3);
  EXPECT_EQ(catalog.imageByPath(dir / "img" / "b, with comma.jpg")->split, Split::Validation);
  EXPECT_TRUE(catalog.findCategory("婦人 > 靴"));
  EXPECT_NE(reasonFor(report, "missing.jpg").find("No such file"), std::string::npos);
  EXPECT_EQ(reasonFor(report, "list.csv:6"),
            "1 column; expected the columns path,label[,split] separated by commas");
  EXPECT_NE(reasonFor(report, "list.csv:7").find("unknown split"), std::string::npos);
}

// New photos nobody has labeled: every image below the folder, at any depth and directly in it,
// without a category; checked like any image (a broken one is skipped), placed in a split, counted
// apart, and never taken for a contradiction of a label.
TEST(Importer, UnlabeledFoldersComeInWithoutACategoryButWithASplit) {
  TempDir dir;
  for (int i = 0; i < 6; ++i) {
    test::writeFile(dir / "labeled" / "Shoes" / (std::to_string(i) + ".jpg"),
                    test::makeJpeg(24, 24, 100 + i));
  }
  test::writeFile(dir / "new" / "a.jpg", test::makeJpeg(24, 24, 1));
  test::writeFile(dir / "new" / "day 2" / "b.png", test::makePng(24, 24, 2));
  test::writeFile(dir / "new" / "day 2" / "deeper" / "c.jpg", test::makeJpeg(24, 24, 3));
  for (int i = 0; i < 7; ++i) {
    test::writeFile(dir / "new" / "batch" / (std::to_string(i) + ".jpg"),
                    test::makeJpeg(24, 24, 10 + i));
  }
  test::writeFile(dir / "new" / "broken.jpg", "not an image");
  Catalog catalog(dir / "project", true);
  ImportSettings settings = settingsFor(dir / "labeled");
  settings.unlabeled = {dir / "new"};
  settings.validationFraction = 0.3;
  const auto report = importImages(catalog, settings);
  EXPECT_EQ(report.added, 16);
  EXPECT_EQ(report.unlabeled, 10);
  ASSERT_EQ(report.skipped.size(), 1u);
  EXPECT_NE(report.skipped[0].path.find("broken.jpg"), std::string::npos);
  ASSERT_EQ(catalog.categories().size(), 1u);  // folder names of unlabeled images are no category
  EXPECT_EQ(catalog.imageCount(kUnlabeled), 10);
  EXPECT_EQ(catalog.imageCount(), 16);
  const auto unlabeled = catalog.images(kUnlabeled);
  ASSERT_EQ(unlabeled.size(), 10u);
  int validation = 0;
  for (const auto& image : unlabeled) {
    EXPECT_EQ(image.categoryId, 0);
    EXPECT_NE(image.split, Split::Unassigned) << image.path;  // the split covers them too
    validation += image.split == Split::Validation ? 1 : 0;
    EXPECT_EQ(image.source.rfind("unlabeled:", 0), 0u) << image.source;
  }
  EXPECT_EQ(validation, 3);  // 30 % of them, like a category's
  EXPECT_EQ(catalog.images(kUnlabeled, Split::Validation).size(), 3u);
  EXPECT_EQ(catalog.imageCount(kUnlabeled, Split::Validation), 3);
  EXPECT_EQ(catalog.imageByPath(dir / "new" / "day 2" / "deeper" / "c.jpg")->categoryId, 0);

  // Again, with the labeled folder listed as unlabeled too: nothing new, no label questioned.
  ImportSettings again = settingsFor(dir / "labeled");
  again.unlabeled = {dir / "new", dir / "labeled"};
  const auto second = importImages(catalog, again);
  EXPECT_EQ(second.added, 0);
  EXPECT_EQ(second.alreadyPresent, 22);
  EXPECT_TRUE(second.differentLabels.empty());
  EXPECT_EQ(catalog.imageCount(kUnlabeled), 10);
}

TEST(Importer, UnlabeledSourcesMustBeFolders) {
  TempDir dir;
  test::writeFile(dir / "one.jpg", test::makeJpeg(16, 16, 1));
  Catalog catalog(dir / "project", true);
  ImportSettings settings;
  settings.unlabeled = {dir / "one.jpg"};
  try {
    importImages(catalog, settings);
    FAIL() << "a file given as an unlabeled folder was accepted";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("one.jpg"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not a folder"), std::string::npos) << e.what();
  }
  settings.unlabeled = {dir / "missing"};
  EXPECT_THROW(importImages(catalog, settings), core::Error);
  EXPECT_EQ(catalog.imageCount(), 0);
}

// A manifest row with an empty label is an unlabeled image; a later manifest that labels it is a
// different label, applied with `relabel`; an empty label never takes a label away.
TEST(Importer, CsvRowsWithAnEmptyLabelAreUnlabeled) {
  TempDir dir;
  for (int i = 0; i < 4; ++i) {
    test::writeFile(dir / "img" / (std::to_string(i) + ".jpg"), test::makeJpeg(20, 20, i + 1));
  }
  test::writeFile(dir / "first.csv",
                  "path,label,split\n"
                  "img/0.jpg,Bags\n"
                  "img/1.jpg,\n"
                  "img/2.jpg,  ,validation\n"
                  "img/3.jpg,\"\"\n"
                  "img/1.jpg,Bags\n");
  Catalog catalog(dir / "project", true);
  const auto report = importImages(catalog, settingsFor(dir / "first.csv"));
  EXPECT_EQ(report.added, 4);
  EXPECT_EQ(report.unlabeled, 3);
  EXPECT_EQ(catalog.imageCount(kUnlabeled), 3);
  EXPECT_EQ(catalog.imageByPath(dir / "img" / "2.jpg")->split, Split::Validation);
  EXPECT_EQ(reasonFor(report, "first.csv:6"),
            "conflicting label: " + (dir / "first.csv").parent_path().string() +
                "/img/1.jpg is listed at " + (dir / "first.csv").string() +
                ":3 as unlabeled and here as \"Bags\"; the first is kept");

  test::writeFile(dir / "second.csv",
                  "img/0.jpg,\n"
                  "img/1.jpg,Bags\n");
  ImportSettings labels = settingsFor(dir / "second.csv");
  labels.relabel = true;
  const auto second = importImages(catalog, labels);
  ASSERT_EQ(second.differentLabels.size(), 1u);  // 1.jpg gets a label; 0.jpg keeps "Bags"
  EXPECT_EQ(second.differentLabels[0].current, "");
  EXPECT_EQ(second.differentLabels[0].listed, "Bags");
  EXPECT_NE(second.relabelEdit, 0);
  EXPECT_EQ(catalog.imageCount(kUnlabeled), 2);
  const auto bags = catalog.findCategory("Bags");
  ASSERT_TRUE(bags);
  EXPECT_EQ(catalog.imageByPath(dir / "img" / "0.jpg")->categoryId, bags->id);
  EXPECT_EQ(catalog.imageByPath(dir / "img" / "1.jpg")->categoryId, bags->id);
  // Undo gives it back its place among the unlabeled.
  ASSERT_TRUE(catalog.undo());
  EXPECT_EQ(catalog.imageCount(kUnlabeled), 3);
  EXPECT_EQ(catalog.images(kUnlabeled).size(), 3u);
}

void writeGz(const fs::path& path, const std::string& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(file);
}

std::string bigEndian(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

// DIR/train-images-idx3-ubyte.gz and its labels: n 28 x 28 images (pixel p of image i is
// (13 i + p) mod 256), labels i mod 10. Returns the uncompressed bytes of both files.
std::pair<std::string, std::string> writeIdxTrainFiles(const fs::path& dir, int n) {
  std::string images = bigEndian(0x803) + bigEndian(n) + bigEndian(28) + bigEndian(28);
  std::string labels = bigEndian(0x801) + bigEndian(n);
  for (int i = 0; i < n; ++i) {
    for (int p = 0; p < 28 * 28; ++p) {
      images += static_cast<char>((i * 13 + p) % 256);
    }
    labels += static_cast<char>(i % 10);
  }
  writeGz(dir / "train-images-idx3-ubyte.gz", images);
  writeGz(dir / "train-labels-idx1-ubyte.gz", labels);
  return {images, labels};
}

TEST(Importer, FashionMnistIdxFilesBecomePngsWithATwoLevelTaxonomy) {
  TempDir dir;
  const auto data = dir / "fmnist";
  fs::create_directories(data);
  const int n = 100;
  const auto [images, labels] = writeIdxTrainFiles(data, n);
  writeGz(data / "t10k-images-idx3-ubyte.gz", images.substr(0, 16 + 28 * 28 * 10));
  writeGz(data / "t10k-labels-idx1-ubyte.gz",
          bigEndian(0x801) + bigEndian(10) + labels.substr(8, 10));
  // The test file's header says 100 images but holds 10: a truncated file is a clear error.
  Catalog catalog(dir / "project", true);
  auto settings = settingsFor(data);
  EXPECT_THROW(importImages(catalog, settings), core::Error);

  writeGz(data / "t10k-images-idx3-ubyte.gz", bigEndian(0x803) + bigEndian(10) + bigEndian(28) +
                                                  bigEndian(28) + images.substr(16, 28 * 28 * 10));
  const auto report = importImages(catalog, settings);
  EXPECT_EQ(report.added, 110) << (report.skipped.empty() ? "" : report.skipped[0].reason);
  EXPECT_EQ(report.test, 10);
  EXPECT_EQ(report.train + report.validation, 100);
  EXPECT_EQ(report.validation, 10) << "10% of each of the 10 classes";
  EXPECT_TRUE(catalog.findCategory("Shoes > Sneaker"));
  EXPECT_TRUE(catalog.findCategory("Tops > T-shirt/top"));
  const auto first = catalog.images(std::nullopt, std::nullopt, 1)[0];
  EXPECT_TRUE(first.path.starts_with("images/fashion-mnist/train/")) << first.path;
  EXPECT_EQ(first.width, 28);
  EXPECT_EQ(first.format, "PNG");

  // Importing again adds nothing and moves nothing.
  const auto again = importImages(catalog, settings);
  EXPECT_EQ(again.added, 0);
  EXPECT_EQ(again.alreadyPresent, 110);
  EXPECT_EQ(again.validation, report.validation);
}

// Stopped while extracting an IDX file (the stop is seen after the extraction, before the checks):
// the PNGs written into the project but not yet added are
// removed (none is left orphaned in images/), the report says how many, and the next import
// starts again cleanly.
TEST(Importer, AStopDuringExtractionLeavesNoOrphanedFiles) {
  TempDir dir;
  const auto data = dir / "fmnist";
  fs::create_directories(data);
  const int n = 60;
  writeIdxTrainFiles(data, n);
  Catalog catalog(dir / "project", true);
  std::stop_source stop;
  const auto progress = [&](const core::Progress& p) {
    if (p.stage.starts_with("extract") && p.done >= 25) {
      stop.request_stop();
    }
  };
  const auto report = importImages(catalog, settingsFor(data), progress, stop.get_token());
  EXPECT_TRUE(report.cancelled);
  EXPECT_EQ(report.added, 0);
  EXPECT_GE(report.extractedRemoved, 25);
  std::int64_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir / "project" / "images")) {
    files += entry.is_regular_file() ? 1 : 0;
  }
  EXPECT_EQ(files, 0);
  const auto again = importImages(catalog, settingsFor(data));
  EXPECT_EQ(again.added, n);
}

// A process that has ended: its id names no running process.
pid_t deadPid() {
  const pid_t child = fork();
  if (child == 0) {
    _exit(0);
  }
  waitpid(child, nullptr, 0);
  return child;
}

// Killed while writing an extracted PNG, an import leaves NAME.tmp-PID beside it (writeFileAtomic):
// the next import of the source removes those of dead processes and keeps a live one's.
TEST(Importer, TheNextImportRemovesTheHalfWrittenFilesOfAKilledOne) {
  TempDir dir;
  const auto data = dir / "fmnist";
  fs::create_directories(data);
  writeIdxTrainFiles(data, 20);
  const auto extracted = dir / "project" / "images" / "fashion-mnist" / "train" / "3";
  const auto dead = extracted / ("00007.png.tmp-" + std::to_string(deadPid()));
  const auto live = extracted / ("00008.png.tmp-" + std::to_string(getpid()));
  test::writeFile(dead, "half a PNG");
  test::writeFile(live, "another import's, still running");
  Catalog catalog(dir / "project", true);
  const auto report = importImages(catalog, settingsFor(data));
  EXPECT_EQ(report.added, 20);
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::exists(live));
  EXPECT_EQ(core::removeDeadTemporaries(dir / "project", /*recursive=*/true), 0u);
}

TEST(Importer, ReadsDebiansFashionMnistWithALimit) {
  const fs::path data = "/usr/share/datasets/fashion-mnist";
  ASSERT_TRUE(fs::exists(data / "train-images-idx3-ubyte.gz"))
      << "packaging/setup-deps.sh installs dataset-fashion-mnist";
  TempDir dir;
  Catalog catalog(dir / "project", true);
  auto settings = settingsFor(data);
  settings.limit = 300;
  const auto report = importImages(catalog, settings);
  EXPECT_EQ(report.added, 600);
  EXPECT_EQ(report.test, 300);
  EXPECT_EQ(report.categories, 10);
}

TEST(Importer, SeedTfRecordShardsWithOneBasedLabels) {
  TempDir dir;
  const auto shards = dir / "records";
  fs::create_directories(shards);
  auto writeShard = [&](const std::string& name, int first, int count) {
    records::RecordWriter writer(shards / name);
    for (int i = first; i < first + count; ++i) {
      records::ImageExample e;
      e.encoded = test::makeJpeg(24, 24, static_cast<std::uint32_t>(i));
      e.filename = "img" + std::to_string(i) + ".JPEG";
      e.label = 1 + i % 2;                                    // the seed's labels start at 1
      e.text = i % 2 == 0 ? "Women > Shoes > Sneakers" : "";  // no text: labels.txt names it
      e.height = 24;
      e.width = 24;
      writer.write(records::encodeExample(e));
    }
    writer.write("this record is not an Example");
    writer.close();
  };
  writeShard("train-00000-of-00002", 0, 6);
  writeShard("train-00001-of-00002", 6, 6);
  writeShard("validation-00000-of-00001", 12, 4);
  test::writeFile(shards / "labels.txt", "Women > Shoes > Sneakers\nMen > Shoes > Sneakers\n");

  Catalog catalog(dir / "project", true);
  const auto report = importImages(catalog, settingsFor(shards));
  EXPECT_EQ(report.added, 16);
  EXPECT_EQ(report.skipped.size(), 3u) << "one bad record per shard";
  EXPECT_EQ(report.validation, 4) << "the seed's validation shards stay validation";
  EXPECT_EQ(report.train, 12);
  EXPECT_EQ(catalog.imageCount(catalog.findCategory("Men > Shoes > Sneakers")->id), 8);
}

TEST(Importer, InvalidSettingsAreListedTogether) {
  TempDir dir;
  Catalog catalog(dir / "project", true);
  ImportSettings settings;
  settings.validationFraction = 1.5;
  settings.threads = -1;
  try {
    importImages(catalog, settings);
    FAIL();
  } catch (const core::UsageError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("sources"), std::string::npos);
    EXPECT_NE(message.find("validation_fraction"), std::string::npos);
    EXPECT_NE(message.find("threads"), std::string::npos);
  }
}

TEST(Importer, CancellingKeepsWhatWasAdded) {
  TempDir dir;
  for (int i = 0; i < 30; ++i) {
    test::writeFile(dir / "d" / "A" / (std::to_string(i) + ".jpg"), test::makeJpeg(16, 16, i));
  }
  Catalog catalog(dir / "project", true);
  std::stop_source stop;
  stop.request_stop();
  const auto report = importImages(catalog, settingsFor(dir / "d"), {}, stop.get_token());
  EXPECT_TRUE(report.cancelled);
  EXPECT_EQ(report.added, 0);
}

}  // namespace
}  // namespace taxon::project
