// The Inspect page on a real tiny project: a real catalog of real PNGs, a real evaluation report
// written by the engine with hand-made probabilities whose confusions are known, and a synthetic
// 1,000-class report for scale.
#include <QAbstractButton>
#include <QAbstractItemView>
#include <QApplication>
#include <QFileInfo>
#include <QItemSelectionModel>
#include <QListWidget>
#include <QPushButton>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTabWidget>
#include <QTableWidget>
#include <QTest>
#include <QTimer>
#include <QWheelEvent>
#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>

#include "TestFiles.hpp"
#include "TrainTestData.hpp"
#include "UiTestProject.hpp"
#include "UiTestSupport.hpp"
#include "common/CategoryPickerDialog.hpp"
#include "common/ProjectSession.hpp"
#include "common/SimilarImagesPanel.hpp"
#include "common/Thumbnails.hpp"
#include "common/WhyPanel.hpp"
#include "eval/Metrics.hpp"
#include "eval/torch/Evaluator.hpp"
#include "image/ImageCheck.hpp"
#include "inspect/CategoryMetricsModel.hpp"
#include "inspect/ConfusedPairsModel.hpp"
#include "inspect/ConfusionHeatMap.hpp"
#include "inspect/ConfusionModel.hpp"
#include "inspect/DuplicatesPanel.hpp"
#include "inspect/ExampleListModel.hpp"
#include "inspect/InspectPage.hpp"
#include "inspect/MislabeledModel.hpp"
#include "project/Catalog.hpp"
#include "similar/Duplicates.hpp"
#include "similar/Embed.hpp"
#include "train/Trainer.hpp"

using taxon::ui::ConfusionModel;
using taxon::ui::InspectPage;

namespace {

QString qs(const std::filesystem::path& path) {
  return QString::fromStdString(path.string());
}

// Index of each name in the sorted-by-name leaf order: 0 Bags > Bag, 1 Shoes > Sandal,
// 2 Shoes > Sneaker, 3 Tops > Shirt (also the report's class order).
constexpr int kBag = 0, kSandal = 1, kSneaker = 2, kShirt = 3;

std::vector<float> probabilities(int predicted, float predictedP, int label, float labelP) {
  std::vector<float> p(4, 0.0f);
  p[static_cast<std::size_t>(predicted)] = predictedP;
  p[static_cast<std::size_t>(label)] = labelP;
  const float rest = (1.0f - predictedP - (label == predicted ? 0.0f : labelP)) /
                     (label == predicted ? 3.0f : 2.0f);
  for (std::size_t c = 0; c < 4; ++c) {
    if (static_cast<int>(c) != predicted && static_cast<int>(c) != label) {
      p[c] = rest;
    }
  }
  return p;
}

}  // namespace

class TestInspectPage : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void modelCollapsesToLevelOne();
  void modelFiltersToASubtreeAndSorts();
  void modelChoosesTheImagesOfACellAndAPair();
  void pageLoadsTheReport();
  void clickingACellListsItsImagesWithScores();
  void pairRowShowsBothDirections();
  void relabelFromTheMislabeledListAndUndo();
  void keyMOpensThePickerAndRelabels();
  void malformedReportShowsAnError();
  void openReportReadsOnAWorkerAndKeepsTheLatest();
  void thousandClassReportLoadsAndPaints();
  void currentExamplesSimilarImagesAreShown();
  void currentExampleShowsTheLabelsAndThePredictionsEvidence();
  void duplicatesTabResolvesAGroupInOneEdit();

 private:
  std::unique_ptr<taxon::test::TempDir> dir_;
  std::filesystem::path project_;
  std::filesystem::path eval_;
  std::map<int, std::vector<std::string>> keysOf_;  // class -> catalog paths, in id order
  std::string shirtMislabeledKey_;

  // The page over the opened test project with the report loaded, at a size that fits the names.
  struct OpenedPage {
    taxon::ui::ProjectSession session;
    std::unique_ptr<InspectPage> page;  // destroyed before the session it watches
  };
  bool open(OpenedPage& opened, bool shown);
};

bool TestInspectPage::open(OpenedPage& opened, bool shown) {
  if (!opened.session.open(qs(project_), false)) {
    return false;
  }
  opened.page = std::make_unique<InspectPage>(&opened.session);
  if (!opened.page->loadReport(qs(eval_))) {
    return false;
  }
  opened.page->resize(1200, 800);
  if (!shown) {
    return true;
  }
  opened.page->show();
  return QTest::qWaitForWindowExposed(opened.page.get());
}

