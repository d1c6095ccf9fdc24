// Review of a real model's suggestions on real Fashion-MNIST pictures: a tiny model trained in
// initTestCase on the UI test project, `taxon suggest`'s engine over 24 unlabeled pictures, then
// the review keys (1-5, Enter, M, S, Ctrl+Z) with prefetch and the latency of each decision, bulk
// accept with its preview, the disagreements queue, and the grid's suggested listing.
#include <QApplication>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QListWidget>
#include <QTest>
#include <QTimer>
#include <QTreeView>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>

#include "TrainTestData.hpp"
#include "UiTestProject.hpp"
#include "UiTestSupport.hpp"
#include "common/CategoryPickerDialog.hpp"
#include "common/ProjectSession.hpp"
#include "common/Thumbnails.hpp"
#include "label/Pick.hpp"
#include "label/Suggest.hpp"
#include "labeling/AcceptDialog.hpp"
#include "labeling/CategoryTreeModel.hpp"
#include "labeling/DataPage.hpp"
#include "labeling/ImageGridModel.hpp"
#include "labeling/ReviewDialog.hpp"
#include "project/Catalog.hpp"
#include "similar/Embed.hpp"
#include "train/Trainer.hpp"

using taxon::ui::ReviewDialog;
using taxon::ui::ReviewQueue;

namespace {

namespace fs = std::filesystem;

QString qpath(const fs::path& path) {
  return QString::fromStdString(path.string());
}

}  // namespace

class TestReview : public QObject {
  Q_OBJECT

  std::unique_ptr<taxon::test::TempDir> temp_;
  fs::path project_;
  fs::path run_;

  // The category the catalog gives an image now ("" when unlabeled).
  QString labelOf(taxon::ui::ProjectSession& session, std::int64_t imageId) {
    const auto image = session.catalog()->image(imageId);
    if (!image || image->categoryId == 0) {
      return {};
    }
    return QString::fromStdString(session.catalog()->category(image->categoryId)->path);
  }

 private Q_SLOTS:
  void initTestCase() {
    temp_ = std::make_unique<taxon::test::TempDir>();
    project_ = temp_->path() / "project";
    run_ = temp_->path() / "run";
    taxon::test::makeUiTestProject(project_, 12, /*records=*/true);
    auto settings = taxon::test::tinyRun(run_, project_ / "records");
    // Sure of some pictures (0.9), unsure of others. Without label smoothing: the recipe's 0.1
    // makes 0.925 the most a 4-category model is trained towards, and whether 150 steps reach 0.9
    // on any picture then depends on the CPU's kernels (none did on an AMD EPYC).
    settings.maxSteps = 150;
    settings.labelSmoothing = 0.0;
    QCOMPARE(taxon::train::train(settings, false, {}).step, settings.maxSteps);
    taxon::test::addUnlabeledPictures(project_, 6);
    taxon::label::SuggestSettings suggest;
    suggest.project = project_;
    suggest.checkpointDir = run_;
    suggest.unlabeledOnly = false;  // the labeled ones too, for the disagreements
    const auto report = taxon::label::suggest(suggest);
    QCOMPARE(report.suggested, 48 + 24);
  }

