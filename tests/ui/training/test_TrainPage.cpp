// The Train page with real tiny training runs: the charts and the log receive the run's points
// live while the event loop never stalls over 100 ms; Pause holds the loop and Resume continues
// it; Stop writes a checkpoint and a stopped run resumes; an old run shows its history from
// metrics.jsonl; the charts stay light at 100,000 steps.
#include <cmath>

#include <QChart>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QPushButton>
#include <QSet>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTest>
#include <QTimer>
#include <QValueAxis>
#include <algorithm>

#include "UiTestProject.hpp"
#include "UiTestSupport.hpp"
#include "common/ProjectJobs.hpp"
#include "common/ProjectSession.hpp"
#include "train/RunDirectory.hpp"
#include "training/ChartPanel.hpp"
#include "training/RunHistory.hpp"
#include "training/TrainJob.hpp"
#include "training/TrainPage.hpp"

using taxon::ui::ProjectJobs;
using taxon::ui::ProjectSession;
using taxon::ui::TrainPage;

namespace {

QString qpath(const std::filesystem::path& path) {
  return QString::fromStdString(path.string());
}

}  // namespace

class TestTrainPage : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    taxon::test::makeUiTestProject(dir_.path(), 12, /*records=*/true);
    QVERIFY(session_.open(qpath(dir_.path()), false));
  }

  void chartsFollowARealRunWithoutStallingTheInterface() {
    TrainPage page(&session_, &jobs_);
    page.resize(1200, 800);
    page.show();
    QVERIFY(QTest::qWaitForWindowExposed(&page));
    // 40 steps of 16 of the 36 training pictures. Whether so short a run learns depends on float
    // rounding (contiguous on AVX-512, AVX2 and SSE4.1: mean loss 2.16-2.20 over the first ten
    // steps, 1.60-1.70 over the last ten; channels-last, now the CPU's default: 2.13 and 2.07), so
    // learning is tested in the engine's stable regimes (test_Trainer); here the page follows the
    // run.
    page.setForm(75, 0.1, 16, 40, QStringLiteral("small-data"), 10, QStringLiteral("live"));
    auto* rate = page.findChild<QDoubleSpinBox*>(QStringLiteral("learningRate"));
    QVERIFY(rate != nullptr);
    rate->setValue(0.2);
    QSignalSpy finished(&page, &TrainPage::runFinished);
    taxon::test::StallMeter stalls;
    int lossPointsDuringRun = 0;
    QTimer probe;
    QObject::connect(&probe, &QTimer::timeout, &page, [&] {
      if (page.job()->isRunning()) {
        lossPointsDuringRun = std::max(lossPointsDuringRun, page.lossChart()->pointCount(0));
      }
    });
    probe.start(50);
    page.startRun();
    QVERIFY(finished.wait(180000));
    QVERIFY2(finished.at(0).at(1).toBool(), qPrintable(page.logText()));
    // Every step reached the history; the charts had points while the run was going.
    QCOMPARE(static_cast<int>(page.history().loss().size()), 40);
    QVERIFY(lossPointsDuringRun > 0);
    QCOMPARE(page.lossChart()->pointCount(0), 40);
    QVERIFY(page.accuracyChart()->pointCount(0) >= 4);  // evaluations at 10, 20, 30, 40
    QVERIFY(page.logText().contains(QStringLiteral("step 40, loss =")));
    // Real figures of a real run: finite losses, printed for the record.
    const auto& loss = page.history().loss();
    double first = 0.0;
    double last = 0.0;
    for (int i = 0; i < 10; ++i) {
      first += loss[static_cast<std::size_t>(i)].y() / 10.0;
      last += loss[loss.size() - 10 + static_cast<std::size_t>(i)].y() / 10.0;
    }
    qInfo("mean loss of the first ten steps %.3f, of the last ten %.3f", first, last);
    QVERIFY(std::isfinite(first) && std::isfinite(last) && first > 0.0 && last > 0.0);
    qInfo("longest event-loop stall during the run: %lld ms", stalls.longestMs());
    QVERIFY2(stalls.longestMs() < 100, qPrintable(QString::number(stalls.longestMs())));
    taxon::test::saveScreenshot(&page, QStringLiteral("train-page"));
  }

  // Distill from a run: choosing the teacher sets the student to half its width at its input
  // size and says what that costs against the teacher; the student's run records the teacher and
  // its loss chart shows the two parts (labels and teacher); a run without a teacher hides them.
  void distillFromARunShowsTheLossParts() {
    TrainPage page(&session_, &jobs_);
    page.resize(1200, 800);
    page.show();
    QVERIFY(QTest::qWaitForWindowExposed(&page));
    page.setForm(75, 0.3, 16, 60, QStringLiteral("small-data"), 30, QStringLiteral("teacher"));
    QSignalSpy finished(&page, &TrainPage::runFinished);
    page.startRun();
    QVERIFY(finished.wait(180000));
    QVERIFY2(finished.at(0).at(1).toBool(), qPrintable(page.logText()));
    QVERIFY(!page.lossChart()->seriesShown(2));
    QVERIFY(!page.lossChart()->seriesShown(3));
    const QString teacherDir = page.runDir();

    page.setForm(107, 1.0, 16, 30, QStringLiteral("inception"), 15, QStringLiteral("student"));
    QSignalSpy measured(&page, &TrainPage::sizeMeasured);
    QVERIFY(page.setTeacher(teacherDir));
    QVERIFY(page.temperatureBox()->isEnabled());
    const auto form = page.settingsFromForm();
    QCOMPARE(form.depthMultiplier, 0.15);
    QCOMPARE(form.imageSize, 75);
    QCOMPARE(QString::fromStdString(form.recipe), QStringLiteral("small-data"));
    QCOMPARE(QString::fromStdString(form.teacherDir.string()), teacherDir);
    QCOMPARE(form.temperature, 4.0);
    QTRY_VERIFY_WITH_TIMEOUT(page.sizeText().contains(QStringLiteral("of the teacher's")), 10000);
    qInfo("%s", qPrintable(page.sizeText()));
    page.temperatureBox()->setValue(2.0);
    page.startRun();
    QVERIFY(finished.wait(180000));
    QVERIFY2(finished.at(1).at(1).toBool(), qPrintable(page.logText()));
    QVERIFY2(page.logText().contains(QStringLiteral("distilling from")),
             qPrintable(page.logText()));
    const auto saved = taxon::train::readRunSettings(page.runDir().toStdString());
    QCOMPARE(saved.temperature, 2.0);
    QVERIFY(saved.teacherStep == 60);
    QVERIFY(page.history().distilled());
    QVERIFY(page.lossChart()->seriesShown(2));
    QVERIFY(page.lossChart()->seriesShown(3));
    QCOMPARE(page.lossChart()->pointCount(3), 30);
    for (const auto& point : page.history().distillLoss()) {
      QVERIFY(std::isfinite(point.y()) && point.y() >= 0.0);
    }
    taxon::test::saveScreenshot(&page, QStringLiteral("train-distill"));

    // An old run without a teacher: the parts are hidden again.
    QVERIFY(page.openRun(teacherDir));
    QVERIFY(!page.lossChart()->seriesShown(3));
  }

  // One evaluation is a visible marker in the middle of the chart, not an invisible line on its
  // edge; the step axis never repeats a label ("843 843 843 843 844", or "0 0 0 0 1" when empty).
  void chartsShowFewPointsAndDistinctStepLabels() {
    taxon::ui::ChartPanel chart(QStringLiteral("Evaluation"),
                                {QStringLiteral("precision@1"), QStringLiteral("recall@5")});
    chart.resize(400, 300);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    const auto* axis = qobject_cast<QValueAxis*>(chart.chart()->axes(Qt::Horizontal).first());
    QVERIFY(axis != nullptr);
    const auto labels = [&] {
      QStringList out;
      for (int i = 0; i < axis->tickCount(); ++i) {
        const double v = axis->min() + i * (axis->max() - axis->min()) / (axis->tickCount() - 1);
        out.push_back(QString::asprintf("%d", static_cast<int>(v)));
      }
      return out;
    };
    const auto distinct = [](const QStringList& l) {
      return QSet<QString>(l.begin(), l.end()).size() == l.size();
    };
    QVERIFY2(distinct(labels()), qPrintable(labels().join(QLatin1Char(' '))));  // empty
    chart.setPoints(0, {{10.0, 0.3}, {20.0, 0.5}, {30.0, 0.6}, {40.0, 0.6}});
    QCOMPARE(labels(), QStringList({"10", "20", "30", "40"}));
    chart.setPoints(0, {{843.0, 0.7634}});
    chart.setPoints(1, {{843.0, 0.9912}});
    QCOMPARE(chart.pointCount(0), 1);
    QVERIFY(chart.markersShown(0));
    QVERIFY(chart.markersShown(1));
    QVERIFY(axis->min() < 843.0 && 843.0 < axis->max());
    QVERIFY2(distinct(labels()), qPrintable(labels().join(QLatin1Char(' '))));
    taxon::test::saveScreenshot(&chart, QStringLiteral("chart-one-evaluation"));
    std::vector<QPointF> many;
    for (int i = 1; i <= 5000; ++i) {
      many.emplace_back(i, 1.0 / i);
    }
    chart.setPoints(0, many);
    QVERIFY(!chart.markersShown(0));  // a line is enough
    QVERIFY2(distinct(labels()), qPrintable(labels().join(QLatin1Char(' '))));
    chart.clearAll();
    QVERIFY2(distinct(labels()), qPrintable(labels().join(QLatin1Char(' '))));
    chart.setNotice(QStringLiteral("nothing to evaluate: the 'validation' split is empty"));
    QVERIFY(chart.chart()->title().contains(QStringLiteral("nothing to evaluate")));
    chart.setNotice({});
    QCOMPARE(chart.chart()->title(), QStringLiteral("Evaluation"));
  }

  void pauseHoldsTheRunStopCheckpointsAndResumeContinues() {
    TrainPage page(&session_, &jobs_);
    page.show();
    page.setForm(75, 0.1, 8, 400, QStringLiteral("small-data"), 0, QStringLiteral("paused"));
    QSignalSpy finished(&page, &TrainPage::runFinished);
    page.startRun();
    QTRY_VERIFY_WITH_TIMEOUT(page.history().loss().size() >= 3, 60000);
    page.pauseRun();
    QTest::qWait(600);  // the step under way finishes
    const auto atPause = page.history().loss().size();
    QTest::qWait(1500);
    QCOMPARE(page.history().loss().size(), atPause);  // nothing moved while paused
    QVERIFY(page.findChild<QPushButton*>(QStringLiteral("resume"))->isEnabled());
    page.resumeRun();
    QTRY_VERIFY_WITH_TIMEOUT(page.history().loss().size() > atPause + 2, 60000);
    page.stopRun();
    QVERIFY(finished.wait(60000));
    QVERIFY(finished.at(0).at(1).toBool());
    QCOMPARE(page.timeLeftText(), QStringLiteral("stopped"));  // no time left of a stopped run
    const qint64 stoppedAt = page.history().lastStep();
    QVERIFY(stoppedAt < 400);

    // A fresh page shows the stopped run's history from metrics.jsonl, then resumes it.
    TrainPage again(&session_, &jobs_);
    again.show();
    QVERIFY(again.openRun(page.runDir()));
    QCOMPARE(again.history().lastStep(), stoppedAt);
    QCOMPARE(again.history().loss().size(), page.history().loss().size());
    QSignalSpy resumed(&again, &TrainPage::runFinished);
    again.setForm(75, 0.1, 8, stoppedAt + 5, QStringLiteral("small-data"), 0,
                  QStringLiteral("unused"));
    again.resumeRun();
    QVERIFY(resumed.wait(120000));
    QVERIFY(resumed.at(0).at(1).toBool());
    QVERIFY(again.history().lastStep() > stoppedAt);
  }

  void aNewRunRefusesAnExistingName() {
    TrainPage page(&session_, &jobs_);
    page.setForm(75, 0.1, 8, 5, QStringLiteral("small-data"), 0, QStringLiteral("live"));
    page.startRun();
    QVERIFY(!page.job()->isRunning());
  }

  // An empty evaluation split reaches the Evaluation chart as a notice, live and from the file.
  void anEmptyEvaluationSplitIsANoticeNotPointsAtZero() {
    taxon::ui::RunHistory history;
    taxon::train::EvalPoint skipped;
    skipped.subset = "validation";
    skipped.skipped = "the 'validation' split of /p/records is empty (test 100, train 900)";
    history.add(skipped);
    QVERIFY(history.precisionAt1().empty());
    QVERIFY(
        history.evalNotice().startsWith(QStringLiteral("nothing to evaluate: the 'validation'")));
    const auto dir = dir_.path() / "skipped-run";
    std::filesystem::create_directories(dir);
    taxon::test::writeFile(dir / "metrics.jsonl",
                           R"({"step":0,"time":1,"eval":{"subset":"validation","examples":0,)"
                           R"("skipped":"the 'validation' split of /p/records is empty"}})"
                           "\n");
    taxon::ui::RunHistory read;
    QVERIFY(read.read(qpath(dir)));
    QVERIFY(read.precisionAt1().empty());
    QVERIFY(read.evalNotice().contains(QStringLiteral("is empty")));
  }

  void chartsStayLightAtAHundredThousandSteps() {
    taxon::ui::RunHistory history;
    for (int step = 1; step <= 100000; ++step) {
      taxon::train::StepMetrics m;
      m.step = step;
      m.loss = 2.0 / std::sqrt(static_cast<double>(step)) + 0.1 * ((step * 7919) % 13) / 13.0;
      m.learningRate = 0.1;
      m.examplesPerSec = 300;
      history.add(m);
    }
    taxon::ui::ChartPanel chart(QStringLiteral("Loss"), {QStringLiteral("loss")});
    chart.resize(600, 300);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    QElapsedTimer timer;
    timer.start();
    chart.setPoints(0, history.loss());
    chart.grab();  // paint once
    qInfo("100,000 steps: %d points drawn, %lld ms to replace and paint", chart.pointCount(0),
          timer.elapsed());
    QVERIFY(chart.pointCount(0) <= 4 * 600);
    QVERIFY(chart.pointCount(0) > 100);
    // The decimation keeps the extremes.
    const auto shown = taxon::ui::decimate(history.loss(), 300);
    const auto [low, high] =
        std::minmax_element(history.loss().begin(), history.loss().end(),
                            [](const QPointF& a, const QPointF& b) { return a.y() < b.y(); });
    QVERIFY(std::any_of(shown.begin(), shown.end(), [&](const QPointF& p) { return p == *low; }));
    QVERIFY(std::any_of(shown.begin(), shown.end(), [&](const QPointF& p) { return p == *high; }));
    taxon::test::saveScreenshot(&chart, QStringLiteral("train-chart-100k"));
  }

 private:
  taxon::test::TempDir dir_;
  ProjectSession session_;
  ProjectJobs jobs_{&session_};
};

QTEST_MAIN(TestTrainPage)
#include "test_TrainPage.moc"