void TestInspectPage::initTestCase() {
  dir_ = std::make_unique<taxon::test::TempDir>();
  project_ = dir_->path() / "project";
  taxon::test::makeUiTestProject(project_);
  eval_ = project_ / "eval";

  const auto& names = taxon::test::uiTestCategories();
  taxon::project::Catalog catalog(project_, false);
  std::vector<float> p;
  std::vector<std::int64_t> labels;
  std::vector<std::string> keys;
  for (const auto& image : catalog.images()) {
    const auto category = catalog.category(image.categoryId);
    QVERIFY(category.has_value());
    const auto it = std::find(names.begin(), names.end(), category->path);
    QVERIFY(it != names.end());
    const int label = static_cast<int>(it - names.begin());
    const auto i = keysOf_[label].size();
    keysOf_[label].push_back(image.path);
    std::vector<float> row;
    // Known confusions: 3 sandals taken for sneakers, 2 sneakers for sandals, 1 shirt
    // confidently for a bag (a likely mislabeled image).
    if (label == kSandal && i < 3) {
      row = probabilities(kSneaker, 0.7f, kSandal, 0.2f);
    } else if (label == kSneaker && i < 2) {
      row = probabilities(kSandal, 0.6f, kSneaker, 0.3f);
    } else if (label == kShirt && i == 0) {
      row = probabilities(kBag, 0.9f, kShirt, 0.05f);
      shirtMislabeledKey_ = image.path;
    } else {
      row = probabilities(label, 0.85f, label, 0.85f);
    }
    p.insert(p.end(), row.begin(), row.end());
    labels.push_back(label);
    keys.push_back(image.path);
  }
  QCOMPARE(keys.size(), std::size_t{48});
  // One image that is not in the project, also confidently a bag.
  const auto outside = probabilities(kBag, 0.92f, kShirt, 0.04f);
  p.insert(p.end(), outside.begin(), outside.end());
  labels.push_back(kShirt);
  keys.push_back("elsewhere/missing.png");

  taxon::eval::MetricsAccumulator metrics(names);
  metrics.add(p.data(), labels.size(), labels.data(), keys);
  taxon::eval::writeReport(metrics.report(), eval_);
}

void TestInspectPage::modelCollapsesToLevelOne() {
  InspectPage page(nullptr);
  QVERIFY(page.loadReport(qs(eval_)));
  ConfusionModel* model = page.confusionModel();
  QCOMPARE(model->maxLevel(), 2);
  QCOMPARE(model->classCount(), 4);
  QCOMPARE(model->className(kSandal), QStringLiteral("Shoes > Sandal"));
  QCOMPARE(model->count(kSandal, kSneaker), 3);
  QCOMPARE(model->count(kSneaker, kSandal), 2);
  QCOMPARE(model->count(kSandal, kSandal), 9);
  QCOMPARE(model->count(kShirt, kBag), 2);
  QCOMPARE(model->count(kBag, kShirt), 0);
  QCOMPARE(model->rowTotal(kShirt), 13);
  QCOMPARE(model->cells().size(), std::size_t{7});  // 4 diagonal + 3 confusions
  QCOMPARE(model->data(model->index(kSandal, kSneaker), ConfusionModel::CountRole).toLongLong(), 3);
  QVERIFY(qAbs(model->data(model->index(kSandal, kSneaker), ConfusionModel::RateRole).toDouble() -
               0.25) < 1e-12);
  QCOMPARE(model->data(model->index(kSandal, kSneaker), ConfusionModel::ActualNameRole).toString(),
           QStringLiteral("Shoes > Sandal"));
  QCOMPARE(
      model->data(model->index(kSandal, kSneaker), ConfusionModel::PredictedNameRole).toString(),
      QStringLiteral("Shoes > Sneaker"));

  model->setLevel(1);
  QCOMPARE(model->classCount(), 3);
  QCOMPARE(model->className(0), QStringLiteral("Bags"));
  QCOMPARE(model->className(1), QStringLiteral("Shoes"));
  QCOMPARE(model->className(2), QStringLiteral("Tops"));
  QCOMPARE(model->count(0, 0), 12);
  QCOMPARE(model->count(1, 1), 24);  // shoes taken for other shoes are right at level 1
  QCOMPARE(model->count(1, 0) + model->count(1, 2), 0);
  QCOMPARE(model->count(2, 2), 11);
  QCOMPARE(model->count(2, 0), 2);
  QVERIFY(qAbs(model->rate(2, 0) - 2.0 / 13.0) < 1e-12);
  QCOMPARE(model->errors(1), 0);
  QCOMPARE(model->leafClasses(1), (std::vector<int>{kSandal, kSneaker}));
  QCOMPARE(model->indexOfLeaf(kSneaker), 1);
  QCOMPARE(model->rowCount(), 3);
  QCOMPARE(model->headerData(2, Qt::Horizontal).toString(), QStringLiteral("Tops"));

  page.resize(1100, 700);
  taxon::test::saveScreenshot(&page, QStringLiteral("inspect-level1"));
}