  void reviewKeysLabelSkipAndUndo() {
    taxon::ui::ProjectSession session;
    QVERIFY(session.open(qpath(project_), false));
    ReviewDialog review(&session, ReviewQueue::Kind::Unlabeled);
    review.show();
    QVERIFY(QTest::qWaitForWindowExposed(&review));
    ReviewQueue* queue = review.queue();
    QCOMPARE(queue->remaining(), 24);
    // Least sure first: margins never decrease down the queue.
    double lastMargin = -1;
    for (int step = 0; queue->ahead(step) != nullptr; ++step) {
      const auto& top = queue->ahead(step)->top;
      QCOMPARE(static_cast<int>(top.size()), 4);  // all four categories (five kept at most)
      const double margin = top[0].second - top[1].second;
      QVERIFY(margin >= lastMargin - 1e-9);
      lastMargin = margin;
    }
    // The next images are decoded ahead while the first is looked at.
    QTRY_VERIFY(review.isPrefetched(queue->ahead(1)->imageId));
    taxon::test::saveScreenshot(&review, QStringLiteral("review"));

    // 1: the first suggestion.
    const auto first = *queue->current();
    QTest::keyClick(&review, Qt::Key_1);
    QCOMPARE(labelOf(session, first.imageId), first.top[0].first);
    // Enter: the first suggestion too.
    const auto second = *queue->current();
    QVERIFY(second.imageId != first.imageId);
    QTest::keyClick(&review, Qt::Key_Return);
    QCOMPARE(labelOf(session, second.imageId), second.top[0].first);
    // 3: the third.
    const auto third = *queue->current();
    QTest::keyClick(&review, Qt::Key_3);
    QCOMPARE(labelOf(session, third.imageId), third.top[2].first);
    // S: left unlabeled, and the next one is current.
    const auto skipped = *queue->current();
    QTest::keyClick(&review, Qt::Key_S);
    QCOMPARE(labelOf(session, skipped.imageId), QString());
    QVERIFY(queue->current()->imageId != skipped.imageId);
    // Ctrl+Z: the latest decision (the third image) is undone and its image current again.
    QTest::keyClick(&review, Qt::Key_Z, Qt::ControlModifier);
    QCOMPARE(labelOf(session, third.imageId), QString());
    QCOMPARE(queue->current()->imageId, third.imageId);
    QCOMPARE(queue->decided(), 2);
    // M: the picker, for a category the model did not put first.
    bool picked = false;
    taxon::test::answerCategoryPicker(this, QStringLiteral("shirt"), &picked);
    QTest::keyClick(&review, Qt::Key_M);
    QVERIFY(picked);
    QCOMPARE(labelOf(session, third.imageId), QStringLiteral("Tops > Shirt"));
    QCOMPARE(queue->decided(), 3);
    // Every decision's latency is measured: 1, Enter, 3, S, Ctrl+Z, M.
    QCOMPARE(static_cast<int>(review.latencies().size()), 6);
    // Put the project back as it was for the other tests.
    for (int i = 0; i < 3; ++i) {
      QVERIFY(session.undo());
    }
    QCOMPARE(session.catalog()->imageCount(taxon::project::kUnlabeled), 24);
  }

  // A person working through the queue at a steady pace: every image is ready when its turn
  // comes, and the app's own time per decision is what the status line shows.
  void reviewLatencyPerDecision() {
    taxon::ui::ProjectSession session;
    QVERIFY(session.open(qpath(project_), false));
    taxon::ui::DataPage page(&session);  // listening to every edit, as in the app
    page.resize(1100, 700);
    page.show();
    ReviewDialog review(&session, ReviewQueue::Kind::Unlabeled);
    review.show();
    QVERIFY(QTest::qWaitForWindowExposed(&review));
    for (int decision = 0; decision < 20; ++decision) {
      // The next image is ready before the key is pressed, as it is for a person looking at the
      // current one for a second or two.
      QTRY_VERIFY(review.queue()->ahead(1) == nullptr ||
                  review.isPrefetched(review.queue()->ahead(1)->imageId));
      QTest::keyClick(&review, Qt::Key_Return);
    }
    QCOMPARE(review.queue()->decided(), 20);
    QCOMPARE(review.prefetchMisses(), 0);
    std::vector<double> latencies = review.latencies();
    std::sort(latencies.begin(), latencies.end());
    qInfo("review: %zu decisions, latency per decision: median %.1f ms, worst %.1f ms",
          latencies.size(), latencies[latencies.size() / 2], latencies.back());
    QVERIFY(review.findChild<QLabel*>(QStringLiteral("reviewStatus"))
                ->text()
                .contains(QStringLiteral("ms per decision")));
    taxon::test::saveScreenshot(&review, QStringLiteral("review-after-20"));
    for (int i = 0; i < 20; ++i) {  // 20 edits: one undo each
      QVERIFY(session.undo());
    }
    QCOMPARE(session.catalog()->imageCount(taxon::project::kUnlabeled), 24);
  }

