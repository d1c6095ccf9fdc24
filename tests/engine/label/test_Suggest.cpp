// A real checkpoint's suggestions for a real project's unlabeled images: stored with the
// classifier's own scores, incremental, kept when stopped, over every image on request, and
// refused (naming each category) after the project's categories changed.
#include "label/Suggest.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "../eval/TinyModel.hpp"
#include "core/Error.hpp"
#include "image/ImageCheck.hpp"
#include "project/Catalog.hpp"

namespace taxon::label {
namespace {

namespace fs = std::filesystem;

// DIR/project: the four categories' first image each labeled, the other `count` - 4 unlabeled
// (the PNGs of a record set), and DIR/run, a checkpoint for the four categories.
struct SuggestProject {
  test::TempDir dir;
  fs::path project = dir / "project";
  fs::path run = dir / "run";
  std::vector<fs::path> unlabeled;

  explicit SuggestProject(int count = 12) {
    test::writeRecordSet(dir / "records", count);
    test::writeRandomCheckpoint(run, dir / "records", 42, "train");
    project::Catalog catalog(project, /*create=*/true);
    std::vector<project::NewImage> images;
    int i = 0;
    for (const auto& example : test::readExamples(dir / "records" / "train-00000-of-00001")) {
      const fs::path file = project / "images" / example.filename;
      test::writeFile(file, example.encoded);
      const bool labeled = i < 4;
      images.push_back({file, image::contentHash(example.encoded), 64, 64, "PNG",
                        static_cast<std::int64_t>(example.encoded.size()),
                        labeled ? example.text : "", project::Split::Train, "test"});
      if (!labeled) {
        unlabeled.push_back(file);
      }
      ++i;
    }
    catalog.insertImages(images);
  }

  SuggestSettings settings() const {
    SuggestSettings s;
    s.project = project;
    s.checkpointDir = run;
    s.chunk = 3;
    s.classifier.batchSize = 2;
    s.classifier.decodeThreads = 2;
    return s;
  }
};

TEST(Suggest, StoresEachUnlabeledImagesTopWithTheClassifiersScores) {
  SuggestProject p;
  std::int64_t lastDone = 0;
  const auto report = suggest(p.settings(), [&](const core::Progress& progress) {
    EXPECT_EQ(progress.total, 8);
    lastDone = std::max(lastDone, progress.done);
  });
  EXPECT_EQ(report.run, fs::absolute(p.run).lexically_normal().string());
  EXPECT_EQ(report.step, 42);
  EXPECT_EQ(report.considered, 8);
  EXPECT_EQ(report.alreadyDone, 0);
  EXPECT_EQ(report.suggested, 8);
  EXPECT_TRUE(report.failed.empty());
  EXPECT_EQ(lastDone, 8);

  infer::ClassifierSettings classifierSettings;
  classifierSettings.batchSize = 2;
  infer::Classifier classifier(p.run, classifierSettings);
  const auto expected = classifier.classifyFiles(p.unlabeled, 4);
  project::Catalog catalog(p.project, /*create=*/false);
  for (std::size_t i = 0; i < p.unlabeled.size(); ++i) {
    const auto image = catalog.imageByPath(p.unlabeled[i]);
    ASSERT_TRUE(image);
    const auto s = catalog.suggestion(image->id);
    ASSERT_TRUE(s) << p.unlabeled[i];
    EXPECT_EQ(s->run, report.run);
    EXPECT_EQ(s->step, 42);
    const auto& top = expected[i].top;
    ASSERT_EQ(s->top.size(), 4u);  // all four categories (five are kept where there are more)
    double entropy = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      EXPECT_EQ(catalog.category(s->top[k].first)->path, top[k].name);
      EXPECT_NEAR(s->top[k].second, top[k].score, 1e-5);
      entropy -= top[k].score * std::log(top[k].score);
    }
    EXPECT_NEAR(s->margin, top[0].score - top[1].score, 1e-5);
    EXPECT_NEAR(s->entropy, entropy, 1e-4);
    // Two sneaker departments leading without a sure winner roll up into "Shoes > Sneakers".
    const bool sneakers = top[0].name.ends_with("Shoes > Sneakers") &&
                          top[1].name.ends_with("Shoes > Sneakers") && top[0].score < 0.5 &&
                          top[0].score + top[1].score >= 0.5;
    EXPECT_EQ(s->rollup.empty(), !sneakers) << s->rollup;
  }
  // The labeled ones have none.
  for (const auto& image : catalog.images()) {
    EXPECT_EQ(catalog.suggestion(image.id).has_value(), image.categoryId == 0) << image.path;
  }
}

TEST(Suggest, IsIncrementalAndKeepsWhatWasStoredBeforeAStop) {
  SuggestProject p;
  // Stopped after the first chunk of three: those three are kept.
  std::stop_source stop;
  auto settings = p.settings();
  const auto first = suggest(
      settings,
      [&](const core::Progress& progress) {
        if (progress.done >= 3) {
          stop.request_stop();
        }
      },
      stop.get_token());
  EXPECT_TRUE(first.cancelled);
  EXPECT_EQ(first.suggested, 3);
  // Run again: only the rest.
  const auto second = suggest(settings);
  EXPECT_FALSE(second.cancelled);
  EXPECT_EQ(second.alreadyDone, 3);
  EXPECT_EQ(second.suggested, 5);
  // And again: nothing to do.
  const auto third = suggest(settings);
  EXPECT_EQ(third.alreadyDone, 8);
  EXPECT_EQ(third.suggested, 0);
  // Every image, labeled ones too: only the four labeled ones are new.
  settings.unlabeledOnly = false;
  const auto all = suggest(settings);
  EXPECT_EQ(all.considered, 12);
  EXPECT_EQ(all.alreadyDone, 8);
  EXPECT_EQ(all.suggested, 4);
}

TEST(Suggest, RefusesACheckpointWhoseCategoriesChangedNamingEach) {
  SuggestProject p;
  {
    project::Catalog catalog(p.project, /*create=*/false);
    catalog.renameCategory(catalog.findCategory("Women > Bags")->id, "Women > Handbags");
    catalog.mergeCategories(catalog.findCategory("Other")->id,
                            catalog.findCategory("Women > Handbags")->id);
  }
  try {
    suggest(p.settings());
    FAIL() << "a checkpoint with renamed and merged categories was used";
  } catch (const core::Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("model.ckpt-42.taxon"), std::string::npos) << message;
    EXPECT_NE(message.find("2 of 4 changed"), std::string::npos) << message;
    EXPECT_NE(message.find("\"Women > Bags\" was renamed to \"Women > Handbags\""),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("\"Other\" was merged into \"Women > Handbags\""), std::string::npos)
        << message;
  }
  project::Catalog catalog(p.project, /*create=*/false);
  EXPECT_EQ(catalog.suggestionCount({}), 0);  // nothing stored
  // Undone, the checkpoint fits again.
  ASSERT_TRUE(catalog.undo());
  ASSERT_TRUE(catalog.undo());
  EXPECT_EQ(suggest(p.settings()).suggested, 8);
}

TEST(Suggest, InvalidSettingsAreListedTogether) {
  SuggestSettings settings;
  settings.chunk = 0;
  settings.confident = 0;
  const auto problems = settings.validate();
  EXPECT_EQ(problems.size(), 4u);  // project, checkpoint_dir, chunk, confident
  EXPECT_THROW(suggest(settings), core::UsageError);
}

}  // namespace
}  // namespace taxon::label
