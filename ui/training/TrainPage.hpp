// The Train page: a settings form (model size, input size, device and GPUs found, batch, epochs
// or steps, recipe, learning rate, and a teacher to distil from: one of the project's runs, with
// temperature and weight; the model's multiply-adds per image, and the teacher's, under the
// sizes), Start / Pause / Stop / Resume, live charts of the loss (raw
// and smoothed), learning rate, examples/sec and the periodic precision@1 and recall@5, the log
// in the seed's format, and progress with the time left. A distillation run's loss chart also
// shows its two parts: "labels" (the cross-entropy) and "teacher" (T^2 x KL to the teacher). A 100
// ms timer drains the TrainJob's buffer into the charts, so the GUI never waits for the engine.
// Choosing an earlier run shows its history from its metrics.jsonl, and Resume continues it.
#pragma once

#include <QString>
#include <QWidget>
#include <functional>
#include <memory>

#include "core/Progress.hpp"
#include "settings/TrainSettings.hpp"
#include "training/RunHistory.hpp"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QRadioButton;
class QSpinBox;
class QThreadPool;
class QTimer;

namespace taxon::ui {

class ChartPanel;
class ProjectJobs;
class ProjectSession;
class TrainJob;

class TrainPage : public QWidget {
  Q_OBJECT

 public:
  // Records are built through `jobs` (shared with the other pages).
  TrainPage(ProjectSession* session, ProjectJobs* jobs, QWidget* parent = nullptr);
  ~TrainPage() override;

  // The settings the form describes (the run goes to PROJECT/runs/NAME, data from its records).
  settings::TrainSettings settingsFromForm() const;
  // Fills the form (tests; a small run).
  void setForm(int imageSize, double depthMultiplier, int batchSize, qint64 steps,
               const QString& recipe, qint64 evalEvery, const QString& runName);
  QString runDir() const;  // the run the page shows
  const RunHistory& history() const { return history_; }
  ChartPanel* lossChart() const { return lossChart_; }
  ChartPanel* accuracyChart() const { return accuracyChart_; }
  TrainJob* job() const { return job_; }
  QString logText() const;
  // Whether Start is enabled, and why not when it is not (also its tooltip).
  bool canStart() const { return startBlockedReason_.isEmpty(); }
  const QString& startBlockedReason() const { return startBlockedReason_; }
  QString timeLeftText() const;  // "2:43 left" while running; "stopped", "finished" after
  // "Distill from": the teacher's train dir, or empty for a run on the labels alone. Choosing a
  // teacher sets the student's recipe and input size to the teacher's and its model size to half
  // the teacher's (about a quarter of its multiply-adds); each can be changed after.
  QComboBox* teacherBox() const { return teacher_; }
  bool setTeacher(const QString& trainDir);
  QDoubleSpinBox* temperatureBox() const { return temperature_; }
  QDoubleSpinBox* distillWeightBox() const { return distillWeight_; }
  // The size line under the form ("0.123 G multiply-adds per image, 1.23 M parameters; 26 % of
  // the teacher's"), computed off the GUI thread; sizeMeasured() when it is current.
  QString sizeText() const;

 public Q_SLOTS:
  void startRun();
  void pauseRun();
  void resumeRun();
  void stopRun();
  // Shows an existing run (its history from metrics.jsonl).
  bool openRun(const QString& trainDir);

 Q_SIGNALS:
  void runStarted(const QString& trainDir);
  void sizeMeasured();
  void runFinished(const QString& trainDir, bool ok);

 private:
  QWidget* buildForm();     // the settings and the buttons
  QWidget* buildMonitor();  // charts, log, state and progress
  void connectUi();
  void refresh();  // the timer: drain the job, update the charts
  void redrawCharts();
  void jobFinished(bool ok, bool stopped, const QString& message);
  void updateButtons();
  void listRuns();
  void appendLog(const QString& line);
  // Runs `then` once the project's records are current, building them first when not.
  void ensureRecords(std::function<void()> then);
  void recordsDone(bool built, const QString& message);
  void teacherChosen();
  void listTeachers();
  void measureSize();  // the size line, on pool_

  ProjectSession* session_;
  TrainJob* job_;
  ProjectJobs* jobs_;
  std::function<void()> afterRecords_;  // what waits for the records being built
  QTimer* timer_;
  RunHistory history_;
  QString runDir_;
  QString startBlockedReason_;
  core::RateMeter rate_;  // steps per second, for the time left

  QComboBox* runs_;
  QLineEdit* name_;
  QComboBox* recipe_;
  QDoubleSpinBox* depth_;
  QSpinBox* imageSize_;
  QComboBox* device_;
  QSpinBox* gpus_;
  QSpinBox* batch_;
  QRadioButton* byEpochs_;
  QRadioButton* bySteps_;
  QDoubleSpinBox* epochs_;
  QSpinBox* steps_;
  QDoubleSpinBox* learningRate_;
  QSpinBox* evalEvery_;
  QPushButton* start_;
  QPushButton* pause_;
  QPushButton* resume_;
  QPushButton* stop_;
  ChartPanel* lossChart_;
  ChartPanel* rateChart_;
  ChartPanel* speedChart_;
  ChartPanel* accuracyChart_;
  QProgressBar* progress_;
  QLabel* eta_;
  QLabel* state_;
  QPlainTextEdit* log_;
  QComboBox* teacher_;
  QDoubleSpinBox* temperature_;
  QDoubleSpinBox* distillWeight_;
  QLabel* size_;
  std::unique_ptr<QThreadPool> pool_;  // the size measurements (one at a time, newest wins)
  int sizeRequest_ = 0;
};

}  // namespace taxon::ui
