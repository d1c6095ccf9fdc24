// Embeddings of a real project under a real checkpoint: the classifier's pooled features (what its
// last layer sees), stored as unit float16 rows, incremental, resumed after a stop and after a
// torn write; neighbours by exact search, an image's resized and re-encoded copy first.
#include "similar/Embed.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <numeric>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "../eval/TinyModel.hpp"
#include "checkpoint/TrainedModel.hpp"
#include "core/Csv.hpp"
#include "core/Error.hpp"
#include "image/ImageCheck.hpp"
#include "project/Catalog.hpp"
#include "similar/Duplicates.hpp"

namespace taxon::similar {
namespace {

namespace fs = std::filesystem;

// DIR/project: 16 distinct pictures in the four categories (train, and every fourth in test),
// and DIR/run, a checkpoint for the four categories.
struct EmbedProject {
  test::TempDir dir;
  fs::path project = dir / "project";
  fs::path run = dir / "run";
  std::vector<fs::path> files;

  EmbedProject() {
    test::writeRecordSet(dir / "records", 8);
    test::writeRandomCheckpoint(run, dir / "records", 42, "train");
    project::Catalog catalog(project, /*create=*/true);
    std::vector<project::NewImage> images;
    for (int i = 0; i < 16; ++i) {
      const auto bytes = test::makePng(64, 64, static_cast<std::uint32_t>(i + 1));
      files.push_back(project / "images" / ("picture-" + std::to_string(i) + ".png"));
      test::writeFile(files.back(), bytes);
      images.push_back({files.back(), image::contentHash(bytes), 64, 64, "PNG",
                        static_cast<std::int64_t>(bytes.size()),
                        test::fourCategories()[static_cast<std::size_t>(i % 4)],
                        i % 4 == 3 ? project::Split::Test : project::Split::Train, "test"});
    }
    catalog.insertImages(images);
  }