  void bulkAcceptPreviewsThenLabelsInOneEdit() {
    taxon::ui::ProjectSession session;
    QVERIFY(session.open(qpath(project_), false));
    taxon::ui::AcceptDialog accept(&session, {}, QString());
    accept.setMinScore(0.0);
    QCOMPARE(accept.previewCount(), 24);
    accept.setMinScore(1.0);  // scores that round to 1 in float (a sure model has some)
    taxon::project::SuggestionQuery certain;
    certain.minScore = 1.0;
    QCOMPARE(accept.previewCount(), session.catalog()->suggestionCount(certain));
    const auto certainCount = accept.previewCount();
    accept.setMinScore(0.5);
    const auto sure = accept.previewCount();
    QVERIFY(sure >= certainCount);
    taxon::project::SuggestionQuery query;
    query.minScore = 0.5;
    QCOMPARE(sure, session.catalog()->suggestionCount(query));
    accept.show();
    QVERIFY(QTest::qWaitForWindowExposed(&accept));
    taxon::test::saveScreenshot(&accept, QStringLiteral("review-accept"));
    if (sure > 0) {
      QCOMPARE(accept.acceptNow(), sure);
      QCOMPARE(session.catalog()->imageCount(taxon::project::kUnlabeled), 24 - sure);
      QVERIFY(session.undo());  // one edit
    }
    QCOMPARE(session.catalog()->imageCount(taxon::project::kUnlabeled), 24);
  }

  // The images active learning picked, in the order picked; labeled ones leave the queue.
  void labelNextQueueFollowsThePick() {
    taxon::ui::ProjectSession session;
    QVERIFY(session.open(qpath(project_), false));
    taxon::label::PickSettings pick;
    pick.count = 5;
    pick.strategy = taxon::label::PickStrategy::Diverse;
    const auto ids = taxon::label::pickToLabel(*session.catalog(), pick);
    QCOMPARE(static_cast<int>(ids.size()), 5);
    ReviewDialog review(&session, ReviewQueue::Kind::LabelNext);
    review.show();
    QVERIFY(QTest::qWaitForWindowExposed(&review));
    QCOMPARE(review.queue()->remaining(), 5);
    for (int step = 0; step < 5; ++step) {
      QCOMPARE(review.queue()->ahead(step)->imageId, ids[static_cast<std::size_t>(step)]);
    }
    QTest::keyClick(&review, Qt::Key_Return);
    QCOMPARE(review.queue()->remaining(), 4);
    QCOMPARE(session.catalog()->picked().size(), 4u);
    taxon::test::saveScreenshot(&review, QStringLiteral("review-label-next"));
    QVERIFY(session.undo());
    QCOMPARE(session.catalog()->picked().size(), 5u);
  }

  // Labeled images the model contradicts: every one listed has another top category, scored at
  // least 0.9. One made on purpose: a picture the model is sure of, given another label.
  void disagreementsQueue() {
    taxon::ui::ProjectSession session;
    QVERIFY(session.open(qpath(project_), false));
    taxon::project::SuggestionQuery query;
    query.subset = taxon::project::SuggestionQuery::Subset::All;
    query.minScore = ReviewQueue::kDisagreementScore;
    const auto sure = session.catalog()->suggestions(query);
    std::int64_t planted = 0;
    for (const auto& s : sure) {
      const auto image = session.catalog()->image(s.imageId);
      if (image->categoryId == s.categoryId()) {
        planted = s.imageId;
        const QString other = s.categoryId() == session.catalog()->findCategory("Bags > Bag")->id
                                  ? QStringLiteral("Tops > Shirt")
                                  : QStringLiteral("Bags > Bag");
        QVERIFY(session.relabel({planted}, other));
        break;
      }
    }
    QVERIFY2(planted != 0, "the tiny model is sure (0.9) of none of its training pictures");
    ReviewDialog review(&session, ReviewQueue::Kind::Disagreements);
    review.show();
    QVERIFY(QTest::qWaitForWindowExposed(&review));
    bool found = false;
    for (int step = 0; review.queue()->ahead(step) != nullptr; ++step) {
      const auto* item = review.queue()->ahead(step);
      QVERIFY(!item->label.isEmpty());
      QVERIFY(item->label != item->top[0].first);
      QVERIFY(item->top[0].second >= ReviewQueue::kDisagreementScore);
      found = found || item->imageId == planted;
    }
    QVERIFY(found);
    taxon::test::saveScreenshot(&review, QStringLiteral("review-disagreements"));
    QVERIFY(session.undo());
  }

