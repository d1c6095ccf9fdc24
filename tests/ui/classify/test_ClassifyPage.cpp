#include <QAbstractButton>
#include <QApplication>
#include <QBuffer>
#include <QClipboard>
#include <QComboBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QImage>
#include <QLabel>
#include <QListView>
#include <QListWidget>
#include <QMimeData>
#include <QPalette>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTest>
#include <QUrl>
#include <algorithm>
#include <filesystem>
#include <memory>

#include "TrainTestData.hpp"
#include "UiTestProject.hpp"
#include "UiTestSupport.hpp"
#include "checkpoint/CheckpointFiles.hpp"
#include "classify/ClassifyJob.hpp"
#include "classify/ClassifyPage.hpp"
#include "classify/PredictionModel.hpp"
#include "classify/ScoreBarDelegate.hpp"
#include "common/WhyPanel.hpp"
#include "similar/Embed.hpp"
#include "train/Trainer.hpp"

namespace fs = std::filesystem;
using taxon::ui::ClassifyPage;
using taxon::ui::PredictionModel;

namespace {

constexpr int kTimeoutMs = 60000;
constexpr int kFirstSteps = 4;

QString qpath(const fs::path& path) {
  return QString::fromStdString(path.string());
}

bool isCategory(const QString& name) {
  for (const auto& category : taxon::test::uiTestCategories()) {
    if (name == QString::fromStdString(category)) {
      return true;
    }
  }
  return false;
}

}  // namespace

class TestClassifyPage : public QObject {
  Q_OBJECT

 private:
  std::unique_ptr<taxon::test::TempDir> temp_;
  fs::path project_;
  fs::path trainDir_;
  QStringList images_;  // real images of the project, two categories

  // Checks a classified row: every category ranked (the project has 4, fewer than 5), best
  // first, scores summing to at most 1, full category paths.
  void checkRanked(int row) {
    const auto& result = model_->result(row);
    QVERIFY2(result.error.isEmpty(), qPrintable(result.error));
    QCOMPARE(result.top.size(), 4);
    double sum = 0.0;
    for (qsizetype i = 0; i < result.top.size(); ++i) {
      QVERIFY2(isCategory(result.top[i].name), qPrintable(result.top[i].name));
      QVERIFY(result.top[i].name.contains(QStringLiteral(" > ")));
      QVERIFY(result.top[i].score >= 0.0);
      if (i > 0) {
        QVERIFY(result.top[i].score <= result.top[i - 1].score);
      }
      sum += result.top[i].score;
    }
    QVERIFY(sum <= 1.0 + 1e-5);
    QVERIFY(sum > 0.99);  // all 4 categories: the whole distribution
    const auto index = model_->index(row);
    QCOMPARE(model_->data(index, PredictionModel::CategoriesRole).toStringList().size(), 4);
    QVERIFY(!model_->data(index, Qt::DecorationRole).value<QImage>().isNull());
  }
  PredictionModel* model_ = nullptr;

 private Q_SLOTS:
  void initTestCase() {
    temp_ = std::make_unique<taxon::test::TempDir>();
    project_ = temp_->path() / "project";
    taxon::test::makeUiTestProject(project_, 6, /*records=*/true);
    trainDir_ = temp_->path() / "run";
    auto settings = taxon::test::tinyRun(trainDir_, project_ / "records");
    settings.maxSteps = kFirstSteps;
    const auto result = taxon::train::train(settings, false, {});
    QCOMPARE(result.step, kFirstSteps);
    QVERIFY(fs::exists(result.lastCheckpoint));
    images_ = {qpath(project_ / "source" / "Bags" / "Bag" / "000.png"),
               qpath(project_ / "source" / "Shoes" / "Sneaker" / "001.png")};
    for (const auto& image : images_) {
      QVERIFY2(QFileInfo::exists(image), qPrintable(image));
    }
  }

