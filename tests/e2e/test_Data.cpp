// `taxon import` and `taxon build-records` as a user runs them, on real image files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "RunCommand.hpp"
#include "TestFiles.hpp"
#include "core/Text.hpp"
#include "project/Catalog.hpp"
#include "records/ImageExample.hpp"
#include "records/RecordFile.hpp"
#include "records/RecordSet.hpp"

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

std::vector<records::ImageExample> readShards(const fs::path& dir, const std::string& split) {
  std::vector<records::ImageExample> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().starts_with(split + "-")) {
      records::RecordReader reader(entry.path());
      std::string payload;
      while (reader.next(payload)) {
        out.push_back(records::decodeExample(payload));
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

std::vector<std::string> categoryPaths(const fs::path& project) {
  project::Catalog catalog(project, /*create=*/false);
  std::vector<std::string> paths;
  for (const auto& c : catalog.categories()) {
    paths.push_back(c.path);
  }
  return paths;
}

std::string categoryOf(const fs::path& project, const fs::path& image) {
  project::Catalog catalog(project, /*create=*/false);
  const auto record = catalog.imageByPath(image);
  if (!record || record->categoryId == 0) {
    return "";
  }
  return catalog.category(record->categoryId)->path;
}

// The same file listed twice with two labels: the conflict is named (file, both lines, both
// labels), the first label kept, and no empty category made. A known image listed again with a
// new label is said to be kept as it is, or with --relabel relabeled in one undoable edit.
TEST(DataCli, CsvConflictsAreReportedAndMakeNoEmptyCategories) {
  TempDir dir;
  writeFile(dir / "a.jpg", makeJpeg(40, 30, 1));
  writeFile(dir / "b.jpg", makeJpeg(40, 30, 2));
  writeFile(dir / "list.csv", "path,label\na.jpg,Men\nb.jpg,Men\na.jpg,Women\nb.jpg,Men\n");
  const auto project = dir / "p";
  auto r = taxon({"import", project.string(), (dir / "list.csv").string()});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.err.find((dir / "list.csv").string() + ":4: conflicting label: " +
                       (dir / "a.jpg").string() + " is listed at " + (dir / "list.csv").string() +
                       ":2 as \"Men\" and here as \"Women\"; the "
                       "first is kept"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("Imported 2 new images"), std::string::npos) << r.out;
  EXPECT_EQ(categoryPaths(project), std::vector<std::string>{"Men"});

  writeFile(dir / "again.csv", "a.jpg,Other\nb.jpg,Men\n");
  r = taxon({"import", project.string(), (dir / "again.csv").string()});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.err.find("1 image already in the project is listed with another category; kept"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("a.jpg: Men -> Other"), std::string::npos) << r.err;
  EXPECT_EQ(categoryPaths(project), std::vector<std::string>{"Men"});
  EXPECT_EQ(categoryOf(project, dir / "a.jpg"), "Men");

  r = taxon({"import", project.string(), (dir / "again.csv").string(), "--relabel"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.err.find("relabeled as listed (one edit"), std::string::npos) << r.err;
  EXPECT_EQ(categoryOf(project, dir / "a.jpg"), "Other");
  {
    project::Catalog catalog(project, /*create=*/false);
    ASSERT_TRUE(catalog.undo());
  }
  EXPECT_EQ(categoryOf(project, dir / "a.jpg"), "Men");

  // A category without images (made in the app, or emptied by relabeling) gets no label.
  {
    project::Catalog catalog(project, /*create=*/false);
    catalog.createCategory("Empty");
  }
  r = taxon({"build-records", project.string(), "--validation_shards=1"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.err.find("category \"Empty\" has no images and gets no label"), std::string::npos)
      << r.err;
  EXPECT_EQ(readFile(project / "records" / "labels.txt").find("Empty"), std::string::npos);
}

// Rows with more columns than path,label,split, and a file separated by semicolons: named with
// the file and line and the expected columns; an import that adds nothing fails.
TEST(DataCli, CsvRowsOfAnotherShapeAreNamedAndNothingImportedFails) {
  TempDir dir;
  writeFile(dir / "a.jpg", makeJpeg(40, 30, 1));
  writeFile(dir / "extra.csv", "path,label,split,extra\na.jpg,Men,train,x\n");
  const auto project = dir / "p";
  auto r = taxon({"import", project.string(), (dir / "extra.csv").string()});
  EXPECT_EQ(r.exitCode, 1) << r.err;
  EXPECT_NE(r.err.find((dir / "extra.csv").string() +
                       ":2: 4 columns; expected the columns path,label[,split] separated by "
                       "commas"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("nothing was imported"), std::string::npos) << r.err;

  writeFile(dir / "semi.csv", "path;label\na.jpg;Men\n");
  const auto other = dir / "q";
  r = taxon({"import", other.string(), (dir / "semi.csv").string()});
  EXPECT_EQ(r.exitCode, 1) << r.err;
  EXPECT_NE(r.err.find((dir / "semi.csv").string() + ": line 1 is separated by ';'"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(other)) << "a failed import must leave no project behind";
}

// Doing nothing that was asked is exit 1 with the reason: a folder given as a CSV file, a folder
// whose images are all broken, a labels file naming a folder that does not exist.
TEST(DataCli, NothingDoneIsAnErrorWithTheReason) {
  TempDir dir;
  makeSeedFolders(dir / "photos", 1);
  auto r = taxon({"import", "--format", "csv", (dir / "p").string(), (dir / "photos").string()});
  EXPECT_EQ(r.exitCode, 1) << r.err;
  EXPECT_NE(r.err.find("is a folder, not a CSV manifest"), std::string::npos) << r.err;

  writeFile(dir / "broken" / "Men" / "x.jpg", "not a picture");
  writeFile(dir / "broken" / "Women" / "y.jpg", "");
  r = taxon({"import", (dir / "p").string(), (dir / "broken").string()});
  EXPECT_EQ(r.exitCode, 1) << r.err;
  EXPECT_NE(r.err.find("nothing was imported: every file or row was skipped (2"), std::string::npos)
      << r.err;

  writeFile(dir / "labels.txt", "Women\nNoSuchFolder\n");
  r = taxon({"build-records", "--train_directory", (dir / "photos").string(),
             "--validation_directory", (dir / "photos").string(), "--labels_file",
             (dir / "labels.txt").string(), "--output_directory", (dir / "out").string()});
  EXPECT_EQ(r.exitCode, 1) << r.err;
  EXPECT_NE(r.err.find("NoSuchFolder"), std::string::npos) << r.err;
}

// A missing source is found before anything is written: no project is created, and a first
// source that exists is not imported either.
TEST(DataCli, AFailedImportLeavesNothingBehind) {
  TempDir dir;
  makeSeedFolders(dir / "photos", 1);
  const auto project = dir / "p";
  auto r = taxon({"import", project.string(), "/nonexistent/photos"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_FALSE(fs::exists(project / "taxon.sqlite"));
  r = taxon({"import", project.string(), (dir / "photos").string(), "/nonexistent/more"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("/nonexistent/more: does not exist"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(project / "taxon.sqlite"));
}

// The seed's layout: DIR/train/CATEGORY..., DIR/validation/CATEGORY...: the split folders are
// recognised, their splits kept, and the categories are the folders below them.
TEST(DataCli, SplitFoldersKeepTheirSplits) {
  TempDir dir;
  makeSeedFolders(dir / "data" / "train", 3);
  makeSeedFolders(dir / "data" / "validation", 1);
  const auto project = dir / "p";
  const auto r = taxon({"import", project.string(), (dir / "data").string()});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.err.find("split folders"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("3 categories; 9 train, 3 validation, 0 test"), std::string::npos) << r.out;
  const auto paths = categoryPaths(project);
  EXPECT_EQ(paths.size(), 3u);
  for (const auto& p : paths) {
    EXPECT_EQ(p.find("train"), std::string::npos) << p;
  }
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

// Photos without labels: `import --unlabeled` takes every image below the folders, `info` counts
// them on a row of their own, and build-records leaves them out.
TEST(DataCli, UnlabeledFoldersAreImportedCountedAndLeftOutOfRecords) {
  TempDir dir;
  makeSeedFolders(dir / "photos", 5);
  for (int i = 0; i < 8; ++i) {
    writeFile(dir / "new" / (i < 4 ? "" : "tuesday") / ("n" + std::to_string(i) + ".jpg"),
              makeJpeg(50, 40, 900 + static_cast<std::uint32_t>(i)));
  }
  const auto project = (dir / "p").string();
  const auto imported = taxon({"import", project, (dir / "photos").string(), "--unlabeled",
                               (dir / "new").string(), "--validation_fraction=0.25"});
  EXPECT_EQ(imported.exitCode, 0) << imported.err;
  EXPECT_NE(imported.out.find("Imported 23 new images"), std::string::npos) << imported.out;
  EXPECT_NE(imported.out.find("8 of them unlabeled"), std::string::npos) << imported.out;

  // Only unlabeled folders: no positional source is needed.
  writeFile(dir / "more" / "m.jpg", makeJpeg(50, 40, 999));
  const auto more = taxon({"import", project, "--unlabeled", (dir / "more").string()});
  EXPECT_EQ(more.exitCode, 0) << more.err;
  EXPECT_NE(more.out.find("Imported 1 new image"), std::string::npos) << more.out;
  const auto none = taxon({"import", project});
  EXPECT_NE(none.exitCode, 0);
  EXPECT_NE(none.err.find("give at least one folder or file"), std::string::npos) << none.err;

  const auto described = taxon({"info", project});
  EXPECT_EQ(described.exitCode, 0) << described.err;
  // 9 unlabeled: 7 train and 2 validation (25 %, rounded), on their own row, counted in "all".
  std::istringstream lines(described.out);
  std::string line;
  std::string unlabeledRow, allRow;
  while (std::getline(lines, line)) {
    if (line.starts_with("  (unlabeled)")) {
      unlabeledRow = line;
    } else if (line.starts_with("  all")) {
      allRow = line;
    }
  }
  const auto counts = [](const std::string& row, std::size_t nameWidth) {
    std::istringstream numbers(row.substr(std::min(row.size(), nameWidth)));
    std::vector<int> out;
    for (int n = 0; numbers >> n;) {
      out.push_back(n);
    }
    return out;
  };
  EXPECT_EQ(counts(unlabeledRow, 13), (std::vector<int>{7, 2, 0, 0})) << described.out;
  EXPECT_EQ(counts(allRow, 5), (std::vector<int>{19, 5, 0, 0})) << described.out;
  EXPECT_NE(described.out.find("3 categories, 24 images (9 unlabeled, left out of records"),
            std::string::npos)
      << described.out;

  ASSERT_EQ(taxon({"build-records", project, "--train_shards=1"}).exitCode, 0);
  const auto records = fs::path(project) / "records";
  EXPECT_EQ(readShards(records, "train").size() + readShards(records, "validation").size(), 15u);
}

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

  // What a build stopped half-way leaves (RecordBuilder's test makes one): info says so, and
  // so does training, before reading a record.
  writeFile(records / records::kIncompleteMarker, "");
  const auto incomplete = taxon({"info", records.string()});
  EXPECT_EQ(incomplete.exitCode, 1);
  EXPECT_NE(incomplete.err.find("run build-records again"), std::string::npos) << incomplete.err;
  const auto train = taxon({"train", "--data_dir", records.string(), "--train_dir",
                            (fs::path(project) / "run").string(), "--max_steps", "1"});
  EXPECT_NE(train.exitCode, 0);
  EXPECT_NE(train.err.find(records::kIncompleteMarker), std::string::npos) << train.err;
  fs::remove(records / records::kIncompleteMarker);

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