  // The Data page lists the unlabeled images suggested for a node, surest first, each with its
  // suggestion under its name.
  void gridListsWhatIsSuggestedForANode() {
    taxon::ui::ProjectSession session;
    taxon::ui::DataPage page(&session);
    page.resize(1100, 700);
    page.show();
    QVERIFY(QTest::qWaitForWindowExposed(&page));
    QVERIFY(session.open(qpath(project_), false));
    QVERIFY(page.selectCategory(QStringLiteral("Shoes")));
    page.setListing(taxon::ui::DataPage::Listing::SurestFirst);
    auto* grid = page.imageModel();
    taxon::project::SuggestionQuery query;
    for (const char* path : {"Shoes > Sandal", "Shoes > Sneaker"}) {
      query.categoryIds.push_back(session.catalog()->findCategory(path)->id);
    }
    QCOMPARE(grid->totalRows(), session.catalog()->suggestionCount(query));
    QTRY_COMPARE(static_cast<std::int64_t>(grid->rowCount()), grid->totalRows());
    double last = 2.0;
    for (int row = 0; row < grid->rowCount(); ++row) {
      const QString suggestion = grid->index(row).data(ImageGridModelRole()).toString();
      QVERIFY2(suggestion.startsWith(QStringLiteral("Shoes > ")), qPrintable(suggestion));
      const double score = suggestion.section(QLatin1Char(' '), -1).toDouble();
      QVERIFY(score <= last + 1e-9);
      last = score;
      QVERIFY(grid->index(row).data(Qt::DisplayRole).toString().contains(suggestion));
    }
    taxon::test::saveScreenshot(&page, QStringLiteral("data-page-suggested"));

    // Least sure first, filtered by margin: every listed margin within the bound, ascending,
    // and as many as the catalog counts.
    auto* bound = page.findChild<QDoubleSpinBox*>(QStringLiteral("bound"));
    QVERIFY(bound);
    // The bound: the median margin rounded down to the box's two decimals, so about half pass.
    auto byMargin = query;
    byMargin.order = taxon::project::SuggestionQuery::Order::Margin;
    byMargin.ascending = true;
    const auto sorted = session.catalog()->suggestions(byMargin);
    QVERIFY(sorted.size() >= 4);
    const double median = std::floor(sorted[sorted.size() / 2].margin * 100.0) / 100.0;
    page.setListing(taxon::ui::DataPage::Listing::LeastSureFirst, 0.0, median);
    QTRY_VERIFY(bound->isVisible());  // the toolbar lays out on its next event
    QVERIFY(bound->prefix().contains(QStringLiteral("margin")));
    QCOMPARE(bound->value(), median);
    query.maxMargin = median;
    QCOMPARE(grid->totalRows(), session.catalog()->suggestionCount(query));
    QVERIFY(grid->totalRows() < static_cast<std::int64_t>(sorted.size()));
    QTRY_COMPARE(static_cast<std::int64_t>(grid->rowCount()), grid->totalRows());
    double lastMargin = -1.0;
    for (int row = 0; row < grid->rowCount(); ++row) {
      const auto id = grid->index(row).data(taxon::ui::ImageGridModel::kImageIdRole).toLongLong();
      const auto suggestion = session.catalog()->suggestion(id);
      QVERIFY(suggestion && suggestion->margin <= median && suggestion->margin >= lastMargin);
      lastMargin = suggestion->margin;
    }
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
          for (int row = 0; row < grid->rowCount(); ++row) {
            const QModelIndex index = grid->index(row);
            index.data(Qt::DecorationRole);  // asks for it, as the view does when it paints
            if (!page.thumbnails()->cached(
                    index.data(taxon::ui::ImageGridModel::kFileRole).toString())) {
              return false;
            }
          }
          return true;
        }(),
        20000);
    QTest::qWait(100);  // the view repaints with them
    taxon::test::saveScreenshot(&page, QStringLiteral("data-page-margin"));
    // Typing a bound into the box filters as well.
    bound->setValue(1.0);
    QCOMPARE(grid->totalRows(), static_cast<std::int64_t>(sorted.size()));
    bound->setValue(median);
    QCOMPARE(grid->totalRows(), session.catalog()->suggestionCount(query));
    query.maxMargin = 1.0;
    // Most uncertain first, filtered by entropy; the margin's bound is kept for its listing.
    page.setListing(taxon::ui::DataPage::Listing::MostUncertainFirst, 0.0, 0.5);
    QVERIFY(bound->prefix().contains(QStringLiteral("entropy")));
    query.minEntropy = 0.5;
    QCOMPARE(grid->totalRows(), session.catalog()->suggestionCount(query));
    page.setListing(taxon::ui::DataPage::Listing::LeastSureFirst);
    QCOMPARE(bound->value(), median);
    page.setListing(taxon::ui::DataPage::Listing::SurestFirst);
    QTRY_VERIFY(!bound->isVisible());
    // Back to the node's own images.
    page.setListing(taxon::ui::DataPage::Listing::Images);
    QCOMPARE(grid->totalRows(), 24);
  }

  // The current image's similar images under the preview: before `taxon embed` the panel names
  // the command; after it, the 12 nearest other images of the project, nearest first, with
  // their thumbnails, category, split and distance.
  void currentImagesSimilarImagesAreShown() {
    taxon::ui::ProjectSession session;
    taxon::ui::DataPage page(&session);
    page.resize(1100, 800);
    page.show();
    QVERIFY(QTest::qWaitForWindowExposed(&page));
    QVERIFY(session.open(qpath(project_), false));
    QVERIFY(page.selectCategory(QStringLiteral("Shoes > Sneaker")));
    auto* grid = page.imageModel();
    QTRY_VERIFY(grid->rowCount() > 2);
    page.gridView()->setCurrentIndex(grid->index(0));
    QVERIFY2(page.similarNote().contains(QStringLiteral("taxon embed")),
             qPrintable(page.similarNote()));
    QCOMPARE(page.similarList()->count(), 0);

    taxon::similar::EmbedSettings embed;
    embed.project = project_;
    embed.checkpointDir = run_;
    QCOMPARE(taxon::similar::embed(embed).embedded, 48 + 24);
    page.gridView()->setCurrentIndex(grid->index(1));
    const QString file = grid->index(1).data(taxon::ui::ImageGridModel::kFileRole).toString();
    auto* list = page.similarList();
    QCOMPARE(list->count(), 12);
    QVERIFY2(page.similarNote().contains(QStringLiteral("Nearest first")),
             qPrintable(page.similarNote()));
    int shoes = 0, labeled = 0;
    double last = -1.0;
    for (int i = 0; i < list->count(); ++i) {
      const auto* item = list->item(i);
      QVERIFY(item->data(Qt::UserRole).toString() != file);  // not its own neighbour
      bool number = false;
      const double distance = item->text().section(QLatin1Char('\n'), -1).toDouble(&number);
      QVERIFY2(number, qPrintable(item->text()));  // category, split, distance
      QVERIFY2(distance >= last - 1e-9, qPrintable(item->text()));
      last = distance;
      if (!item->text().startsWith(QStringLiteral("(unlabeled)"))) {
        ++labeled;
        shoes += item->toolTip().contains(QStringLiteral("Shoes > "));
      }
    }
    // The trained model's features put a sneaker among shoes.
    QVERIFY2(shoes * 2 > labeled, qPrintable(QStringLiteral("%1 of %2").arg(shoes).arg(labeled)));
    QTRY_VERIFY([&] {
      for (int i = 0; i < list->count(); ++i) {
        if (list->item(i)->icon().isNull()) {
          return false;
        }
      }
      return true;
    }());
    taxon::test::saveScreenshot(&page, QStringLiteral("data-page-similar"));
  }

 private:
  static int ImageGridModelRole() { return taxon::ui::ImageGridModel::kSuggestionRole; }
};

QTEST_MAIN(TestReview)
#include "test_Review.moc"
