#include "training/ExportDialog.hpp"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "checkpoint/TrainedModel.hpp"
#include "common/EngineTask.hpp"
#include "common/Paths.hpp"
#include "deploy/torch/InceptionOnnx.hpp"

namespace taxon::ui {

ExportDialog::ExportDialog(const QStringList& runs, const QString& currentRun,
                           const QString& recordsDir, QWidget* parent)
    : QDialog(parent), recordsDir_(recordsDir), task_(new EngineTask(this)) {
  setWindowTitle(tr("Export model"));
  runs_ = new QComboBox(this);
  for (const QString& run : runs) {
    runs_->addItem(QFileInfo(run).fileName(), run);
  }
  format_ = new QComboBox(this);
  format_->addItem(tr("ONNX (float32)"), static_cast<int>(Format::Onnx));
  format_->addItem(tr("ONNX int8 (calibrated on training images)"),
                   static_cast<int>(Format::OnnxInt8));
  format_->addItem(tr("torchvision state_dict (.pth)"), static_cast<int>(Format::Torchvision));
  output_ = new QLineEdit(this);
  auto* browse = new QPushButton(tr("Choose…"), this);
  auto* outputRow = new QHBoxLayout;
  outputRow->addWidget(output_, 1);
  outputRow->addWidget(browse);
  calibrationImages_ = new QSpinBox(this);
  calibrationImages_->setRange(1, 1000000);
  calibrationImages_->setValue(512);
  calibrationImages_->setToolTip(
      tr("Shuffled training images whose activations set the int8 scales"));
  progress_ = new QProgressBar(this);
  progress_->setVisible(false);
  status_ = new QLabel(this);
  status_->setWordWrap(true);
  buttons_ = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
  auto* start = buttons_->addButton(tr("Export"), QDialogButtonBox::AcceptRole);

  auto* form = new QFormLayout;
  form->addRow(tr("Run"), runs_);
  form->addRow(tr("Format"), format_);
  form->addRow(tr("File"), outputRow);
  form->addRow(tr("Calibration images"), calibrationImages_);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(progress_);
  layout->addWidget(status_);
  layout->addWidget(buttons_);

  connect(browse, &QPushButton::clicked, this, &ExportDialog::chooseOutput);
  connect(format_, &QComboBox::currentIndexChanged, this, &ExportDialog::formatChanged);
  connect(start, &QPushButton::clicked, this, &ExportDialog::startExport);
  connect(buttons_, &QDialogButtonBox::rejected, this, &ExportDialog::reject);
  connect(task_, &EngineTask::progress, this,
          [this](const QString& stage, qint64 done, qint64 total, const QString& unit) {
            progress_->setMaximum(static_cast<int>(std::max<qint64>(total, 0)));
            progress_->setValue(static_cast<int>(done));
            status_->setText(tr("%1: %2 of %3 %4").arg(stage).arg(done).arg(total).arg(unit));
          });
  connect(task_, &EngineTask::finished, this, &ExportDialog::finished);
  setRun(currentRun);
  formatChanged();
}

ExportDialog::~ExportDialog() = default;

void ExportDialog::setRun(const QString& run) {
  const int index = runs_->findData(run);
  if (index >= 0) {
    runs_->setCurrentIndex(index);
  }
}

void ExportDialog::setFormat(Format format) {
  format_->setCurrentIndex(format_->findData(static_cast<int>(format)));
}

void ExportDialog::setOutput(const QString& path) {
  output_->setText(path);
}

void ExportDialog::setCalibrationImages(int images) {
  calibrationImages_->setValue(images);
}

bool ExportDialog::isRunning() const {
  return task_->isRunning();
}

QString ExportDialog::errorText() const {
  return status_->text();
}

void ExportDialog::chooseOutput() {
  const bool torchvision = format_->currentData().toInt() == static_cast<int>(Format::Torchvision);
  const QString path = QFileDialog::getSaveFileName(
      this, tr("Export to"), output_->text(),
      torchvision ? tr("state_dict (*.pth)") : tr("ONNX model (*.onnx)"));
  if (!path.isEmpty()) {
    output_->setText(path);
  }
}

void ExportDialog::formatChanged() {
  const auto format = static_cast<Format>(format_->currentData().toInt());
  calibrationImages_->setEnabled(format == Format::OnnxInt8);
  QString path = output_->text();
  if (path.isEmpty() && runs_->currentIndex() >= 0) {
    path = QDir(runs_->currentData().toString()).filePath(QStringLiteral("model.onnx"));
  }
  const QString suffix = format == Format::Torchvision ? QStringLiteral(".pth")
                         : format == Format::OnnxInt8  ? QStringLiteral("-int8.onnx")
                                                       : QStringLiteral(".onnx");
  for (const QString& old :
       {QStringLiteral("-int8.onnx"), QStringLiteral(".onnx"), QStringLiteral(".pth")}) {
    if (path.endsWith(old)) {
      path.chop(old.size());
      break;
    }
  }
  if (!path.isEmpty()) {
    output_->setText(path + suffix);
  }
}

bool ExportDialog::startExport() {
  if (task_->isRunning()) {
    status_->setText(tr("An export is running."));
    return false;
  }
  if (runs_->currentIndex() < 0 || output_->text().trimmed().isEmpty()) {
    status_->setText(tr("Choose a run and the file to write."));
    return false;
  }
  const auto run = toPath(runs_->currentData().toString());
  const auto output = toPath(output_->text().trimmed());
  const auto format = static_cast<Format>(format_->currentData().toInt());
  deploy::OnnxExportOptions options;
  options.int8 = format == Format::OnnxInt8;
  options.dataDir = toPath(recordsDir_);
  options.calibration.images = calibrationImages_->value();
  progress_->setVisible(true);
  progress_->setRange(0, 0);
  status_->setText(tr("Exporting…"));
  for (auto* button : buttons_->buttons()) {
    if (buttons_->buttonRole(button) == QDialogButtonBox::AcceptRole) {
      button->setEnabled(false);
    }
  }
  return task_->start([run, output, format, options](std::stop_token stop,
                                                     const core::ProgressFn& progress) {
    if (format == Format::Torchvision) {
      const auto trained = checkpoint::exportTorchvision(run, output);
      return tr("Wrote %1 (step %2, averaged weights).").arg(fromPath(output)).arg(trained.step);
    }
    const auto written = deploy::exportOnnx(run, output, options, stop, progress);
    if (written.stopped) {
      return tr("Cancelled; nothing was written.");
    }
    return tr("Wrote %1 (%2 MB; step %3%4).")
        .arg(fromPath(output))
        .arg(static_cast<double>(written.bytes) / 1e6, 0, 'f', 1)
        .arg(written.step)
        .arg(options.int8
                 ? tr("; int8, calibrated on %1 training images").arg(written.calibrationImages)
                 : QString());
  });
}

void ExportDialog::finished(bool ok, bool cancelled, const QString& message) {
  progress_->setVisible(false);
  status_->setText(message);
  for (auto* button : buttons_->buttons()) {
    button->setEnabled(true);
  }
  // EngineTask says `cancelled` whenever the stop was requested, the export's own early return
  // (written.stopped) included.
  Q_EMIT exportFinished(ok && !cancelled, cancelled, message);
}

void ExportDialog::reject() {
  if (task_->isRunning()) {
    task_->cancel();  // finished() follows; the dialog stays open to say so
    return;
  }
  QDialog::reject();
}

}  // namespace taxon::ui
