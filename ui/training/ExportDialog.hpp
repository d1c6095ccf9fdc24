// File > Export model: a run's averaged weights written for use outside Taxon, as `taxon export`
// writes them (an ONNX model, its int8 form calibrated on the project's training images, or a
// torchvision state_dict). The export runs on an engine thread; the dialog shows its progress
// (calibration reports images) and its Cancel button stops it, leaving no file behind.
#pragma once

#include <QDialog>
#include <QString>
#include <QStringList>

class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QSpinBox;

namespace taxon::ui {

class EngineTask;

class ExportDialog : public QDialog {
  Q_OBJECT

 public:
  enum class Format { Onnx, OnnxInt8, Torchvision };

  // `runs`: the project's run folders; `currentRun` is chosen first when among them.
  // `recordsDir`: the records int8 calibration reads (their train split).
  ExportDialog(const QStringList& runs, const QString& currentRun, const QString& recordsDir,
               QWidget* parent = nullptr);
  ~ExportDialog() override;

  void setRun(const QString& run);
  void setFormat(Format format);
  void setOutput(const QString& path);
  void setCalibrationImages(int images);

  // Starts the export with the fields as they are; false (with the reason in errorText()) when
  // they are incomplete or an export is running.
  bool startExport();
  bool isRunning() const;
  QString errorText() const;
  // Cancel (and Escape): stops a running export, the dialog staying open to say so; else closes.
  void reject() override;

  QProgressBar* progressBar() const { return progress_; }

 Q_SIGNALS:
  // The export ended: written, failed (message says why) or cancelled (nothing written).
  void exportFinished(bool ok, bool cancelled, const QString& message);

 private:
  void chooseOutput();
  void formatChanged();
  void finished(bool ok, bool cancelled, const QString& message);

  // What the export reads.
  QComboBox* runs_ = nullptr;
  QComboBox* format_ = nullptr;
  QLineEdit* output_ = nullptr;
  QSpinBox* calibrationImages_ = nullptr;
  QString recordsDir_;
  // What it shows while it runs, and the job itself.
  QProgressBar* progress_ = nullptr;
  QLabel* status_ = nullptr;
  QDialogButtonBox* buttons_ = nullptr;
  EngineTask* task_ = nullptr;
};

}  // namespace taxon::ui
