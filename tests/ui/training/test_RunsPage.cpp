// The Runs page on a real project with several short real runs (finished, stopped, failed, one
// trained beside the page as a CLI would, and one copied in with a damaged metrics.jsonl): the
// table, its sorting and filter; ticked runs overlaid with smoothing, axes and log scale; hover;
// the settings diff; PNG and CSV export; what a damaged file shows. Screenshots compare-*.png.
#include <QApplication>
#include <QDialog>
#include <QFile>
#include <QImage>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QStandardPaths>
#include <QTableView>
#include <QTableWidget>
#include <QTest>
#include <QTextStream>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <stop_token>
#include <thread>

#include "TrainTestData.hpp"
#include "UiTestProject.hpp"
#include "UiTestSupport.hpp"
#include "common/ProjectSession.hpp"
#include "train/MetricsLog.hpp"
#include "train/RunState.hpp"
#include "train/Trainer.hpp"
#include "training/CompareChart.hpp"
#include "training/RunsModel.hpp"
#include "training/RunsPage.hpp"

using taxon::ui::CompareChart;
using taxon::ui::ProjectSession;
using taxon::ui::RunAxis;
using taxon::ui::RunMetric;
using taxon::ui::RunsModel;
using taxon::ui::RunsPage;
namespace fs = std::filesystem;

namespace {

QString qpath(const fs::path& path) {
  return QString::fromStdString(path.string());
}

// A short real run of the tiny network on the project's records.
taxon::settings::TrainSettings shortRun(const fs::path& project, const std::string& name,
                                        double learningRate, int seed) {
  auto s = taxon::test::tinyRun(project / "runs" / name, project / "records");
  s.applyRecipe("small-data");
  s.batchSize = 16;
  s.maxSteps = 40;
  s.learningRatePer256 = learningRate;
  s.seed = seed;
  s.evalEverySteps = 10;
  s.evalExamples = 2000;
  s.evalAtEnd = true;
  s.logEverySteps = 10;
  s.loaderThreads = 1;
  return s;
}

// The losses of a run as its metrics.jsonl holds them (read by the engine's reader).
std::vector<double> losses(const fs::path& trainDir) {
  std::vector<double> out;
  for (const auto& record : taxon::train::readMetricsLog(trainDir / "metrics.jsonl").records) {
    if (record.step) {
      out.push_back(record.step->loss);
    }
  }
  return out;
}

std::vector<double> precisions(const fs::path& trainDir) {
  std::vector<double> out;
  for (const auto& record : taxon::train::readMetricsLog(trainDir / "metrics.jsonl").records) {
    if (record.eval && record.eval->skipped.empty()) {
      out.push_back(record.eval->precisionAt1);
    }
  }
  return out;
}

// TensorBoard's smoothing, by hand.
double lastSmoothed(const std::vector<double>& values, double weight) {
  double last = 0.0;
  for (const double v : values) {
    last = last * weight + (1.0 - weight) * v;
  }
  return last / (1.0 - std::pow(weight, static_cast<double>(values.size())));
}

int rowOf(const RunsPage& page, const QString& name) {
  const auto* proxy = page.proxy();
  for (int row = 0; row < proxy->rowCount(); ++row) {
    if (proxy->index(row, RunsModel::Name).data().toString() == name) {
      return row;
    }
  }
  return -1;
}

QString cell(const RunsPage& page, const QString& name, int column) {
  return page.proxy()->index(rowOf(page, name), column).data().toString();
}

}  // namespace

