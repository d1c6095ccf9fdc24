// File > Export model on a real project and a tiny run really trained here: the ONNX export, the
// int8 export calibrated on the project's records with the progress bar moving, Cancel leaving no
// file, an unwritable file named in the dialog.
#include <QLineEdit>
#include <QProgressBar>
#include <QSignalSpy>
#include <QTest>
#include <filesystem>
#include <map>
#include <memory>

#include "TrainTestData.hpp"
#include "UiTestProject.hpp"
#include "UiTestSupport.hpp"
#include "common/Paths.hpp"
#include "deploy/OnnxModel.hpp"
#include "train/Trainer.hpp"
#include "training/ExportDialog.hpp"

namespace fs = std::filesystem;
using taxon::ui::ExportDialog;
using taxon::ui::fromPath;

class TestExportDialog : public QObject {
  Q_OBJECT

  std::unique_ptr<taxon::test::TempDir> temp_;
  fs::path project_;
  fs::path run_;

  std::unique_ptr<ExportDialog> dialog() const {
    return std::make_unique<ExportDialog>(QStringList{fromPath(run_)}, fromPath(run_),
                                          fromPath(project_ / "records"));
  }

  static std::map<std::string, std::int64_t> opCounts(const fs::path& path) {
    const auto summary = taxon::deploy::readOnnxSummary(path);
    return {summary.opCounts.begin(), summary.opCounts.end()};
  }

 private Q_SLOTS:
  void initTestCase() {
    temp_ = std::make_unique<taxon::test::TempDir>();
    project_ = temp_->path() / "project";
    taxon::test::makeUiTestProject(project_, 6, /*records=*/true);
    run_ = temp_->path() / "run";
    auto settings = taxon::test::tinyRun(run_, project_ / "records");
    settings.maxSteps = 2;
    QCOMPARE(taxon::train::train(settings, false, {}).step, 2);
  }

  void exportsOnnxAndProposesAFileInTheRun() {
    auto d = dialog();
    const QString proposed = d->findChild<QLineEdit*>()->text();
    QCOMPARE(proposed, fromPath(run_ / "model.onnx"));
    QSignalSpy done(d.get(), &ExportDialog::exportFinished);
    QVERIFY(d->startExport());
    QVERIFY(done.wait(60000));
    QVERIFY2(done.at(0).at(0).toBool(), qPrintable(done.at(0).at(2).toString()));
    const auto ops = opCounts(run_ / "model.onnx");
    QVERIFY(ops.at("Conv") > 50);
    QCOMPARE(ops.count("QuantizeLinear"), std::size_t{0});
  }

  void exportsInt8WithItsCalibrationProgress() {
    auto d = dialog();
    d->setFormat(ExportDialog::Format::OnnxInt8);
    const fs::path output = temp_->path() / "tiny-int8.onnx";
    d->setOutput(fromPath(output));
    d->setCalibrationImages(16);
    d->show();
    QVERIFY(QTest::qWaitForWindowExposed(d.get()));
    QSignalSpy done(d.get(), &ExportDialog::exportFinished);
    int largest = 0;
    connect(d->progressBar(), &QProgressBar::valueChanged, this,
            [&largest](int value) { largest = std::max(largest, value); });
    QVERIFY(d->startExport());
    QVERIFY(done.wait(60000));
    QVERIFY2(done.at(0).at(0).toBool(), qPrintable(done.at(0).at(2).toString()));
    QVERIFY2(done.at(0).at(2).toString().contains(QStringLiteral("int8")),
             qPrintable(done.at(0).at(2).toString()));
    QVERIFY(largest >= 8);  // the bar followed the calibration's images
    const auto ops = opCounts(output);
    QVERIFY(ops.at("QuantizeLinear") > ops.at("Conv"));
    taxon::test::saveScreenshot(d.get(), QStringLiteral("export-int8-done"));
  }

  void cancelLeavesNoFile() {
    auto d = dialog();
    d->setFormat(ExportDialog::Format::OnnxInt8);
    const fs::path output = temp_->path() / "cancelled.onnx";
    d->setOutput(fromPath(output));
    QSignalSpy done(d.get(), &ExportDialog::exportFinished);
    QVERIFY(d->startExport());
    d->reject();  // the Cancel button: the export is still loading the checkpoint
    QVERIFY(done.wait(60000));
    QCOMPARE(done.at(0).at(1).toBool(), true);
    QVERIFY(!fs::exists(output));
    QVERIFY(d->isVisible() || !d->isRunning());
  }

  void anUnwritableFileIsNamed() {
    auto d = dialog();
    d->setOutput(fromPath(temp_->path() / "no-such-folder" / "m.onnx"));
    QSignalSpy done(d.get(), &ExportDialog::exportFinished);
    QVERIFY(d->startExport());
    QVERIFY(done.wait(60000));
    QCOMPARE(done.at(0).at(0).toBool(), false);
    QVERIFY2(d->errorText().contains(QStringLiteral("no-such-folder")), qPrintable(d->errorText()));
  }
};

QTEST_MAIN(TestExportDialog)
#include "test_ExportDialog.moc"