void TestInspectPage::modelFiltersToASubtreeAndSorts() {
  InspectPage page(nullptr);
  QVERIFY(page.loadReport(qs(eval_)));
  ConfusionModel* model = page.confusionModel();
  QCOMPARE(model->subtreeChoices(), (QStringList{"Bags", "Shoes", "Tops"}));

  model->setSubtree(QStringLiteral("Shoes"));
  QCOMPARE(model->classCount(), 2);
  QCOMPARE(model->className(0), QStringLiteral("Shoes > Sandal"));
  QCOMPARE(model->className(1), QStringLiteral("Shoes > Sneaker"));
  QCOMPARE(model->count(0, 1), 3);
  QCOMPARE(model->indexOfLeaf(kBag), -1);
  model->setLevel(1);
  QCOMPARE(model->classCount(), 1);
  QCOMPARE(model->count(0, 0), 24);
  model->setLevel(0);

  // Rows stay normalized over everything the class was taken for, inside the subtree or not.
  model->setSubtree(QStringLiteral("Tops"));
  QCOMPARE(model->classCount(), 1);
  QCOMPARE(model->count(0, 0), 11);
  QCOMPARE(model->rowTotal(0), 13);
  model->setSubtree(QStringLiteral("Sho"));  // whole segments only
  QCOMPARE(model->classCount(), 0);
  model->setSubtree(QString());
  QCOMPARE(model->classCount(), 4);

  // Errors: Sandal 3, Sneaker 2, Shirt 2 (ties by name), Bag 0.
  model->setSortOrder(ConfusionModel::SortOrder::ByErrors);
  QCOMPARE(model->className(0), QStringLiteral("Shoes > Sandal"));
  QCOMPARE(model->className(1), QStringLiteral("Shoes > Sneaker"));
  QCOMPARE(model->className(2), QStringLiteral("Tops > Shirt"));
  QCOMPARE(model->className(3), QStringLiteral("Bags > Bag"));
  QCOMPARE(model->count(0, 1), 3);  // cells follow the new order
  QCOMPARE(model->count(2, 3), 2);  // shirt row, bag column
  // Support: Shirt 13, then the 12s by name.
  model->setSortOrder(ConfusionModel::SortOrder::BySupport);
  QCOMPARE(model->className(0), QStringLiteral("Tops > Shirt"));
  QCOMPARE(model->className(1), QStringLiteral("Bags > Bag"));
  QCOMPARE(model->count(0, 1), 2);

  page.resize(1100, 700);
  taxon::test::saveScreenshot(&page, QStringLiteral("inspect-sorted-by-support"));
}

void TestInspectPage::modelChoosesTheImagesOfACellAndAPair() {
  InspectPage page(nullptr);
  QVERIFY(page.loadReport(qs(eval_)));
  ConfusionModel* model = page.confusionModel();
  const auto& predictions = model->report()->predictions;
  const auto keyOf = [&](std::size_t i) { return predictions[i].key; };

  // A mistake cell: the most confident mistakes first (0.92, then 0.9).
  model->setLevel(1);
  const auto topsAsBags = model->cellPredictions(2, 0);
  QCOMPARE(topsAsBags.size(), std::size_t{2});
  QCOMPARE(keyOf(topsAsBags[0]), std::string("elsewhere/missing.png"));
  QCOMPARE(keyOf(topsAsBags[1]), shirtMislabeledKey_);

  // A diagonal cell: the least sure first. At level 1 the shoes taken for other shoes are right,
  // with the label's probability 0.2 (sandals) and 0.3 (sneakers), before the sure 0.85s.
  const auto shoes = model->cellPredictions(1, 1);
  QCOMPARE(shoes.size(), std::size_t{24});
  for (std::size_t i = 0; i < shoes.size(); ++i) {
    const double expected = i < 3 ? 0.2 : i < 5 ? 0.3 : 0.85;
    QVERIFY(qAbs(predictions[shoes[i]].labelProbability - expected) < 1e-6);
  }

  // A pair: both directions, the most confident first.
  const auto pair = model->pairPredictions(kSandal, kSneaker);
  QCOMPARE(pair.size(), std::size_t{5});
  for (std::size_t i = 0; i < pair.size(); ++i) {
    QCOMPARE(predictions[pair[i]].predicted, std::int64_t{i < 3 ? kSneaker : kSandal});
  }
  QVERIFY(model->pairPredictions(kBag, kSandal).empty());
}

void TestInspectPage::pageLoadsTheReport() {
  taxon::ui::ProjectSession session;
  QVERIFY(session.open(qs(project_), false));
  InspectPage page(&session);
  QSignalSpy loaded(&page, &InspectPage::reportLoaded);
  QVERIFY(page.loadReport(qs(eval_)));
  QCOMPARE(loaded.count(), 1);
  QVERIFY(page.errorText().isEmpty());
  QCOMPARE(page.pairsModel()->rowCount(), 2);  // sandal/sneaker 5, bag/shirt 2
  QCOMPARE(page.pairsModel()->index(0, taxon::ui::ConfusedPairsModel::TotalColumn).data().toInt(),
           5);
  QCOMPARE(page.categoryModel()->rowCount(), 4);
  QCOMPARE(page.mislabeledModel()->rowCount(), 2);
  QCOMPARE(page.mislabeledModel()->row(0).key, QStringLiteral("elsewhere/missing.png"));
  QVERIFY(!page.mislabeledModel()->row(0).imageId.has_value());
  QCOMPARE(page.mislabeledModel()->row(1).key, QString::fromStdString(shirtMislabeledKey_));
  QVERIFY(page.mislabeledModel()->row(1).imageId.has_value());
  QCOMPARE(page.mislabeledModel()->row(1).labelName, QStringLiteral("Tops > Shirt"));
  QCOMPARE(page.mislabeledModel()->row(1).predictedName, QStringLiteral("Bags > Bag"));

  // Per-category table sorts numerically through its proxy.
  auto* categories = page.findChild<QSortFilterProxyModel*>();
  QVERIFY(categories != nullptr);
  categories->sort(taxon::ui::CategoryMetricsModel::RecallColumn, Qt::AscendingOrder);
  QCOMPARE(categories->index(0, 0).data().toString(), QStringLiteral("Shoes > Sandal"));

  page.resize(1200, 800);
  page.show();
  QVERIFY(QTest::qWaitForWindowExposed(&page));
  QCOMPARE(page.heatMap()->matrixImage().size(), QSize(4, 4));
  // Column names above the matrix as well as row names at its left: the strip above column 2
  // names it, and its pixels are not all background.
  auto* heatMap = page.heatMap();
  const QRectF third = heatMap->cellRect(0, 2);
  const QPoint overColumn(static_cast<int>(third.center().x()), static_cast<int>(third.top()) - 20);
  QCOMPARE(heatMap->columnAt(overColumn), std::optional<int>(2));
  const QRectF first = heatMap->cellRect(0, 0);
  QCOMPARE(heatMap->rowAt(
               QPoint(static_cast<int>(first.left()) - 20, static_cast<int>(first.center().y()))),
           std::optional<int>(0));
  QVERIFY(third.top() > 60);  // room for the names
  const QImage shot = heatMap->grab().toImage();
  int inked = 0;
  const QColor base = heatMap->palette().color(QPalette::Base);
  for (int y = 4; y < static_cast<int>(third.top()) - 6; ++y) {
    inked += shot.pixelColor(overColumn.x(), y) != base ? 1 : 0;
  }
  QVERIFY2(inked > 5, "no column name drawn above the matrix");
  taxon::test::saveScreenshot(&page, QStringLiteral("inspect-page"));
}