  void predictionModelWithoutAWindow() {
    PredictionModel model;
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    taxon::ui::ImageResult good;
    good.path = QStringLiteral("/images/a.png");
    good.top = {{QStringLiteral("Shoes > Sneaker"), 0.7}, {QStringLiteral("Bags > Bag"), 0.2}};
    taxon::ui::ImageResult bad;
    bad.path = QStringLiteral("/images/b.png");
    bad.error = QStringLiteral("/images/b.png: cannot be decoded");
    model.append({good, bad});
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.data(model.index(0), Qt::DisplayRole).toString(), QStringLiteral("a.png"));
    QCOMPARE(model.data(model.index(0), PredictionModel::PathRole).toString(), good.path);
    QCOMPARE(model.data(model.index(0), PredictionModel::CategoriesRole).toStringList(),
             QStringList({QStringLiteral("Shoes > Sneaker"), QStringLiteral("Bags > Bag")}));
    QCOMPARE(model.data(model.index(0), PredictionModel::ScoresRole).toList().value(0).toDouble(),
             0.7);
    QVERIFY(model.data(model.index(0), Qt::ToolTipRole)
                .toString()
                .contains(QStringLiteral("0.700  Shoes > Sneaker")));
    QCOMPARE(model.data(model.index(1), PredictionModel::ErrorRole).toString(), bad.error);

