// The main window: the start page on a first launch, the built-in Fashion-MNIST project imported
// through the app (with its progress dialog and report), every page on it, the last project
// reopened on the next start, an import report naming a broken file, and a clear error for a
// folder that is not a project.
#include <QLabel>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStackedWidget>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTest>

#include "MainWindow.hpp"
#include "UiTestProject.hpp"
#include "UiTestSupport.hpp"
#include "classify/ClassifyPage.hpp"
#include "classify/PredictionModel.hpp"
#include "common/ProjectSession.hpp"
#include "inspect/ConfusionModel.hpp"
#include "inspect/InspectPage.hpp"
#include "labeling/CategoryTreeModel.hpp"
#include "labeling/DataPage.hpp"
#include "training/TrainJob.hpp"
#include "training/TrainPage.hpp"

using taxon::ui::MainWindow;

namespace {

QString qpath(const std::filesystem::path& path) {
  return QString::fromStdString(path.string());
}

}  // namespace

class TestMainWindow : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QSettings().clear();
  }

  void firstLaunchOffersTheBuiltInProject() {
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QVERIFY(!window.session()->isOpen());
    auto* fashion = window.findChild<QPushButton*>(QStringLiteral("fashionMnist"));
    QVERIFY(fashion != nullptr && fashion->isVisible());
    QVERIFY(window.runtimeSummary().contains(QStringLiteral("LibTorch")));
    taxon::test::saveScreenshot(&window, QStringLiteral("main-start"));
  }

  void importsFashionMnistAndShowsEveryPage() {
    if (!QFile::exists(MainWindow::fashionMnistFolder() +
                       QStringLiteral("/train-images-idx3-ubyte.gz"))) {
      QSKIP(
          "Debian's dataset-fashion-mnist is not installed (packaging/setup-deps.sh installs it)");
    }
    MainWindow window;
    window.show();
    QSignalSpy imported(&window, &MainWindow::importFinished);
    const QString project = qpath(dir_.path() / "fashion-mnist");
    taxon::test::StallMeter stalls;
    window.createFashionMnistProject(project, /*limit=*/600);
    QVERIFY(imported.wait(120000));
    qInfo("longest event-loop stall during the import: %lld ms", stalls.longestMs());
    QVERIFY2(stalls.longestMs() < 100, qPrintable(QString::number(stalls.longestMs())));
    QVERIFY2(imported.at(0).at(0).toBool(), qPrintable(window.lastMessage()));
    QVERIFY(window.lastMessage().contains(QStringLiteral("images added")));
    QCOMPARE(window.projectPath(), project);
    auto* tree = window.dataPage()->categoryModel();
    QCOMPARE(tree->totalImages(), 1200);  // 600 from the train file, 600 from the test file
    QVERIFY(tree->indexOfPath(QStringLiteral("Shoes > Sneaker")).isValid());
    window.dataPage()->selectCategory(QStringLiteral("Shoes"));
    QTest::qWait(300);
    const char* names[] = {"main-data", "main-train", "main-runs", "main-inspect", "main-classify"};
    for (int i = 0; i < window.pages()->count(); ++i) {
      window.pages()->setCurrentIndex(i);
      QTest::qWait(100);
      taxon::test::saveScreenshot(&window, QString::fromLatin1(names[i]));
    }
  }

  void reopensTheLastProject() {
    const auto project = dir_.path() / "small";
    taxon::test::makeUiTestProject(project, 4);
    {
      MainWindow window;
      QVERIFY(window.openProject(qpath(project), false));
    }
    MainWindow again;
    QCOMPARE(again.projectPath(), qpath(project));
    QVERIFY(again.windowTitle().contains(QStringLiteral("small")));
  }

  void importReportNamesABrokenFile() {
    const auto project = dir_.path() / "broken";
    const auto source = dir_.path() / "broken-source";
    std::filesystem::create_directories(source / "Bags");
    taxon::test::writeFile(source / "Bags" / "good.png", taxon::test::makePng(32, 32, 3));
    taxon::test::writeFile(source / "Bags" / "torn.png",
                           taxon::test::makePng(32, 32, 4).substr(0, 40));
    MainWindow window({}, nullptr, /*restoreLast=*/false);
    QVERIFY(window.openProject(qpath(project), true));
    QSignalSpy imported(&window, &MainWindow::importFinished);
    window.importSources({qpath(source)});
    QVERIFY(imported.wait(60000));
    QVERIFY(imported.at(0).at(0).toBool());
    const QString report = imported.at(0).at(1).toString();
    QVERIFY2(report.contains(QStringLiteral("torn.png")), qPrintable(report));
    QVERIFY(report.contains(QStringLiteral("1 images added")));
    QCOMPARE(window.dataPage()->categoryModel()->totalImages(), 1);
  }

  // File > Import's "Unlabeled folder": every image below it, without a category, under the
  // tree's Unlabeled node, and the report says how many.
  void importAnUnlabeledFolder() {
    const auto project = dir_.path() / "unlabeled";
    const auto source = dir_.path() / "new-photos";
    for (int i = 0; i < 3; ++i) {
      taxon::test::writeFile(source / (i == 0 ? "" : "day 2") / ("p" + std::to_string(i) + ".png"),
                             taxon::test::makePng(32, 32, static_cast<std::uint32_t>(10 + i)));
    }
    MainWindow window({}, nullptr, /*restoreLast=*/false);
    QVERIFY(window.openProject(qpath(project), true));
    QSignalSpy imported(&window, &MainWindow::importFinished);
    window.importSources({}, 0, {qpath(source)});
    QVERIFY(imported.wait(60000));
    QVERIFY(imported.at(0).at(0).toBool());
    const QString report = imported.at(0).at(1).toString();
    QVERIFY2(report.contains(QStringLiteral("3 images are unlabeled")), qPrintable(report));
    auto* tree = window.dataPage()->categoryModel();
    QTRY_VERIFY(tree->unlabeledIndex().isValid());
    QCOMPARE(tree->index(0, taxon::ui::CategoryTreeModel::kTotal).data().toLongLong(), 3);
    QCOMPARE(tree->totalImages(), 3);
  }

  // Opened the way `taxon-studio PROJECT` opens it, a project can be trained on at once: Start is
  // enabled on "(a new run)"; without a project it is not, and says why.
  void openedFromTheCommandLineStartIsEnabled() {
    const auto project = dir_.path() / "command-line";
    taxon::test::makeUiTestProject(project, 4, /*records=*/false);
    MainWindow window(qpath(project), nullptr, /*restoreLast=*/false);
    window.show();
    QVERIFY(window.session()->isOpen());
    QVERIFY2(window.trainPage()->canStart(), qPrintable(window.trainPage()->startBlockedReason()));
    MainWindow none({}, nullptr, /*restoreLast=*/false);
    QVERIFY(!none.trainPage()->canStart());
    QVERIFY(none.trainPage()->startBlockedReason().contains(QStringLiteral("project")));
  }

  // The whole loop in the app: train a tiny run on the Train page, the run is evaluated and the
  // report appears on the Inspect page, and the Classify page ranks a project image with the
  // run's model.
  void trainEvaluateInspectAndClassify() {
    const auto project = dir_.path() / "loop";
    taxon::test::makeUiTestProject(project, 12, /*records=*/false);
    MainWindow window({}, nullptr, /*restoreLast=*/false);
    window.resize(1280, 820);
    window.show();
    QVERIFY(window.openProject(qpath(project), false));
    QSignalSpy evaluated(&window, &MainWindow::evaluationFinished);
    QSignalSpy reported(window.inspectPage(), &taxon::ui::InspectPage::reportLoaded);
    window.pages()->setCurrentWidget(window.trainPage());
    // No records yet: the page writes them first.
    window.trainPage()->setForm(75, 0.1, 8, 12, QStringLiteral("small-data"), 6,
                                QStringLiteral("loop-run"));
    window.trainPage()->startRun();
    QVERIFY(evaluated.wait(180000));
    QVERIFY2(evaluated.at(0).at(0).toBool(), qPrintable(evaluated.at(0).at(1).toString()));
    QVERIFY(evaluated.at(0).at(1).toString().contains(QStringLiteral("precision @ 1 =")));
    QTRY_COMPARE(reported.count(), 1);  // the report is read on a worker thread
    QVERIFY(QFile::exists(qpath(project / "records" / "manifest.json")));
    QVERIFY(QFile::exists(qpath(project / "runs" / "loop-run" / "eval" / "summary.json")));
    QVERIFY(window.inspectPage()->confusionModel()->rowCount() > 0);
    window.pages()->setCurrentWidget(window.inspectPage());
    QTest::qWait(100);
    taxon::test::saveScreenshot(&window, QStringLiteral("main-inspect-after-training"));

    window.pages()->setCurrentWidget(window.classifyPage());
    QSignalSpy classified(window.classifyPage(), &taxon::ui::ClassifyPage::classified);
    const auto image = window.session()->catalog()->images(std::nullopt, std::nullopt, 1).front();
    window.classifyPage()->classifyFiles({window.session()->imageFile(image.id)});
    QVERIFY(classified.wait(60000));
    QCOMPARE(window.classifyPage()->model()->rowCount(), 1);
    QVERIFY(window.classifyPage()->modelText().contains(QStringLiteral("12")));
    QTest::qWait(100);
    taxon::test::saveScreenshot(&window, QStringLiteral("main-classify-after-training"));
  }

  void aFolderThatIsNotAProjectIsRefusedClearly() {
    MainWindow window({}, nullptr, /*restoreLast=*/false);
    QVERIFY(!window.openProject(qpath(dir_.path() / "not-a-project"), false));
    QVERIFY(window.lastMessage().contains(QStringLiteral("not-a-project")));
    QVERIFY(!window.session()->isOpen());
  }

 private:
  taxon::test::TempDir dir_;
};

QTEST_MAIN(TestMainWindow)
#include "test_MainWindow.moc"