void TestInspectPage::clickingACellListsItsImagesWithScores() {
  OpenedPage opened;
  QVERIFY(open(opened, true));
  InspectPage& page = *opened.page;

  // A real click on the heat map cell (Sandal row, Sneaker column).
  auto* heatMap = page.heatMap();
  QSignalSpy activated(heatMap, &taxon::ui::ConfusionHeatMap::cellActivated);
  const QPoint center = heatMap->cellRect(kSandal, kSneaker).center().toPoint();
  QTest::mouseClick(heatMap, Qt::LeftButton, {}, center);
  QCOMPARE(activated.count(), 1);
  QCOMPARE(activated.at(0).at(0).toInt(), kSandal);
  QCOMPARE(activated.at(0).at(1).toInt(), kSneaker);

  auto* examples = page.exampleModel();
  QCOMPARE(examples->rowCount(), 3);
  std::set<QString> keys;
  for (int r = 0; r < examples->rowCount(); ++r) {
    const auto& row = examples->row(r);
    keys.insert(row.key);
    QVERIFY(qAbs(row.labelProbability - 0.2) < 1e-6);
    QVERIFY(qAbs(row.predictedProbability - 0.7) < 1e-6);
    QCOMPARE(row.labelName, QStringLiteral("Shoes > Sandal"));
    QCOMPARE(row.predictedName, QStringLiteral("Shoes > Sneaker"));
    QVERIFY(row.imageId.has_value());
    QVERIFY(QFileInfo::exists(row.file));
  }
  const auto& sandals = keysOf_[kSandal];
  QCOMPARE(keys, (std::set<QString>{QString::fromStdString(sandals[0]),
                                    QString::fromStdString(sandals[1]),
                                    QString::fromStdString(sandals[2])}));
  QVERIFY(page.examplesTitle().contains(QStringLiteral("3 image")));

  // Thumbnails arrive from the worker threads; until then each item shows a blank of the full
  // thumbnail size, so that every cell of the list is laid out for a whole picture and its
  // caption, even when the first item's picture has not arrived.
  const QImage blank = examples->data(examples->index(0), Qt::DecorationRole).value<QImage>();
  QCOMPARE(blank.size(), page.thumbnails()->size());
  QTRY_VERIFY_WITH_TIMEOUT(!page.thumbnails()->thumbnail(examples->row(0).file).isNull(), 5000);
  const QImage thumbnail = examples->data(examples->index(0), Qt::DecorationRole).value<QImage>();
  // A 28 x 28 Fashion-MNIST picture is scaled up to the box, whole.
  QCOMPARE(thumbnail.size(), QSize(96, 96));
  QVERIFY(thumbnail.pixelColor(48, 48).alpha() == 255);
  QVERIFY(page.examplesView()->visualRect(examples->index(0)).height() >=
          96 + page.fontMetrics().height());

  // showCell in a collapsed space: Tops row, Bags column at level 1.
  page.confusionModel()->setLevel(1);
  page.showCell(2, 0);
  QCOMPARE(examples->rowCount(), 2);
  QCOMPARE(examples->row(0).key, QStringLiteral("elsewhere/missing.png"));  // 0.92 before 0.9
  QVERIFY(!examples->row(0).imageId.has_value());
  QVERIFY(
      examples->data(examples->index(0), Qt::DisplayRole).toString().contains("not in project"));
  QCOMPARE(examples->row(1).key, QString::fromStdString(shirtMislabeledKey_));

  page.confusionModel()->setLevel(0);
  page.showCell(kSandal, kSneaker);
  page.thumbnails()->waitForDone(5000);
  QTRY_VERIFY_WITH_TIMEOUT(!page.thumbnails()->thumbnail(examples->row(2).file).isNull(), 5000);
  QApplication::processEvents();
  taxon::test::saveScreenshot(&page, QStringLiteral("inspect-cell-examples"));
}