    // The delegate sizes rows from the font: 2 bars, or the error.
    taxon::ui::ScoreBarDelegate delegate;
    QStyleOptionViewItem option;
    option.font = QApplication::font();
    const QSize two = delegate.sizeHint(option, model.index(0));
    QVERIFY(two.height() >= 64 && two.width() > 64);
    model.clear();
    QCOMPARE(model.rowCount(), 0);
  }

  void withoutAModelDroppingSaysSo() {
    ClassifyPage page;
    page.classifyFiles(images_);
    QVERIFY(page.message().contains(QStringLiteral("No trained model yet")));
    QCOMPARE(page.model()->rowCount(), 0);

    // A train dir without a checkpoint yet: the worker finds none and says the same.
    taxon::test::TempDir empty;
    page.setCheckpointDir(qpath(empty.path()));
    page.classifyFiles(images_);
    QTRY_VERIFY_WITH_TIMEOUT(page.message().contains(QStringLiteral("No trained model yet")),
                             kTimeoutMs);
    QTRY_VERIFY_WITH_TIMEOUT(!page.isBusy(), kTimeoutMs);
    QCOMPARE(page.model()->rowCount(), 0);
    page.resize(700, 300);
    taxon::test::saveScreenshot(&page, QStringLiteral("classify-no-model"));
  }

  void droppedImagesAreRankedAndABadOneGetsAnErrorRow() {
    ClassifyPage page;
    model_ = page.model();
    page.setCheckpointDir(qpath(trainDir_));
    page.resize(760, 560);
    page.show();
    QVERIFY(QTest::qWaitForWindowExposed(&page));

    const fs::path corrupt = temp_->path() / "corrupt.png";
    taxon::test::writeFile(corrupt, "this is not a PNG");
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(images_[0]), QUrl::fromLocalFile(qpath(corrupt)),
                  QUrl::fromLocalFile(images_[1])});
    QSignalSpy classified(&page, &ClassifyPage::classified);
    const QPoint centre = page.rect().center();
    QDragEnterEvent enter(centre, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&page, &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(QPointF(centre), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&page, &drop);
    QVERIFY(drop.isAccepted());
    auto* busy = page.findChild<QProgressBar*>(QStringLiteral("busyIndicator"));
    QVERIFY(busy != nullptr);
    QVERIFY(page.isBusy());
    QVERIFY(busy->isVisible());

    QTRY_VERIFY_WITH_TIMEOUT(!classified.isEmpty(), kTimeoutMs);
    QCOMPARE(classified.last().at(0).toInt(), 3);
    QCOMPARE(page.model()->rowCount(), 3);
    checkRanked(0);
    checkRanked(2);
    const auto& bad = page.model()->result(1);
    QVERIFY(bad.top.isEmpty());
    QVERIFY2(bad.error.contains(QStringLiteral("corrupt.png")), qPrintable(bad.error));
    QCOMPARE(page.model()->data(page.model()->index(1), Qt::DisplayRole).toString(),
             QStringLiteral("corrupt.png"));
    QTRY_VERIFY_WITH_TIMEOUT(page.modelText().contains(QStringLiteral("step %1").arg(kFirstSteps)),
                             kTimeoutMs);
    QTRY_VERIFY_WITH_TIMEOUT(!busy->isVisible(), kTimeoutMs);
    page.findChild<QListView*>()->setCurrentIndex(page.model()->index(2));
    taxon::test::saveScreenshot(&page, QStringLiteral("classify-drop"));
    // The delegate paints with the palette: a dark one must read as well.
    QPalette dark;
    dark.setColor(QPalette::Window, QColor(45, 45, 48));
    dark.setColor(QPalette::WindowText, QColor(230, 230, 230));
    dark.setColor(QPalette::Base, QColor(30, 30, 32));
    dark.setColor(QPalette::AlternateBase, QColor(40, 40, 44));
    dark.setColor(QPalette::Text, QColor(230, 230, 230));
    dark.setColor(QPalette::Button, QColor(55, 55, 58));
    dark.setColor(QPalette::ButtonText, QColor(230, 230, 230));
    dark.setColor(QPalette::Highlight, QColor(42, 130, 218));
    dark.setColor(QPalette::HighlightedText, Qt::white);
    page.setPalette(dark);
    taxon::test::saveScreenshot(&page, QStringLiteral("classify-drop-dark"));

    // A drop of something else (text) is refused.
    QMimeData text;
    text.setText(QStringLiteral("hello"));
    QDragEnterEvent refused(centre, Qt::CopyAction, &text, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&page, &refused);
    QVERIFY(!refused.isAccepted());

    // Clear empties the list.
    page.findChild<QPushButton*>(QStringLiteral("clearButton"))->click();
    QCOMPARE(page.model()->rowCount(), 0);
    model_ = nullptr;
  }

  void pastedImageDataAndFilesAreClassified() {
    ClassifyPage page;
    model_ = page.model();
    page.setCheckpointDir(qpath(trainDir_));
    page.resize(760, 400);
    page.show();
    QVERIFY(QTest::qWaitForWindowExposed(&page));
    QSignalSpy classified(&page, &ClassifyPage::classified);

    QImage image(images_[1]);
    QVERIFY(!image.isNull());
    QGuiApplication::clipboard()->setImage(image);
    QVERIFY(QGuiApplication::clipboard()->mimeData()->hasImage());
    page.paste();
    QTRY_COMPARE_WITH_TIMEOUT(classified.count(), 1, kTimeoutMs);
    QCOMPARE(page.model()->rowCount(), 1);
    checkRanked(0);
    QVERIFY(page.model()->result(0).path.startsWith(QStringLiteral("Pasted image")));

    // Ctrl+V with copied files.
    auto* files = new QMimeData;
    files->setUrls({QUrl::fromLocalFile(images_[1])});
    QGuiApplication::clipboard()->setMimeData(files);
    page.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&page));
    page.findChild<QListView*>()->setFocus();
    QTest::keySequence(&page, QKeySequence::Paste);
    QTRY_COMPARE_WITH_TIMEOUT(classified.count(), 2, kTimeoutMs);
    QCOMPARE(page.model()->rowCount(), 2);
    checkRanked(1);
    QCOMPARE(page.model()->result(1).path, images_[1]);
    // The same picture, pasted as data and as a file: the same ranking.
    QCOMPARE(page.model()->result(0).top[0].name, page.model()->result(1).top[0].name);
    taxon::test::saveScreenshot(&page, QStringLiteral("classify-paste"));
    model_ = nullptr;
  }

  void aNewerCheckpointIsPickedUpOnTheNextRequest() {
    // A copy of the run, so that the other tests keep theirs.
    const fs::path run = temp_->path() / "run-resumed";
    fs::copy(trainDir_, run, fs::copy_options::recursive);
    ClassifyPage page;
    model_ = page.model();
    page.setCheckpointDir(qpath(run));
    page.resize(760, 400);
    QSignalSpy classified(&page, &ClassifyPage::classified);
    page.classifyFiles({images_[0]});
    QTRY_COMPARE_WITH_TIMEOUT(classified.count(), 1, kTimeoutMs);
    QVERIFY2(page.modelText().contains(QStringLiteral("step %1").arg(kFirstSteps)),
             qPrintable(page.modelText()));

    auto settings = taxon::test::tinyRun(run, project_ / "records");
    settings.maxSteps = kFirstSteps + 3;
    QCOMPARE(taxon::train::train(settings, /*resume=*/true, {}).step, kFirstSteps + 3);

    page.classifyFiles({images_[1]});
    QTRY_COMPARE_WITH_TIMEOUT(classified.count(), 2, kTimeoutMs);
    QVERIFY2(page.modelText().contains(QStringLiteral("step %1").arg(kFirstSteps + 3)),
             qPrintable(page.modelText()));
    QVERIFY(page.modelText().contains(QStringLiteral("model.ckpt-%1.taxon").arg(kFirstSteps + 3)));
    checkRanked(1);
    taxon::test::saveScreenshot(&page, QStringLiteral("classify-newer-checkpoint"));
    model_ = nullptr;
  }

  // The user picks the run and checkpoint: the runs are named with their evaluation, the default
  // is the one the app gives, a user's pick stays picked when the list changes (a new run started
  // elsewhere is not followed), and a fixed checkpoint can be chosen.
  void runAndCheckpointAreChosenAndAUsersPickStays() {
    const fs::path runs = temp_->path() / "picker";
    const fs::path evaluated = runs / "evaluated";
    const fs::path other = runs / "other";
    const fs::path live = runs / "live";
    for (const auto& [dir, steps] : std::vector<std::pair<fs::path, std::vector<int>>>{
             {evaluated, {400, 843}}, {other, {95}}, {live, {5}}}) {
      fs::create_directories(dir);
      for (int step : steps) {
        fs::copy_file(taxon::checkpoint::newestCheckpoint(trainDir_)->path,
                      dir / ("model.ckpt-" + std::to_string(step) + ".taxon"));
      }
    }
    fs::create_directories(evaluated / "eval");
    taxon::test::writeFile(evaluated / "eval" / "summary.json",
                           R"({"precision_at_1": 0.7634, "recall_at_5": 0.9912})");

    ClassifyPage page;
    page.setRuns({qpath(evaluated), qpath(other)}, qpath(evaluated));
    QCOMPARE(page.chosenRun(), qpath(evaluated));
    QVERIFY(!page.userChoseRun());
    QCOMPARE(page.checkpointDir(), qpath(evaluated));  // its newest checkpoint
    QCOMPARE(page.runBox()->count(), 2);
    QCOMPARE(page.runBox()->currentText(), QStringLiteral("evaluated, precision@1 0.7634"));
    QCOMPARE(page.checkpointBox()->count(), 3);  // newest, step 843, step 400
    QCOMPARE(page.checkpointBox()->itemText(1), QStringLiteral("step 843"));

    // A fixed checkpoint of the run.
    page.checkpointBox()->setCurrentIndex(2);
    Q_EMIT page.checkpointBox()->activated(2);
    QCOMPARE(page.checkpointDir(), qpath(evaluated / "model.ckpt-400.taxon"));

    // The user picks the other run; a run started later is listed but not followed.
    page.runBox()->setCurrentIndex(1);
    Q_EMIT page.runBox()->activated(1);
    QVERIFY(page.userChoseRun());
    QCOMPARE(page.chosenRun(), qpath(other));
    QCOMPARE(page.checkpointDir(), qpath(other));
    page.setRuns({qpath(evaluated), qpath(live), qpath(other)}, qpath(live));
    QCOMPARE(page.chosenRun(), qpath(other));
    QCOMPARE(page.runBox()->count(), 3);
    QCOMPARE(page.runBox()->currentData().toString(), qpath(other));

    // The model loads from the chosen run, and the header names it with its step.
    QSignalSpy classified(&page, &ClassifyPage::classified);
    page.classifyFiles({images_[0]});
    QVERIFY(classified.wait(60000));
    QVERIFY2(page.modelText().contains(QStringLiteral("other")), qPrintable(page.modelText()));
    QVERIFY2(page.modelText().contains(QStringLiteral("model.ckpt-95.taxon")),
             qPrintable(page.modelText()));
  }

  // With the project set, the selected row's most similar project images are shown: after
  // `taxon embed`, a dropped copy of a project image finds that image first; a project image is
  // not its own neighbour; before embedding, the panel says which command makes them.
  void similarImagesOfTheSelectedRowAreShown() {
    ClassifyPage page;
    model_ = page.model();
    page.setCheckpointDir(qpath(trainDir_));
    page.setProject(qpath(project_));
    page.resize(1000, 560);
    page.show();
    QVERIFY(QTest::qWaitForWindowExposed(&page));
    QSignalSpy classified(&page, &ClassifyPage::classified);
    page.classifyFiles({images_[0]});
    QTRY_VERIFY_WITH_TIMEOUT(!classified.isEmpty(), kTimeoutMs);
    auto* list = page.findChild<QListView*>(QStringLiteral("predictionList"));
    list->setCurrentIndex(page.model()->index(0));
    QVERIFY2(page.similarNote().contains(QStringLiteral("taxon embed")),
             qPrintable(page.similarNote()));
    QCOMPARE(page.similarList()->count(), 0);
    page.clear();

    taxon::similar::EmbedSettings embed;
    embed.project = project_;
    embed.checkpointDir = trainDir_;
    const auto report = taxon::similar::embed(embed);
    QCOMPARE(report.embedded, 24);  // 6 pictures of 4 categories
    const fs::path outside = temp_->path() / "outside-copy.png";
    fs::copy_file(images_[1].toStdString(), outside, fs::copy_options::overwrite_existing);
    classified.clear();
    page.classifyFiles({images_[0], qpath(outside)});
    QTRY_VERIFY_WITH_TIMEOUT(!classified.isEmpty() && page.model()->rowCount() == 2, kTimeoutMs);

    list->setCurrentIndex(page.model()->index(1));
    QCOMPARE(page.similarList()->count(), 12);
    const auto* first = page.similarList()->item(0);
    QCOMPARE(first->data(Qt::UserRole).toString(), images_[1]);  // the picture it copies
    QVERIFY2(first->text().contains(QStringLiteral("Sneaker")), qPrintable(first->text()));
    QVERIFY(!first->icon().isNull());
    taxon::test::saveScreenshot(&page, QStringLiteral("classify-similar"));

    list->setCurrentIndex(page.model()->index(0));
    QCOMPARE(page.similarList()->count(), 12);
    for (int i = 0; i < page.similarList()->count(); ++i) {
      QVERIFY(page.similarList()->item(i)->data(Qt::UserRole).toString() != images_[0]);
    }
    model_ = nullptr;
  }

  // "Why?": the selected image's Grad-CAM maps, one toggle per category (the best shown first),
  // for a dropped file and for pasted bytes alike; off hides the panel.
  void whyShowsWhereTheModelLookedPerCategory() {
    // A model that has learned something (the shared one has 4 steps): 150 steps.
    const auto whyRun = temp_->path() / "why-run";
    auto settings = taxon::test::tinyRun(whyRun, project_ / "records");
    settings.maxSteps = 150;
    QCOMPARE(taxon::train::train(settings, false, {}).step, 150);
    ClassifyPage page;
    model_ = page.model();
    page.setCheckpointDir(qpath(whyRun));
    page.resize(1100, 640);
    page.show();
    QVERIFY(QTest::qWaitForWindowExposed(&page));
    QSignalSpy classified(&page, &ClassifyPage::classified);
    page.classifyFiles({images_[1]});
    QTRY_VERIFY_WITH_TIMEOUT(!classified.isEmpty(), kTimeoutMs);
    QImage pasted(images_[0]);
    QVERIFY(!pasted.isNull());
    auto* mime = new QMimeData;
    mime->setImageData(pasted);
    QApplication::clipboard()->setMimeData(mime);
    page.paste();
    QTRY_VERIFY_WITH_TIMEOUT(page.model()->rowCount() == 2, kTimeoutMs);

    auto* list = page.findChild<QListView*>(QStringLiteral("predictionList"));
    auto* why = page.whyPanel();
    QVERIFY(!why->isVisible());
    list->setCurrentIndex(page.model()->index(0));
    QSignalSpy explained(why, &taxon::ui::WhyPanel::explained);
    page.whyButton()->click();
    QVERIFY(why->isVisible());
    QTRY_VERIFY_WITH_TIMEOUT(!explained.isEmpty() && !why->isBusy(), kTimeoutMs);
    QVERIFY2(!why->note().contains(QStringLiteral("Could not")), qPrintable(why->note()));
    const auto& result = page.model()->result(0);
    QCOMPARE(why->maps().size(), result.top.size());
    QCOMPARE(why->toggles().size(), result.top.size());
    for (qsizetype i = 0; i < why->maps().size(); ++i) {
      QCOMPARE(why->maps()[i].category, result.top[i].name);
      QVERIFY(why->maps()[i].caption.startsWith(QString::number(i + 1) + QStringLiteral(". ")));
      QVERIFY(!why->maps()[i].overlay.isNull());
      QCOMPARE(why->toggles()[i]->isChecked(), i == 0);
    }
    QCOMPARE(why->list()->count(), 2);  // the picture the model saw, and the best category's map
    why->toggles()[1]->click();
    QCOMPARE(why->list()->count(), 3);
    QVERIFY(why->list()->item(2)->text().startsWith(QStringLiteral("2. ")));
    // Different categories, different evidence: the two maps are not one picture.
    QVERIFY(why->maps()[0].overlay != why->maps()[1].overlay);
    taxon::test::saveScreenshot(&page, QStringLiteral("classify-why"));

    explained.clear();
    list->setCurrentIndex(page.model()->index(1));  // the pasted image: explained from its bytes
    QTRY_VERIFY_WITH_TIMEOUT(!explained.isEmpty() && !why->isBusy(), kTimeoutMs);
    QVERIFY2(!why->note().contains(QStringLiteral("Could not")), qPrintable(why->note()));
    QCOMPARE(why->maps().size(), page.model()->result(1).top.size());

    page.whyButton()->click();
    QVERIFY(!why->isVisible());
    model_ = nullptr;
  }

  void destroyingThePageWhileBusyCancels() {
    ClassifyPage page;
    page.setCheckpointDir(qpath(trainDir_));
    QStringList many;
    for (int i = 0; i < 40; ++i) {
      many.append(images_[static_cast<qsizetype>(i % 2)]);
    }
    page.classifyFiles(many);
    QVERIFY(page.isBusy());
    // Leaving the scope destroys the page: the job stops between chunks and joins.
  }

  void cleanupTestCase() { temp_.reset(); }
};

QTEST_MAIN(TestClassifyPage)
#include "test_ClassifyPage.moc"