class TestRunsPage : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    project_ = dir_.path() / "project";
    taxon::test::makeUiTestProject(project_, 12, /*records=*/true);
    namespace train = taxon::train;
    train::train(shortRun(project_, "base", 0.2, 1), false, {});
    train::train(shortRun(project_, "lower-lr", 0.05, 2), false, {});
    {
      std::stop_source stop;
      train::TrainCallbacks callbacks;
      callbacks.onStep = [&](const train::StepMetrics& m) {
        if (m.step == 20) {
          stop.request_stop();
        }
      };
      stoppedSteps_ = static_cast<int>(
          train::train(shortRun(project_, "stopped", 0.2, 3), false, callbacks, stop.get_token())
              .step);
      QVERIFY(stoppedSteps_ >= 20 && stoppedSteps_ < 40);
    }
    try {
      train::train(shortRun(project_, "diverged", 1e30, 4), false, {});
      QFAIL("a learning rate of 1e30 trained on");
    } catch (const std::exception&) {
    }
    // Another machine's run copied in: its figures, with a line damaged by hand in the middle
    // and the last one cut short.
    fs::copy(project_ / "runs" / "base", project_ / "runs" / "copied", fs::copy_options::recursive);
    std::ifstream in(project_ / "runs" / "copied" / "metrics.jsonl");
    std::string text((std::istreambuf_iterator<char>(in)), {});
    in.close();
    std::vector<std::string> lines;
    for (std::size_t begin = 0; begin < text.size();) {
      const std::size_t end = text.find('\n', begin);
      lines.push_back(text.substr(begin, end - begin));
      begin = end + 1;
    }
    lines[6] = "{\"step\": 7, \"loss\": 2.1, garbage";
    std::string damaged;
    for (const auto& line : lines) {
      damaged += line + "\n";
    }
    damaged += "{\"step\":41,\"loss\":1.";
    std::ofstream(project_ / "runs" / "copied" / "metrics.jsonl") << damaged;
    copiedLines_ = static_cast<int>(lines.size());
    QVERIFY(session_.open(qpath(project_), false));
  }

  void listsEveryRunWithItsFiguresAndState() {
    RunsPage page(&session_);
    QVERIFY(shown(page));
    QCOMPARE(cell(page, "runs/base", RunsModel::State), QStringLiteral("finished"));
    QCOMPARE(cell(page, "runs/stopped", RunsModel::State), QStringLiteral("stopped"));
    QCOMPARE(cell(page, "runs/diverged", RunsModel::State), QStringLiteral("failed"));
    QVERIFY(page.proxy()
                ->index(rowOf(page, "runs/diverged"), RunsModel::State)
                .data(Qt::ToolTipRole)
                .toString()
                .contains(QStringLiteral("the loss is")));
    QCOMPARE(cell(page, "runs/base", RunsModel::Recipe), QStringLiteral("small-data"));
    QCOMPARE(cell(page, "runs/base", RunsModel::ModelSize), QStringLiteral("0.1"));
    QCOMPARE(cell(page, "runs/base", RunsModel::InputSize), QStringLiteral("75 px"));
    QCOMPARE(cell(page, "runs/base", RunsModel::Batch), QStringLiteral("16"));
    QCOMPARE(cell(page, "runs/base", RunsModel::Steps), QStringLiteral("40 / 40"));
    QCOMPARE(cell(page, "runs/stopped", RunsModel::Steps),
             QStringLiteral("%1 / 40").arg(stoppedSteps_));
    const auto p1 = precisions(project_ / "runs" / "lower-lr");
    QCOMPARE(p1.size(), std::size_t{4});  // steps 10, 20, 30, 40
    QCOMPARE(cell(page, "runs/lower-lr", RunsModel::BestPrecision),
             QString::number(*std::max_element(p1.begin(), p1.end()), 'f', 4));
    QCOMPARE(cell(page, "runs/lower-lr", RunsModel::LastPrecision),
             QString::number(p1.back(), 'f', 4));
    QVERIFY(cell(page, "runs/base", RunsModel::WallTime) != QStringLiteral("—"));

    // Sorted by best precision@1, highest first; then by name.
    page.table()->sortByColumn(RunsModel::BestPrecision, Qt::DescendingOrder);
    double previous = 2.0;
    for (int row = 0; row < page.proxy()->rowCount(); ++row) {
      const double best =
          page.proxy()->index(row, RunsModel::BestPrecision).data(RunsModel::SortRole).toDouble();
      QVERIFY(best <= previous);
      previous = best;
    }
    page.table()->sortByColumn(RunsModel::Name, Qt::AscendingOrder);
    QCOMPARE(page.proxy()->index(0, RunsModel::Name).data().toString(),
             QStringLiteral("runs/base"));
    taxon::test::saveScreenshot(&page, QStringLiteral("compare-runs-table"));
    // A double-click (Qt's signal of the view) asks for the run on the Train page.
    QSignalSpy activated(&page, &RunsPage::runActivated);
    Q_EMIT page.table()->doubleClicked(
        page.proxy()->index(rowOf(page, "runs/stopped"), RunsModel::State));
    QCOMPARE(activated.count(), 1);
    QCOMPARE(activated.at(0).at(0).toString(), qpath(project_ / "runs" / "stopped"));
    // The filter box matches any column: a state, a name.
    QTest::keyClicks(page.filterBox(), QStringLiteral("fail"));
    QCOMPARE(page.proxy()->rowCount(), 1);
    QCOMPARE(page.proxy()->index(0, RunsModel::Name).data().toString(),
             QStringLiteral("runs/diverged"));
    page.filterBox()->clear();
    QCOMPARE(page.proxy()->rowCount(), 5);
  }

  void tickedRunsAreOverlaidSmoothedOnEveryChart() {
    RunsPage page(&session_);
    QVERIFY(shown(page));
    const QString base = qpath(project_ / "runs" / "base");
    const QString lower = qpath(project_ / "runs" / "lower-lr");
    const QString stopped = qpath(project_ / "runs" / "stopped");
    QCOMPARE(page.chart(RunMetric::Loss)->notice(),
             QStringLiteral("tick runs in the table to draw them"));
    // Ticking through the table's check box, as a person does.
    const QModelIndex box = page.proxy()->index(rowOf(page, "runs/base"), RunsModel::Name);
    QVERIFY(page.proxy()->setData(box, Qt::Checked, Qt::CheckStateRole));
    QVERIFY(page.tick(lower));
    QVERIFY(page.tick(stopped));
    QCOMPARE(page.model()->ticked(), QStringList({base, lower, stopped}));
    for (const RunMetric metric : taxon::ui::kRunMetrics) {
      QCOMPARE(page.chart(metric)->curveCount(), 3);
    }
    auto* loss = page.chart(RunMetric::Loss);
    QCOMPARE(loss->curveName(0), QStringLiteral("runs/base"));
    QCOMPARE(loss->notice(), QString());
    QVERIFY(loss->curveColour(0) != loss->curveColour(1));
    QCOMPARE(loss->pointCount(0), 40);
    QCOMPARE(loss->pointCount(2), stoppedSteps_);  // the stopped run
    QCOMPARE(loss->rawPointCount(0), 40);
    QCOMPARE(page.chart(RunMetric::PrecisionAt1)->pointCount(1), 4);
    // The default smoothing is TensorBoard's 0.6, debiased: the last point by hand.
    QCOMPARE(page.smoothing(), 0.6);
    const auto baseLosses = losses(project_ / "runs" / "base");
    QVERIFY(std::abs(loss->smoothedPoints(0).back().y() - lastSmoothed(baseLosses, 0.6)) < 1e-9);
    QCOMPARE(loss->smoothedPoints(0).back().x(), 40.0);
    taxon::test::saveScreenshot(&page, QStringLiteral("compare-overlay"));

    // No smoothing: the curve is the raw figures, and no faint copy is drawn.
    page.setSmoothing(0.0);
    QCOMPARE(loss->rawPointCount(0), 0);
    QVERIFY(std::abs(loss->smoothedPoints(0).back().y() - baseLosses.back()) < 1e-12);
    page.setSmoothing(0.9);
    QVERIFY(std::abs(loss->smoothedPoints(0).back().y() - lastSmoothed(baseLosses, 0.9)) < 1e-9);

    // Epochs: 36 training pictures in batches of 16 are 2 steps an epoch.
    page.setAxis(RunAxis::Epoch);
    QCOMPARE(loss->smoothedPoints(0).back().x(), 20.0);
    QCOMPARE(loss->xTitle(), QStringLiteral("epoch"));
    page.setAxis(RunAxis::WallTime);
    QCOMPARE(loss->xTitle(), QStringLiteral("wall time (minutes)"));
    QCOMPARE(loss->smoothedPoints(0).front().x(), 0.0);
    QVERIFY(loss->smoothedPoints(0).back().x() > 0.0);

    // Log scale for the loss and the learning rate only.
    page.setAxis(RunAxis::Step);
    page.setLogScale(true);
    QVERIFY(loss->logScale());
    QVERIFY(page.chart(RunMetric::LearningRate)->logScale());
    QVERIFY(!page.chart(RunMetric::PrecisionAt1)->logScale());
    QVERIFY(loss->yLow() > 0.0);
    // Equal ratios take equal heights.
    const double y1 = loss->toWidget(QPointF(1.0, 1.0)).y();
    const double y2 = loss->toWidget(QPointF(1.0, 2.0)).y();
    const double y4 = loss->toWidget(QPointF(1.0, 4.0)).y();
    QVERIFY(std::abs((y1 - y2) - (y2 - y4)) < 1e-6);
    QCOMPARE(loss->pointCount(0), 40);
    page.setSmoothing(0.6);

    // Hovering: each run's value at the pointer's step.
    QCoreApplication::processEvents();
    const QPointF at = loss->toWidget(QPointF(20.0, loss->yLow() * 1.5));
    QTest::mouseMove(loss, at.toPoint());
    QTRY_VERIFY(!loss->hoverText().isEmpty());
    const QString hover = loss->hoverText();
    QVERIFY2(hover.startsWith(QStringLiteral("step 2")), qPrintable(hover));
    for (const char* name : {"runs/base", "runs/lower-lr", "runs/stopped"}) {
      QVERIFY2(hover.contains(QLatin1String(name)), qPrintable(hover));
    }
    QVERIFY2(hover.contains(QStringLiteral("(raw ")), qPrintable(hover));
    taxon::test::saveScreenshot(&page, QStringLiteral("compare-hover"));

    // Unticking takes the run off every chart.
    QVERIFY(page.tick(stopped, false));
    QCOMPARE(page.chart(RunMetric::RecallAt5)->curveCount(), 2);
  }

  void settingsDiffShowsOnlyWhatDiffers() {
    RunsPage page(&session_);
    QVERIFY(shown(page));
    auto* button = page.findChild<QPushButton*>(QStringLiteral("settingsDiff"));
    QVERIFY(button != nullptr);
    QVERIFY(page.tick(qpath(project_ / "runs" / "base")));
    QVERIFY(!button->isEnabled());
    QVERIFY(page.tick(qpath(project_ / "runs" / "lower-lr")));
    QVERIFY(button->isEnabled());
    const auto diff = page.settingsDiff();
    QStringList keys;
    for (const auto& d : diff) {
      keys.push_back(d.key);
    }
    QCOMPARE(keys, QStringList({"learning_rate_per_256", "seed"}));
    QCOMPARE(diff[0].values, QStringList({"0.2", "0.05"}));
    QCOMPARE(diff[1].values, QStringList({"1", "2"}));
    button->click();
    auto* dialog = page.findChild<QDialog*>(QStringLiteral("settingsDiffDialog"));
    QVERIFY(dialog != nullptr);
    QVERIFY(QTest::qWaitForWindowExposed(dialog));
    auto* table = dialog->findChild<QTableWidget*>();
    QCOMPARE(table->rowCount(), 2);
    QCOMPARE(table->columnCount(), 2);
    QCOMPARE(table->item(0, 1)->text(), QStringLiteral("0.05"));
    taxon::test::saveScreenshot(dialog, QStringLiteral("compare-settings-diff"));
    dialog->close();
  }

  void exportsThePictureAndEveryPoint() {
    RunsPage page(&session_);
    QVERIFY(shown(page));
    QVERIFY(page.tick(qpath(project_ / "runs" / "base")));
    QVERIFY(page.tick(qpath(project_ / "runs" / "stopped")));
    const QString png = qpath(dir_.path() / "charts.png");
    const QString csv = qpath(dir_.path() / "charts.csv");
    QString error;
    QVERIFY2(page.exportPng(png, &error), qPrintable(error));
    const QImage picture(png);
    QCOMPARE(picture.size(), page.chartsArea()->size() * page.chartsArea()->devicePixelRatio());
    QVERIFY2(page.exportCsv(csv, &error), qPrintable(error));
    QFile file(csv);
    QVERIFY(file.open(QIODevice::ReadOnly | QIODevice::Text));
    QTextStream stream(&file);
    QCOMPARE(stream.readLine(),
             QStringLiteral("run,metric,step,epoch,wall_seconds,value,smoothed"));
    const auto baseLosses = losses(project_ / "runs" / "base");
    std::vector<double> values;
    double lastSmooth = 0.0;
    int stoppedRows = 0;
    int precisionRows = 0;
    while (!stream.atEnd()) {
      const QStringList fields = stream.readLine().split(QLatin1Char(','));
      QCOMPARE(fields.size(), 7);
      if (fields[0] == QStringLiteral("runs/base") && fields[1] == QStringLiteral("loss")) {
        values.push_back(fields[5].toDouble());
        lastSmooth = fields[6].toDouble();
      }
      stoppedRows +=
          fields[0] == QStringLiteral("runs/stopped") && fields[1] == QStringLiteral("loss");
      precisionRows += fields[1] == QStringLiteral("precision@1");
    }
    QCOMPARE(values.size(), baseLosses.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
      QVERIFY(std::abs(values[i] - baseLosses[i]) < 1e-6 * std::abs(baseLosses[i]));
    }
    QVERIFY(std::abs(lastSmooth - lastSmoothed(baseLosses, 0.6)) < 1e-6);
    QCOMPARE(stoppedRows, stoppedSteps_);
    QCOMPARE(precisionRows, static_cast<int>(precisions(project_ / "runs" / "base").size() +
                                             precisions(project_ / "runs" / "stopped").size()));
    // An unwritable place is named.
    QVERIFY(!page.exportCsv(qpath(dir_.path() / "missing" / "x.csv"), &error));
    QVERIFY2(error.contains(QStringLiteral("missing")), qPrintable(error));
  }

  void aDamagedFileShowsWhatCanBeReadAndSaysWhatCouldNot() {
    RunsPage page(&session_);
    QVERIFY(shown(page));
    QVERIFY(page.tick(qpath(project_ / "runs" / "copied")));
    QVERIFY(page.tick(qpath(project_ / "runs" / "base")));
    const QString notice = page.noticeText();
    QVERIFY2(notice.contains(QStringLiteral("runs/copied: metrics.jsonl: 1 line could not be "
                                            "read (line 7: not a JSON object); the other %1 are "
                                            "shown")
                                 .arg(copiedLines_ - 1)),
             qPrintable(notice));
    QVERIFY2(
        notice.contains(QStringLiteral("runs/copied: metrics.jsonl: its last line is cut short")),
        qPrintable(notice));
    QVERIFY2(!notice.contains(QStringLiteral("runs/base")), qPrintable(notice));
    auto* loss = page.chart(RunMetric::Loss);
    QCOMPARE(loss->pointCount(0), 39);  // step 7's line is lost; the rest is drawn
    QCOMPARE(loss->pointCount(1), 40);
    QCOMPARE(page.chart(RunMetric::PrecisionAt1)->pointCount(0), 4);
    QVERIFY(page.proxy()
                ->index(rowOf(page, "runs/copied"), RunsModel::Name)
                .data(Qt::ToolTipRole)
                .toString()
                .contains(QStringLiteral("could not be read")));
    taxon::test::saveScreenshot(&page, QStringLiteral("compare-damaged"));
  }

  // A run trained beside the page (as a CLI in a terminal would): it appears, and its curves grow
  // while it runs, among a finished run's; it ends finished. The event loop never stalls long.
  void aRunningRunKeepsDrawingAmongTheOthers() {
    RunsPage page(&session_);
    QVERIFY(shown(page));
    QVERIFY(page.tick(qpath(project_ / "runs" / "base")));
    auto settings = shortRun(project_, "live", 0.2, 5);
    settings.maxSteps = 60;
    std::atomic<bool> done{false};
    std::jthread trainer([&] {
      taxon::train::TrainCallbacks callbacks;
      callbacks.onStep = [](const taxon::train::StepMetrics&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(60));
      };
      taxon::train::train(settings, false, callbacks);
      done = true;
    });
    const QString live = qpath(settings.trainDir);
    QTRY_VERIFY_WITH_TIMEOUT(
        page.model()->run(live) != nullptr && !page.model()->run(live)->series->step.empty(),
        60000);
    QVERIFY(page.tick(live));
    taxon::test::StallMeter stalls;
    int pointsWhileRunning = 0;
    int scansWhileRunning = 0;
    bool partial = false;  // a scan drew some of the run's steps, not yet all
    auto* loss = page.chart(RunMetric::Loss);
    while (!done) {
      QSignalSpy scanned(&page, &RunsPage::scanned);
      scanned.wait(3000);
      if (!done && cell(page, "runs/live", RunsModel::State) == QStringLiteral("running")) {
        ++scansWhileRunning;
        const int points = loss->pointCount(1);
        partial = partial || (points > 0 && points < 60);
        pointsWhileRunning = std::max(pointsWhileRunning, points);
      }
    }
    QTRY_COMPARE_WITH_TIMEOUT(cell(page, "runs/live", RunsModel::State), QStringLiteral("finished"),
                              10000);
    QTRY_COMPARE_WITH_TIMEOUT(loss->pointCount(1), 60, 10000);
    qInfo("scans while running: %d, most points drawn then: %d; longest stall %lld ms",
          scansWhileRunning, pointsWhileRunning, stalls.longestMs());
    QVERIFY(scansWhileRunning >= 2);
    QVERIFY(partial);
    QCOMPARE(loss->pointCount(0), 40);
    taxon::test::saveScreenshot(&page, QStringLiteral("compare-live"));
  }

 private:
  // Shows `page` at a desktop's size once it lists the five runs of initTestCase.
  static bool shown(RunsPage& page) {
    page.resize(1400, 900);
    page.show();
    if (!QTest::qWaitForWindowExposed(&page)) {
      return false;
    }
    return QTest::qWaitFor([&] { return page.model()->rowCount() == 5; }, 10000);
  }

  taxon::test::TempDir dir_;
  fs::path project_;
  ProjectSession session_;
  int copiedLines_ = 0;
  int stoppedSteps_ = 0;
};

QTEST_MAIN(TestRunsPage)
#include "test_RunsPage.moc"