void TestInspectPage::pairRowShowsBothDirections() {
  OpenedPage opened;
  QVERIFY(open(opened, false));
  InspectPage& page = *opened.page;
  page.pairsView()->setCurrentIndex(page.pairsModel()->index(0, 0));
  QCOMPARE(page.exampleModel()->rowCount(), 5);
  QCOMPARE(page.exampleModel()->row(0).predictedName, QStringLiteral("Shoes > Sneaker"));  // 0.7
  QCOMPARE(page.exampleModel()->row(4).predictedName, QStringLiteral("Shoes > Sandal"));   // 0.6
  taxon::test::saveScreenshot(&page, QStringLiteral("inspect-pair"));
}

void TestInspectPage::relabelFromTheMislabeledListAndUndo() {
  OpenedPage opened;
  QVERIFY(open(opened, false));
  InspectPage& page = *opened.page;
  taxon::ui::ProjectSession& session = opened.session;
  auto* catalog = session.catalog();
  const auto shirt = catalog->findCategory("Tops > Shirt");
  const auto bag = catalog->findCategory("Bags > Bag");
  QVERIFY(shirt && bag);
  const auto imageId = session.imageIdForKey(QString::fromStdString(shirtMislabeledKey_));
  QVERIFY(imageId.has_value());
  QCOMPARE(catalog->image(*imageId)->categoryId, shirt->id);

  auto* view = page.mislabeledView();
  // The image outside the project cannot be relabelled.
  view->selectionModel()->select(page.mislabeledModel()->index(0, 0),
                                 QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
  QString error;
  QVERIFY(!page.relabelSelected(QStringLiteral("Bags > Bag"), &error));
  QVERIFY(!error.isEmpty());
  QVERIFY(!session.canUndo());

  view->selectionModel()->select(page.mislabeledModel()->index(1, 0),
                                 QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
  QSignalSpy labelsChanged(&session, &taxon::ui::ProjectSession::labelsChanged);
  QVERIFY2(page.relabelSelected(QStringLiteral("Bags > Bag"), &error), qPrintable(error));
  QCOMPARE(labelsChanged.count(), 1);
  QCOMPARE(catalog->image(*imageId)->categoryId, bag->id);
  auto* tabs = page.findChild<QTabWidget*>();
  QVERIFY(tabs != nullptr);
  tabs->setCurrentIndex(2);
  QCOMPARE(tabs->currentWidget(), view->parentWidget());
  taxon::test::saveScreenshot(&page, QStringLiteral("inspect-mislabeled-relabelled"));

  QVERIFY(session.undo());
  QCOMPARE(catalog->image(*imageId)->categoryId, shirt->id);
}

void TestInspectPage::keyMOpensThePickerAndRelabels() {
  OpenedPage opened;
  QVERIFY(open(opened, true));
  InspectPage& page = *opened.page;
  taxon::ui::ProjectSession& session = opened.session;
  page.showCell(kSandal, kSneaker);
  auto* view = page.examplesView();
  view->setFocus();
  view->selectionModel()->select(page.exampleModel()->index(0, 0),
                                 QItemSelectionModel::ClearAndSelect);
  const auto imageId = page.exampleModel()->row(0).imageId;
  QVERIFY(imageId.has_value());

  bool picked = false;
  QTimer timer;
  timer.setInterval(50);
  connect(&timer, &QTimer::timeout, this, [&] {
    if (auto* dialog =
            qobject_cast<taxon::ui::CategoryPickerDialog*>(QApplication::activeModalWidget())) {
      timer.stop();
      picked = true;
      taxon::test::saveScreenshot(dialog, QStringLiteral("inspect-relabel-picker"));
      dialog->setSearchText(QStringLiteral("sneaker"));
      QTest::keyClick(dialog, Qt::Key_Return);
      // Whatever the dialog did with Return, never leave a modal loop running.
      if (dialog->isVisible()) {
        dialog->reject();
      }
    }
  });
  timer.start();
  QTest::keyClick(view, Qt::Key_M);
  timer.stop();
  QVERIFY(picked);
  const auto sneaker = session.catalog()->findCategory("Shoes > Sneaker");
  QCOMPARE(session.catalog()->image(*imageId)->categoryId, sneaker->id);
  QVERIFY(session.undo());
}

void TestInspectPage::malformedReportShowsAnError() {
  InspectPage page(nullptr);
  QString error;
  QVERIFY(!page.loadReport(qs(dir_->path() / "no-such-report"), &error));
  QVERIFY(error.contains(QStringLiteral("summary.json")));
  QCOMPARE(page.errorText(), error);

  // A good report, then a broken copy: the error names the file and the good one stays.
  QVERIFY(page.loadReport(qs(eval_)));
  QVERIFY(page.errorText().isEmpty());
  const auto broken = dir_->path() / "broken";
  std::filesystem::create_directories(broken);
  for (const auto& entry : std::filesystem::directory_iterator(eval_)) {
    std::filesystem::copy_file(entry.path(), broken / entry.path().filename());
  }
  taxon::test::writeFile(broken / "confusion.csv",
                         "actual,predicted,count,actual_name,predicted_name\n0,0,\"1\n");
  QVERIFY(!page.loadReport(qs(broken), &error));
  QVERIFY2(error.contains(QStringLiteral("confusion.csv")), qPrintable(error));
  QCOMPARE(page.confusionModel()->classCount(), 4);
  page.resize(1000, 600);
  taxon::test::saveScreenshot(&page, QStringLiteral("inspect-error"));
}

// The app's path: the report is read on a worker thread while the event loop runs; a broken
// report says why and keeps the shown one; of two requests in a row only the second is shown.
void TestInspectPage::openReportReadsOnAWorkerAndKeepsTheLatest() {
  InspectPage page(nullptr);
  QSignalSpy loaded(&page, &InspectPage::reportLoaded);
  QSignalSpy failed(&page, &InspectPage::reportFailed);
  page.openReport(qs(eval_));
  QCOMPARE(page.confusionModel()->classCount(), 0);  // nothing shown before the loop runs
  QVERIFY(loaded.wait(10000));
  QCOMPARE(loaded.at(0).at(0).toString(), QFileInfo(qs(eval_)).absoluteFilePath());
  QCOMPARE(page.confusionModel()->classCount(), 4);
  QVERIFY(page.errorText().isEmpty());

  page.openReport(qs(dir_->path() / "no-such-report"));
  QVERIFY(failed.wait(10000));
  QVERIFY(failed.at(0).at(1).toString().contains(QStringLiteral("summary.json")));
  QCOMPARE(page.errorText(), failed.at(0).at(1).toString());
  QCOMPARE(page.confusionModel()->classCount(), 4);  // the report shown stays

  // The missing report first, the good one second: only the second arrives.
  loaded.clear();
  failed.clear();
  page.openReport(qs(dir_->path() / "no-such-report"));
  page.openReport(qs(eval_));
  QVERIFY(loaded.wait(10000));
  QTRY_VERIFY(!page.isReading());
  QTest::qWait(50);
  QCOMPARE(failed.count(), 0);
  QCOMPARE(loaded.count(), 1);
  QVERIFY(page.errorText().isEmpty());

  // A page closed while reading: the result is dropped with it.
  auto closing = std::make_unique<InspectPage>(nullptr);
  closing->openReport(qs(eval_));
  closing.reset();
  QTest::qWait(50);
}

void TestInspectPage::thousandClassReportLoadsAndPaints() {
  // 10 x 10 x 10 categories, 3 images each: two right, one taken for a sibling.
  constexpr int kClasses = 1000;
  std::vector<std::string> names;
  for (int c = 0; c < kClasses; ++c) {
    names.push_back("Group " + std::to_string(c / 100) + " > Family " +
                    std::to_string(c / 10 % 10) + " > Item " + std::to_string(c));
  }
  taxon::eval::MetricsAccumulator metrics(names);
  std::mt19937 rng(7);
  std::vector<float> row(kClasses);
  for (int c = 0; c < kClasses; ++c) {
    for (int k = 0; k < 3; ++k) {
      std::fill(row.begin(), row.end(), 0.1f / kClasses);
      const int predicted = k < 2 ? c : (c / 10) * 10 + static_cast<int>(rng() % 10);
      row[static_cast<std::size_t>(predicted)] += 0.9f;
      const std::int64_t label = c;
      metrics.add(row.data(), 1, &label,
                  {"synthetic/" + std::to_string(c) + "-" + std::to_string(k) + ".png"});
    }
  }
  const auto dir = dir_->path() / "eval-1000";
  taxon::eval::writeReport(metrics.report(), dir);

  InspectPage page(nullptr);
  QVERIFY(page.loadReport(qs(dir)));
  auto* model = page.confusionModel();
  QCOMPARE(model->classCount(), kClasses);
  QCOMPARE(model->maxLevel(), 3);
  QVERIFY(model->cells().size() >= std::size_t{kClasses});
  QVERIFY(model->cells().size() < std::size_t{2 * kClasses} + 1);
  QCOMPARE(page.heatMap()->matrixImage().size(), QSize(kClasses, kClasses));

  page.resize(1400, 900);
  page.show();
  QVERIFY(QTest::qWaitForWindowExposed(&page));
  QVERIFY(page.heatMap()->cellSize() < 1.0);  // zoomed out: the pooled image is painted
  const QImage shot = page.heatMap()->grab().toImage();
  QVERIFY(!shot.isNull());
  taxon::test::saveScreenshot(&page, QStringLiteral("inspect-1000-classes"));

  // Wheel zoom around the centre.
  auto* heatMap = page.heatMap();
  const double before = heatMap->cellSize();
  const QPointF centre(heatMap->width() / 2.0, heatMap->height() / 2.0);
  for (int i = 0; i < 12; ++i) {
    QWheelEvent wheel(centre, heatMap->mapToGlobal(centre), QPoint(), QPoint(0, 120), Qt::NoButton,
                      Qt::NoModifier, Qt::NoScrollPhase, false);
    QApplication::sendEvent(heatMap, &wheel);
  }
  QVERIFY(heatMap->cellSize() > before * 10);
  taxon::test::saveScreenshot(heatMap, QStringLiteral("inspect-1000-classes-zoomed"));

  // Each cell of the zoomed view still maps to its class.
  const auto cell = heatMap->cellAt(centre.toPoint());
  QVERIFY(cell.has_value());
  page.showCell(cell->y(), cell->x());

  model->setLevel(1);
  QCOMPARE(model->classCount(), 10);
  QCOMPARE(model->count(3, 3), 300);
  model->setLevel(2);
  QCOMPARE(model->classCount(), 100);
  model->setSubtree(QStringLiteral("Group 4 > Family 2"));
  QCOMPARE(model->classCount(), 1);
  model->setLevel(0);
  QCOMPARE(model->classCount(), 10);
  taxon::test::saveScreenshot(&page, QStringLiteral("inspect-1000-classes-subtree"));
}

// The current example's similar images beside the examples: the project embedded with a model
// really trained (a few steps) on the same categories' pictures.
void TestInspectPage::currentExamplesSimilarImagesAreShown() {
  const auto modelProject = dir_->path() / "model-project";
  taxon::test::makeUiTestProject(modelProject, 6, /*records=*/true);
  auto settings = taxon::test::tinyRun(dir_->path() / "run", modelProject / "records");
  settings.maxSteps = 4;
  QCOMPARE(taxon::train::train(settings, false, {}).step, 4);

  OpenedPage opened;
  QVERIFY(open(opened, true));
  InspectPage& page = *opened.page;
  auto* panel = page.similarPanel();
  page.showCell(kSandal, kSneaker);
  auto* examples = page.exampleModel();
  QCOMPARE(examples->rowCount(), 3);
  page.examplesView()->setCurrentIndex(examples->index(0));
  QVERIFY2(panel->note().contains(QStringLiteral("taxon embed")), qPrintable(panel->note()));

  taxon::similar::EmbedSettings embed;
  embed.project = project_;
  embed.checkpointDir = dir_->path() / "run";
  QCOMPARE(taxon::similar::embed(embed).embedded, 48);
  page.examplesView()->setCurrentIndex(examples->index(1));
  QVERIFY2(panel->note().contains(QStringLiteral("Nearest first")), qPrintable(panel->note()));
  QCOMPARE(panel->list()->count(), 12);
  for (int i = 0; i < panel->list()->count(); ++i) {
    QVERIFY(panel->list()->item(i)->data(Qt::UserRole).toString() != examples->row(1).file);
    QVERIFY(QFileInfo::exists(panel->list()->item(i)->data(Qt::UserRole).toString()));
  }
  QTRY_VERIFY_WITH_TIMEOUT(!panel->list()->item(0)->icon().isNull(), 5000);
  page.thumbnails()->waitForDone(5000);
  QApplication::processEvents();
  taxon::test::saveScreenshot(&page, QStringLiteral("inspect-similar"));
}

namespace {

// A UI test project with `perCategory` pictures a category and its records, a tiny network
// trained on them for `steps` into RUN, and its evaluation report in RUN/eval.
taxon::eval::MetricsReport trainAndEvaluate(const std::filesystem::path& project,
                                            const std::filesystem::path& run, int perCategory,
                                            int steps) {
  taxon::test::makeUiTestProject(project, perCategory, /*records=*/true);
  auto settings = taxon::test::tinyRun(run, project / "records");
  settings.maxSteps = steps;
  if (taxon::train::train(settings, false, {}).step != steps) {
    throw std::runtime_error("the tiny run stopped early");
  }
  taxon::eval::EvalSettings evaluation;
  evaluation.checkpoint = run;
  evaluation.evalDir = run / "eval";
  return taxon::eval::evaluateCheckpoint(evaluation).report;
}

}  // namespace

// A real run's real evaluation: for an example the model got wrong, where it looked for the label
// and for what it predicted, side by side; a report with no checkpoint beside it says so.
void TestInspectPage::currentExampleShowsTheLabelsAndThePredictionsEvidence() {
  const auto project = dir_->path() / "why-project";
  const auto run = project / "runs" / "why";
  const auto report = trainAndEvaluate(project, run, 16, 150);
  QVERIFY(report.precisionAt1 < 1.0);  // something to explain

  taxon::ui::ProjectSession session;
  QVERIFY(session.open(qs(project), false));
  InspectPage page(&session);
  QVERIFY(page.loadReport(qs(run / "eval")));
  page.resize(1300, 860);
  page.show();
  QVERIFY(QTest::qWaitForWindowExposed(&page));
  QVERIFY(page.pairsModel()->rowCount() > 0);
  page.showPair(0);
  auto* examples = page.exampleModel();
  QVERIFY(examples->rowCount() > 0);
  auto* why = page.whyPanel();
  QSignalSpy explained(why, &taxon::ui::WhyPanel::explained);
  page.examplesView()->setCurrentIndex(examples->index(0));
  QTRY_VERIFY_WITH_TIMEOUT(!explained.isEmpty() && !why->isBusy(), 60000);
  QVERIFY2(!why->note().contains(QStringLiteral("Could not")), qPrintable(why->note()));
  const auto& row = examples->row(0);
  QVERIFY(row.labelName != row.predictedName);
  QCOMPARE(why->maps().size(), 2);
  QCOMPARE(why->maps()[0].category, row.labelName);
  QCOMPARE(why->maps()[1].category, row.predictedName);
  QVERIFY(why->maps()[0].caption.startsWith(QStringLiteral("label: ")));
  QVERIFY(why->maps()[1].caption.startsWith(QStringLiteral("predicted: ")));
  for (auto* toggle : why->toggles()) {
    QVERIFY(toggle->isChecked());  // both shown side by side
  }
  QCOMPARE(why->list()->count(), 3);  // the picture, the label's map, the prediction's map
  QVERIFY(why->maps()[0].overlay != why->maps()[1].overlay);
  page.thumbnails()->waitForDone(5000);
  QApplication::processEvents();
  taxon::test::saveScreenshot(&page, QStringLiteral("inspect-why"));

  // The test project's report was computed elsewhere: no checkpoint beside it.
  OpenedPage opened;
  QVERIFY(open(opened, false));
  opened.page->showCell(kSandal, kSneaker);
  opened.page->examplesView()->setCurrentIndex(opened.page->exampleModel()->index(0));
  QVERIFY2(opened.page->whyPanel()->note().contains(QStringLiteral("No checkpoint beside")),
           qPrintable(opened.page->whyPanel()->note()));
}

// A real run's report folder with `taxon duplicates`' report: a training picture copied into the
// test split under another category is one group with leakage and a label conflict; keeping the
// original and giving the copy its split and category resolves it in one edit, and undo brings
// the problem back.
void TestInspectPage::duplicatesTabResolvesAGroupInOneEdit() {
  const auto project = dir_->path() / "duplicates-project";
  const auto run = project / "runs" / "dup";
  trainAndEvaluate(project, run, 6, 20);

  std::int64_t original = 0;
  std::filesystem::path originalFile;
  {
    taxon::project::Catalog catalog(project, false);
    const auto train = catalog.images(std::nullopt, taxon::project::Split::Train, 1);
    QCOMPARE(train.size(), std::size_t{1});
    original = train[0].id;
    originalFile = catalog.resolve(train[0].path);
    const auto bytes = taxon::test::readFile(originalFile);
    const auto copy = project / "copies" / "copy.png";
    taxon::test::writeFile(copy, bytes);
    const auto other = catalog.category(train[0].categoryId)->path == "Tops > Shirt"
                           ? std::string("Bags > Bag")
                           : std::string("Tops > Shirt");
    catalog.insertImages(
        {{copy, taxon::image::contentHash(bytes), 28, 28, "PNG",
          static_cast<std::int64_t>(bytes.size()), other, taxon::project::Split::Test, "test"}});
  }
  taxon::similar::EmbedSettings embed;
  embed.project = project;
  embed.checkpointDir = run;
  taxon::similar::embed(embed);
  taxon::similar::DuplicateSettings duplicates;
  duplicates.project = project;
  duplicates.checkpointDir = run;
  duplicates.threshold = 0.0;  // the byte-for-byte copy only
  const auto found = taxon::similar::findDuplicates(duplicates);
  QCOMPARE(found.groups.size(), std::size_t{1});
  QCOMPARE(found.duplicatesCsv, run / "eval" / "duplicates.csv");

  taxon::ui::ProjectSession session;
  QVERIFY(session.open(qs(project), false));
  InspectPage page(&session);
  QVERIFY(page.loadReport(qs(run / "eval")));
  page.resize(1300, 860);
  page.show();
  QVERIFY(QTest::qWaitForWindowExposed(&page));
  auto* panel = page.duplicatesPanel();
  page.tabs()->setCurrentWidget(panel);
  QCOMPARE(panel->groupCount(), 1);
  QCOMPARE(panel->unresolvedCount(), 1);
  QCOMPARE(page.tabs()->tabText(page.tabs()->indexOf(panel)), QStringLiteral("Duplicates (1)"));
  QVERIFY2(panel->groupsTable()->item(0, 4)->text().contains(QStringLiteral("leakage")),
           qPrintable(panel->groupsTable()->item(0, 4)->text()));
  QVERIFY(panel->groupsTable()->item(0, 4)->text().contains(QStringLiteral("label conflict")));
  panel->showGroup(0);
  QCOMPARE(panel->membersList()->count(), 2);
  auto* kept = panel->membersList()->item(0);
  QCOMPARE(kept->data(Qt::UserRole).toLongLong(), original);
  panel->membersList()->setCurrentItem(kept);
  page.thumbnails()->waitForDone(5000);
  QApplication::processEvents();
  taxon::test::saveScreenshot(&page, QStringLiteral("inspect-duplicates"));

  auto* both = panel->findChild<QPushButton*>(QStringLiteral("takeBoth"));
  QVERIFY(both->isEnabled());
  both->click();
  QCOMPARE(panel->unresolvedCount(), 0);
  QCOMPARE(panel->groupsTable()->item(0, 4)->text(), QStringLiteral("resolved"));
  QCOMPARE(page.tabs()->tabText(page.tabs()->indexOf(panel)), QStringLiteral("Duplicates"));
  {
    auto* catalog = session.catalog();
    const auto copy = catalog->imageByPath(project / "copies" / "copy.png");
    QCOMPARE(copy->split, taxon::project::Split::Train);
    QCOMPARE(copy->categoryId, catalog->image(original)->categoryId);
    QCOMPARE(catalog->nextEdit(false)->kind, std::string("resolve-duplicates"));
  }
  QVERIFY(session.undo());
  QCOMPARE(panel->unresolvedCount(), 1);
  QCOMPARE(session.catalog()->imageByPath(project / "copies" / "copy.png")->split,
           taxon::project::Split::Test);
}

QTEST_MAIN(TestInspectPage)
#include "test_InspectPage.moc"