  EmbedSettings settings() const {
    EmbedSettings s;
    s.project = project;
    s.checkpointDir = run;
    s.chunk = 5;
    s.classifier.batchSize = 2;
    s.classifier.decodeThreads = 2;
    return s;
  }
};

TEST(Embed, StoresTheFeaturesTheClassifierLayerSeesAsUnitRows) {
  EmbedProject p;
  std::int64_t lastDone = 0;
  const auto report = embed(p.settings(), [&](const core::Progress& progress) {
    EXPECT_EQ(progress.total, 16);
    lastDone = std::max(lastDone, progress.done);
  });
  EXPECT_EQ(report.step, 42);
  EXPECT_EQ(report.considered, 16);
  EXPECT_EQ(report.embedded, 16);
  EXPECT_EQ(report.alreadyDone, 0);
  EXPECT_TRUE(report.failed.empty());
  EXPECT_EQ(lastDone, 16);
  EXPECT_EQ(report.store, embeddingDir(p.project, p.run, 42));
  EXPECT_EQ(report.indexed, 0);  // below the rows an index starts from

  // The stored rows are the pooled features of the checkpoint's network: through its fc layer
  // they give the classifier's probabilities.
  auto trained = checkpoint::loadTrainedModel(p.run, "cpu");
  EXPECT_EQ(report.dim, trained.model->numFeatures());
  const auto params = trained.model->named_parameters();
  const auto weight = params["fc.weight"];
  const auto bias = params["fc.bias"];
  std::vector<std::string> encoded;
  for (const auto& file : p.files) {
    encoded.push_back(test::readFile(file));
  }
  const auto reference = test::referenceProbabilities(p.run, encoded);
  const EmbeddingStore store(report.store);
  ASSERT_EQ(store.rows(), 16);
  project::Catalog catalog(p.project, false);
  infer::ClassifierSettings withFeatures;
  withFeatures.features = true;
  infer::Classifier classifier(p.run, withFeatures);
  const auto classified = classifier.classifyFiles(p.files, 4);
  for (std::size_t i = 0; i < p.files.size(); ++i) {
    const auto& features = classified[i].features;
    ASSERT_EQ(static_cast<std::int64_t>(features.size()), report.dim);
    const auto f =
        torch::from_blob(const_cast<float*>(features.data()), {1, report.dim}, torch::kFloat);
    const auto probabilities = torch::softmax(torch::addmm(bias, f, weight.t()), 1);
    EXPECT_TRUE(torch::allclose(probabilities, reference[static_cast<std::int64_t>(i)].unsqueeze(0),
                                1e-3, 1e-4))
        << p.files[i];
    const auto id = catalog.imageByPath(p.files[i])->id;
    const auto row = store.row(*store.rowOf(id));
    double norm = 0.0, cosine = 0.0, length = 0.0;
    for (std::size_t j = 0; j < row.size(); ++j) {
      norm += static_cast<double>(row[j]) * row[j];
      cosine += static_cast<double>(row[j]) * features[j];
      length += static_cast<double>(features[j]) * features[j];
    }
    EXPECT_NEAR(norm, 1.0, 2e-3);
    EXPECT_NEAR(cosine / std::sqrt(norm * length), 1.0, 1e-5);  // float16 keeps the direction
  }
}

TEST(Embed, ResumesAfterAStopAndAfterATornWriteAndTakesNewImagesOnly) {
  EmbedProject p;
  std::stop_source stop;
  const auto first = embed(
      p.settings(),
      [&](const core::Progress& progress) {
        if (progress.done >= 5) {
          stop.request_stop();
        }
      },
      stop.get_token());
  EXPECT_TRUE(first.cancelled);
  EXPECT_GE(first.embedded, 4);
  EXPECT_LT(first.embedded, 16);
  const auto committed = first.embedded;
  EXPECT_EQ(EmbeddingStore(first.store).rows(), committed);

  // A process killed between writing a batch's rows and committing them leaves a torn tail.
  {
    std::ofstream vectors(first.store / "vectors.f16", std::ios::binary | std::ios::app);
    vectors << std::string(1000, 'x');
    std::ofstream ids(first.store / "ids.i64", std::ios::binary | std::ios::app);
    ids << std::string(13, 'y');
  }
  EXPECT_EQ(EmbeddingStore(first.store).rows(), committed);  // readers see the commit

  const auto second = embed(p.settings());
  EXPECT_FALSE(second.cancelled);
  EXPECT_EQ(second.alreadyDone, committed);
  EXPECT_EQ(second.embedded, 16 - committed);
  const EmbeddingStore store(second.store);
  EXPECT_EQ(store.rows(), 16);
  EXPECT_EQ(fs::file_size(second.store / "ids.i64"), 16u * 8u);
  EXPECT_EQ(fs::file_size(second.store / "vectors.f16"),
            static_cast<std::uintmax_t>(16 * second.dim * 2));
  std::vector<std::int64_t> ids = store.ids();
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::unique(ids.begin(), ids.end()), ids.end());

  // An image added later: only it is embedded.
  const auto bytes = test::makePng(64, 64, 99);
  const fs::path added = p.project / "images" / "added.png";
  test::writeFile(added, bytes);
  project::Catalog(p.project, false)
      .insertImages(
          {{added, image::contentHash(bytes), 64, 64, "PNG",
            static_cast<std::int64_t>(bytes.size()), "", project::Split::Unassigned, "test"}});
  auto indexing = p.settings();
  indexing.indexFrom = 10;
  const auto third = embed(indexing);
  EXPECT_EQ(third.embedded, 1);
  EXPECT_EQ(third.alreadyDone, 16);
  EXPECT_EQ(third.indexed, 17);
  EXPECT_EQ(EmbeddingStore(third.store).meta().indexRows, 17);
}

TEST(Similar, AnImagesResizedCopyIsItsNearestNeighbour) {
  EmbedProject p;
  // Picture 5 again, at 100 pixels and as a JPEG, in the test split: a leaked copy.
  const cv::Mat original = cv::imread(p.files[5].string(), cv::IMREAD_COLOR);
  cv::Mat bigger;
  cv::resize(original, bigger, {100, 100}, 0, 0, cv::INTER_CUBIC);
  std::vector<uchar> jpeg;
  cv::imencode(".jpg", bigger, jpeg, {cv::IMWRITE_JPEG_QUALITY, 85});
  const std::string bytes(jpeg.begin(), jpeg.end());
  const fs::path copy = p.project / "images" / "copy-of-5.jpg";
  test::writeFile(copy, bytes);
  project::Catalog(p.project, false)
      .insertImages({{copy, image::contentHash(bytes), 100, 100, "JPEG",
                      static_cast<std::int64_t>(bytes.size()), test::fourCategories()[1],
                      project::Split::Test, "test"}});
  SimilarSettings settings;
  settings.project = p.project;
  settings.checkpointDir = p.run;
  settings.k = 5;
  EXPECT_THROW(
      {
        try {
          similarImages(settings, p.files[5]);
        } catch (const core::Error& e) {
          EXPECT_NE(std::string(e.what()).find("taxon embed"), std::string::npos) << e.what();
          throw;
        }
      },
      core::Error);
  embed(p.settings());

  const auto found = similarImages(settings, p.files[5]);
  ASSERT_EQ(found.size(), 5u);
  EXPECT_EQ(found[0].path, copy);
  EXPECT_EQ(found[0].split, project::Split::Test);
  EXPECT_EQ(found[0].category, test::fourCategories()[1]);
  for (std::size_t i = 0; i < found.size(); ++i) {
    EXPECT_NE(found[i].path, p.files[5]);  // not its own neighbour
    if (i > 0) {
      EXPECT_LE(found[i - 1].distance, found[i].distance);
    }
  }
  EXPECT_LT(found[0].distance, found[1].distance / 2) << "the copy is not clearly nearest";

  // A file outside the project: its features are computed; the picture it copies comes first,
  // at a distance near 0.
  const fs::path outside = p.dir / "outside.png";
  test::writeFile(outside, test::readFile(p.files[9]));
  const auto fromOutside = similarImages(settings, outside);
  ASSERT_FALSE(fromOutside.empty());
  EXPECT_EQ(fromOutside[0].path, p.files[9]);
  EXPECT_LT(fromOutside[0].distance, 1e-3);
}

TEST(EmbeddingStore, RefusesAnotherCheckpointsStoreAndADamagedOne) {
  test::TempDir dir;
  EmbeddingMeta meta{"/runs/a", 10, 4, 0};
  {
    EmbeddingWriter writer(dir / "store", meta);
    writer.append({7, 8}, {{1, 0, 0, 0}, {3, 4, 0, 0}});
    EXPECT_TRUE(writer.has(8));
    EXPECT_THROW(writer.append({9}, {{1, 2}}), core::Error);
  }
  const EmbeddingStore store(dir / "store");
  EXPECT_EQ(store.rows(), 2);
  const auto second = store.row(1);
  EXPECT_NEAR(second[0], 0.6f, 1e-3);
  EXPECT_NEAR(second[1], 0.8f, 1e-3);
  const auto near = store.nearest({0, 1, 0, 0}, 5);
  ASSERT_EQ(near.size(), 2u);
  EXPECT_EQ(near[0].imageId, 8);
  EXPECT_NEAR(near[0].distance, 0.2f, 1e-3);
  EXPECT_NEAR(near[1].distance, 1.0f, 1e-3);
  EXPECT_EQ(store.nearest({0, 1, 0, 0}, 5, 8).size(), 1u);

  auto other = meta;
  other.step = 11;
  try {
    EmbeddingWriter wrong(dir / "store", other);
    ADD_FAILURE() << "another checkpoint's store was opened for writing";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("meta.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("step 10"), std::string::npos) << e.what();
  }
  fs::resize_file(dir / "store" / "vectors.f16", 10);
  try {
    EmbeddingStore damaged(dir / "store");
    ADD_FAILURE() << "a short vectors file was read";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("vectors.f16"), std::string::npos) << e.what();
  }
  test::writeFile(dir / "store" / "meta.json",
                  "{\"format\": \"taxon-embeddings\", \"rows\": 1e40}");
  EXPECT_THROW(EmbeddingStore(dir / "store"), core::Error);
}

// A training picture's resized JPEG copy planted in the test split is leakage; a byte copy of
// another with a different label is a label conflict; the distinct pictures stay apart.
TEST(Duplicates, PlantedLeakageAndLabelConflictsAreFoundAndReported) {
  EmbedProject p;
  const cv::Mat original = cv::imread(p.files[0].string(), cv::IMREAD_COLOR);
  cv::Mat bigger;
  cv::resize(original, bigger, {100, 100}, 0, 0, cv::INTER_CUBIC);
  std::vector<uchar> jpeg;
  cv::imencode(".jpg", bigger, jpeg, {cv::IMWRITE_JPEG_QUALITY, 85});
  const std::string leaked(jpeg.begin(), jpeg.end());
  const fs::path leakedFile = p.project / "images" / "leaked.jpg";
  test::writeFile(leakedFile, leaked);
  const auto copied = test::readFile(p.files[2]);
  const fs::path relabeled = p.project / "images" / "relabeled.png";
  test::writeFile(relabeled, copied);
  project::Catalog(p.project, false)
      .insertImages({{leakedFile, image::contentHash(leaked), 100, 100, "JPEG",
                      static_cast<std::int64_t>(leaked.size()), test::fourCategories()[0],
                      project::Split::Test, "test"},
                     {relabeled, image::contentHash(copied), 64, 64, "PNG",
                      static_cast<std::int64_t>(copied.size()), test::fourCategories()[1],
                      project::Split::Train, "test"}});
  DuplicateSettings settings;
  settings.project = p.project;
  settings.checkpointDir = p.run;
  settings.calibrationImages = 10;
  settings.reportDir = p.dir / "reports";
  EXPECT_THROW(findDuplicates(settings), core::Error);  // not embedded yet
  embed(p.settings());
  const auto report = findDuplicates(settings);
  const auto& c = report.calibration;
  EXPECT_EQ(c.images, 10);
  EXPECT_FALSE(c.given);
  EXPECT_GT(c.threshold, 0.0);
  EXPECT_LE(c.threshold, c.copyMax);
  EXPECT_LE(c.copyMedian, c.copyMax);
  EXPECT_LT(c.copyMax, c.nearestMedian) << "copies are not nearer than distinct images";
  EXPECT_EQ(report.images, 18);
  EXPECT_EQ(report.notEmbedded, 0);
  ASSERT_EQ(report.groups.size(), 2u);
  const auto& leak = report.groups[0];  // by first image id: picture 0's group first
  ASSERT_EQ(leak.members.size(), 2u);
  EXPECT_EQ(leak.members[0].path, p.files[0]);
  EXPECT_EQ(leak.members[1].path, leakedFile);
  EXPECT_FALSE(leak.exact);
  EXPECT_TRUE(leak.crossesSplits);
  EXPECT_FALSE(leak.conflictingLabels);
  EXPECT_GT(leak.members[1].distance, 0.0f);
  EXPECT_LE(leak.members[1].distance, c.threshold + 1e-6);
  const auto& conflict = report.groups[1];
  ASSERT_EQ(conflict.members.size(), 2u);
  EXPECT_EQ(conflict.members[0].path, p.files[2]);
  EXPECT_EQ(conflict.members[1].path, relabeled);
  EXPECT_TRUE(conflict.exact);
  EXPECT_FALSE(conflict.crossesSplits);
  EXPECT_TRUE(conflict.conflictingLabels);
  EXPECT_EQ(report.leakedTestImages, 1);

  const auto all = core::parseCsv(test::readFile(report.duplicatesCsv), report.duplicatesCsv);
  ASSERT_EQ(all.size(), 5u);  // a header and four members
  EXPECT_EQ(all[0].fields[0], "group");
  const auto leakage = core::parseCsv(test::readFile(report.leakageCsv), report.leakageCsv);
  ASSERT_EQ(leakage.size(), 3u);
  EXPECT_EQ(leakage[2].fields[3], leakedFile.string());
  EXPECT_EQ(leakage[2].fields[5], "test");
  EXPECT_EQ(leakage[2].fields[1], "near");
  const auto conflicts = core::parseCsv(test::readFile(report.conflictsCsv), report.conflictsCsv);
  ASSERT_EQ(conflicts.size(), 3u);
  EXPECT_EQ(conflicts[2].fields[3], relabeled.string());
  EXPECT_EQ(conflicts[2].fields[4], test::fourCategories()[1]);

  // A threshold given: 0 keeps the exact copies only.
  settings.threshold = 0.0;
  const auto strict = findDuplicates(settings);
  EXPECT_TRUE(strict.calibration.given);
  ASSERT_EQ(strict.groups.size(), 1u);
  EXPECT_TRUE(strict.groups[0].exact);
}

// The report read back gives the same groups; resolving them in the catalog is one undoable edit
// each: the leaked test copy joins its original's split, the relabeled copy its category.
TEST(Duplicates, TheReportReadsBackAndEachGroupResolvesInOneEdit) {
  EmbedProject p;
  const auto copied = test::readFile(p.files[0]);  // train, category 0
  const fs::path leaked = p.project / "images" / "leaked.png";
  test::writeFile(leaked, copied);
  project::Catalog catalog(p.project, false);
  catalog.insertImages(
      {{leaked, image::contentHash(copied), 64, 64, "PNG", static_cast<std::int64_t>(copied.size()),
        test::fourCategories()[2], project::Split::Test, "test"}});
  embed(p.settings());
  DuplicateSettings settings;
  settings.project = p.project;
  settings.checkpointDir = p.run;
  settings.threshold = 0.0;
  settings.reportDir = p.dir / "reports";
  const auto report = findDuplicates(settings);
  ASSERT_EQ(report.groups.size(), 1u);
  const auto groups = readDuplicateGroups(report.duplicatesCsv);
  ASSERT_EQ(groups.size(), 1u);
  const auto& group = groups[0];
  ASSERT_EQ(group.members.size(), 2u);
  EXPECT_TRUE(group.exact);
  EXPECT_TRUE(group.crossesSplits);
  EXPECT_TRUE(group.conflictingLabels);
  EXPECT_EQ(group.members[1].path, leaked);
  EXPECT_EQ(group.members[1].split, project::Split::Test);
  EXPECT_EQ(group.members[0].imageId, report.groups[0].members[0].imageId);
  EXPECT_EQ(readDuplicateGroups(report.leakageCsv).size(), 1u);

  const auto original = group.members[0].imageId;
  const auto copy = group.members[1].imageId;
  EXPECT_THROW(resolutionChanges(catalog, group, 999, Resolution::Split), core::Error);
  ASSERT_NE(catalog.changeImages(resolutionChanges(catalog, group, original, Resolution::Split),
                                 "resolve-duplicates"),
            0);
  EXPECT_EQ(catalog.image(copy)->split, project::Split::Train);
  EXPECT_NE(catalog.image(copy)->categoryId, catalog.image(original)->categoryId);
  ASSERT_NE(catalog.changeImages(resolutionChanges(catalog, group, original, Resolution::Category),
                                 "resolve-duplicates"),
            0);
  EXPECT_EQ(catalog.image(copy)->categoryId, catalog.image(original)->categoryId);
  ASSERT_TRUE(catalog.undo());
  ASSERT_TRUE(catalog.undo());
  EXPECT_EQ(catalog.image(copy)->split, project::Split::Test);
  // Keeping the copy instead: the original takes the test split and the copy's category at once.
  ASSERT_NE(
      catalog.changeImages(resolutionChanges(catalog, group, copy, Resolution::SplitAndCategory),
                           "resolve-duplicates"),
      0);
  EXPECT_EQ(catalog.image(original)->split, project::Split::Test);
  EXPECT_EQ(catalog.image(original)->categoryId, catalog.image(copy)->categoryId);
  EXPECT_EQ(catalog.nextEdit(false)->images, 1);

  // A damaged report names its file and line.
  test::writeFile(p.dir / "bad.csv",
                  "group,kind,image_id,image,category,split,distance,hash\n1,near,5,a.png,A,"
                  "holiday,0.1,h\n");
  try {
    readDuplicateGroups(p.dir / "bad.csv");
    ADD_FAILURE() << "a bad split was read";
  } catch (const core::Error& error) {
    EXPECT_NE(std::string(error.what()).find("bad.csv: line 2: split \"holiday\""),
              std::string::npos)
        << error.what();
  }
  test::writeFile(p.dir / "other.csv", "path,label\na.png,A\n");
  EXPECT_THROW(readDuplicateGroups(p.dir / "other.csv"), core::Error);
}

// Rows in 40 tight clusters of 32 floats: every row has close neighbours and far ones.
std::vector<std::vector<float>> clusteredRows(int count, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<std::vector<float>> centres(40, std::vector<float>(32));
  std::mt19937 centreRng(99);
  for (auto& c : centres) {
    for (auto& x : c) {
      x = std::abs(normal(centreRng));
    }
  }
  std::vector<std::vector<float>> rows;
  for (int i = 0; i < count; ++i) {
    auto row = centres[static_cast<std::size_t>(rng() % 40)];
    for (auto& x : row) {
      x = std::max(0.f, x + 0.15f * normal(rng));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

TEST(EmbeddingStore, TheGraphIndexAgreesWithExactSearchGrowsAndIsCheckedBeforeUse) {
  test::TempDir dir;
  const auto store = dir / "store";
  EmbeddingWriter writer(store, {"/runs/a", 1, 32, 0});
  auto rows = clusteredRows(3000, 1);
  std::vector<std::int64_t> ids(rows.size());
  std::iota(ids.begin(), ids.end(), 1000);
  writer.append(ids, rows);
  std::int64_t lastDone = 0;
  EXPECT_EQ(writer.updateIndex([&](const core::Progress& p) { lastDone = p.done; }), 3000);
  EXPECT_EQ(lastDone, 3000);
  EXPECT_EQ(writer.meta().indexRows, 3000);
  EXPECT_EQ(writer.updateIndex(), 0);  // nothing new
  {
    const EmbeddingStore reader(store);
    EXPECT_TRUE(reader.indexed());
    double agree = 0;
    for (int q = 0; q < 50; ++q) {
      const auto query = reader.row(q * 37);
      const auto fast = reader.nearest(query, 12);
      const auto exact = reader.nearest(query, 12, std::nullopt, /*exact=*/true);
      ASSERT_EQ(fast.size(), 12u);
      EXPECT_EQ(fast[0].imageId, 1000 + q * 37);  // itself, at distance 0
      EXPECT_LT(fast[0].distance, 1e-3);
      int common = 0;
      for (const auto& a : fast) {
        for (const auto& b : exact) {
          common += a.imageId == b.imageId;
        }
      }
      agree += common / 12.0;
      const auto without = reader.nearest(query, 12, 1000 + q * 37);
      for (const auto& n : without) {
        EXPECT_NE(n.imageId, 1000 + q * 37);
      }
    }
    EXPECT_GE(agree / 50, 0.9);
    EXPECT_TRUE(reader.indexProblem().empty());
  }
  // Rows committed after the index are found by the exact scan of the tail, then indexed.
  const auto more = clusteredRows(200, 2);
  std::vector<std::int64_t> moreIds(more.size());
  std::iota(moreIds.begin(), moreIds.end(), 9000);
  writer.append(moreIds, more);
  {
    const EmbeddingStore reader(store);
    EXPECT_EQ(reader.meta().indexRows, 3000);
    EXPECT_EQ(reader.nearest(more[17], 3)[0].imageId, 9017);
  }
  EXPECT_EQ(writer.updateIndex(), 200);
  {
    const EmbeddingStore reader(store);
    EXPECT_EQ(reader.meta().indexRows, 3200);
    EXPECT_EQ(reader.nearest(more[17], 3)[0].imageId, 9017);
  }
  // A damaged index file: readers search without it and say why; the writer refuses to extend
  // it, naming it.
  {
    std::fstream file(store / "hnsw.bin", std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(5000);
    file.write("damage", 6);
  }
  {
    const EmbeddingStore reader(store);
    EXPECT_EQ(reader.nearest(more[17], 3)[0].imageId, 9017);
    EXPECT_NE(reader.indexProblem().find("hnsw.bin"), std::string::npos) << reader.indexProblem();
  }
  writer.append({99999}, {more[0]});
  try {
    writer.updateIndex();
    ADD_FAILURE() << "a damaged index was extended";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("hnsw.bin"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace taxon::similar
