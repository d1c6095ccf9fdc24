#include "training/TrainPage.hpp"

#include <QButtonGroup>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QThread>
#include <QThreadPool>
#include <QTimer>
#include <QVBoxLayout>
#include <algorithm>
#include <functional>
#include <optional>
#include <utility>

#include "checkpoint/TrainedModel.hpp"
#include "common/Paths.hpp"
#include "common/ProjectJobs.hpp"
#include "common/ProjectSession.hpp"
#include "core/Progress.hpp"
#include "core/torch/Runtime.hpp"
#include "model/ModelSize.hpp"
#include "training/ChartPanel.hpp"
#include "training/TrainJob.hpp"

namespace taxon::ui {
TrainPage::TrainPage(ProjectSession* session, ProjectJobs* jobs, QWidget* parent)
    : QWidget(parent), session_(session), jobs_(jobs) {
  job_ = new TrainJob(this);
  pool_ = std::make_unique<QThreadPool>();
  pool_->setMaxThreadCount(1);
  timer_ = new QTimer(this);
  timer_->setInterval(100);

  auto* layout = new QHBoxLayout(this);
  layout->addWidget(buildForm());
  layout->addWidget(buildMonitor(), 1);
  connectUi();
  name_->setText(QDateTime::currentDateTime().toString(QStringLiteral("'run-'yyyyMMdd-HHmm")));
  listRuns();
  updateButtons();
  measureSize();
}

QWidget* TrainPage::buildForm() {
  runs_ = new QComboBox(this);
  runs_->setObjectName(QStringLiteral("runs"));
  name_ = new QLineEdit(this);
  name_->setObjectName(QStringLiteral("runName"));
  recipe_ = new QComboBox(this);
  recipe_->addItem(tr("small-data (SGD, cosine)"), QStringLiteral("small-data"));
  recipe_->addItem(tr("inception (the seed's RMSProp)"), QStringLiteral("inception"));
  depth_ = new QDoubleSpinBox(this);
  depth_->setRange(0.1, 2.0);
  depth_->setSingleStep(0.25);
  depth_->setValue(0.25);
  depth_->setToolTip(tr("Depth multiplier: 1.0 is the full Inception-v3 (27 M parameters)"));
  imageSize_ = new QSpinBox(this);
  imageSize_->setRange(75, 512);
  imageSize_->setValue(75);
  imageSize_->setSuffix(tr(" px"));
  device_ = new QComboBox(this);
  gpus_ = new QSpinBox(this);
  gpus_->setRange(1, 1);
  const core::RuntimeInfo runtime = core::queryRuntime();
  device_->addItem(tr("CPU (%1 threads)").arg(runtime.cpuThreads), QStringLiteral("cpu"));
  for (const auto& gpu : runtime.cudaDevices) {
    device_->addItem(tr("GPU %1: %2").arg(gpu.index).arg(QString::fromStdString(gpu.name)),
                     QStringLiteral("cuda"));
  }
  gpus_->setMaximum(std::max<int>(1, static_cast<int>(runtime.cudaDevices.size())));
  gpus_->setEnabled(false);
  batch_ = new QSpinBox(this);
  batch_->setRange(1, 8192);
  batch_->setValue(64);
  byEpochs_ = new QRadioButton(tr("Epochs"), this);
  bySteps_ = new QRadioButton(tr("Steps"), this);
  byEpochs_->setChecked(true);
  epochs_ = new QDoubleSpinBox(this);
  epochs_->setRange(0.01, 10000);
  epochs_->setValue(1.0);
  steps_ = new QSpinBox(this);
  steps_->setRange(1, 100000000);
  steps_->setValue(1000);
  steps_->setEnabled(false);
  learningRate_ = new QDoubleSpinBox(this);
  learningRate_->setObjectName(QStringLiteral("learningRate"));
  learningRate_->setDecimals(4);
  learningRate_->setRange(0.0, 10.0);
  learningRate_->setSingleStep(0.01);
  learningRate_->setSpecialValueText(tr("the recipe's"));
  learningRate_->setToolTip(tr("Learning rate for a batch of 256, scaled linearly to the batch"));
  evalEvery_ = new QSpinBox(this);
  evalEvery_->setRange(0, 100000000);
  evalEvery_->setValue(500);
  evalEvery_->setSpecialValueText(tr("at the end only"));
  size_ = new QLabel(this);
  size_->setObjectName(QStringLiteral("modelSize"));
  size_->setWordWrap(true);
  teacher_ = new QComboBox(this);
  teacher_->setObjectName(QStringLiteral("teacher"));
  teacher_->setToolTip(
      tr("Knowledge distillation: the new run (the student) learns from this run's outputs on "
         "each batch as well as from the labels"));
  temperature_ = new QDoubleSpinBox(this);
  temperature_->setObjectName(QStringLiteral("temperature"));
  temperature_->setRange(0.1, 100.0);
  temperature_->setValue(4.0);
  temperature_->setToolTip(tr("Softens both networks' outputs: softmax(logits / T)"));
  distillWeight_ = new QDoubleSpinBox(this);
  distillWeight_->setObjectName(QStringLiteral("distillWeight"));
  distillWeight_->setRange(0.0, 1.0);
  distillWeight_->setSingleStep(0.05);
  distillWeight_->setValue(0.9);
  distillWeight_->setToolTip(
      tr("Loss = (1 - A) x cross-entropy on the labels + A x T² x KL(teacher || student)"));

  auto* form = new QFormLayout;
  form->addRow(tr("Run"), runs_);
  form->addRow(tr("New run name"), name_);
  form->addRow(tr("Recipe"), recipe_);
  form->addRow(tr("Model size"), depth_);
  form->addRow(tr("Input size"), imageSize_);
  form->addRow(QString(), size_);
  form->addRow(tr("Distill from"), teacher_);
  form->addRow(tr("Temperature"), temperature_);
  form->addRow(tr("Teacher's weight"), distillWeight_);
  form->addRow(tr("Device"), device_);
  form->addRow(tr("GPUs"), gpus_);
  form->addRow(tr("Batch (global)"), batch_);
  auto* length = new QGridLayout;
  length->addWidget(byEpochs_, 0, 0);
  length->addWidget(epochs_, 0, 1);
  length->addWidget(bySteps_, 1, 0);
  length->addWidget(steps_, 1, 1);
  form->addRow(tr("Length"), length);
  form->addRow(tr("Learning rate"), learningRate_);
  form->addRow(tr("Evaluate every"), evalEvery_);

  start_ =
      new QPushButton(QIcon::fromTheme(QStringLiteral("media-playback-start")), tr("Start"), this);
  pause_ =
      new QPushButton(QIcon::fromTheme(QStringLiteral("media-playback-pause")), tr("Pause"), this);
  resume_ = new QPushButton(tr("Resume"), this);
  stop_ =
      new QPushButton(QIcon::fromTheme(QStringLiteral("media-playback-stop")), tr("Stop"), this);
  start_->setObjectName(QStringLiteral("start"));
  pause_->setObjectName(QStringLiteral("pause"));
  resume_->setObjectName(QStringLiteral("resume"));
  stop_->setObjectName(QStringLiteral("stop"));
  auto* buttons = new QGridLayout;
  buttons->addWidget(start_, 0, 0);
  buttons->addWidget(pause_, 0, 1);
  buttons->addWidget(resume_, 1, 0);
  buttons->addWidget(stop_, 1, 1);
  state_ = new QLabel(this);
  state_->setObjectName(QStringLiteral("trainState"));
  state_->setWordWrap(true);

  auto* formBox = new QGroupBox(tr("Settings"), this);
  auto* formLayout = new QVBoxLayout(formBox);
  formLayout->addLayout(form);
  formLayout->addLayout(buttons);
  formLayout->addStretch(1);

  return formBox;
}

QWidget* TrainPage::buildMonitor() {
  lossChart_ =
      new ChartPanel(tr("Loss"), {tr("loss"), tr("smoothed"), tr("labels"), tr("teacher")}, this);
  lossChart_->setSeriesShown(2, false);
  lossChart_->setSeriesShown(3, false);
  rateChart_ = new ChartPanel(tr("Learning rate"), {tr("learning rate")}, this);
  speedChart_ = new ChartPanel(tr("Examples/sec"), {tr("examples/sec")}, this);
  accuracyChart_ = new ChartPanel(tr("Evaluation"), {tr("precision@1"), tr("recall@5")}, this);
  accuracyChart_->setFixedRange(0.0, 1.0);
  auto* charts = new QWidget(this);
  auto* chartGrid = new QGridLayout(charts);
  chartGrid->setContentsMargins(0, 0, 0, 0);
  chartGrid->addWidget(lossChart_, 0, 0);
  chartGrid->addWidget(accuracyChart_, 0, 1);
  chartGrid->addWidget(rateChart_, 1, 0);
  chartGrid->addWidget(speedChart_, 1, 1);
  progress_ = new QProgressBar(this);
  progress_->setObjectName(QStringLiteral("trainProgress"));
  progress_->setFormat(tr("step %v of %m"));
  eta_ = new QLabel(this);
  eta_->setObjectName(QStringLiteral("eta"));
  log_ = new QPlainTextEdit(this);
  log_->setObjectName(QStringLiteral("trainLog"));
  log_->setReadOnly(true);
  log_->setMaximumBlockCount(20000);
  log_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  auto* progressRow = new QHBoxLayout;
  progressRow->addWidget(progress_, 1);
  progressRow->addWidget(eta_);

  auto* right = new QSplitter(Qt::Vertical, this);
  right->addWidget(charts);
  right->addWidget(log_);
  right->setStretchFactor(0, 4);
  right->setStretchFactor(1, 1);
  auto* rightBox = new QWidget(this);
  auto* rightLayout = new QVBoxLayout(rightBox);
  rightLayout->setContentsMargins(0, 0, 0, 0);
  rightLayout->addWidget(right, 1);
  rightLayout->addWidget(state_);
  rightLayout->addLayout(progressRow);

  return rightBox;
}

void TrainPage::connectUi() {
  connect(byEpochs_, &QRadioButton::toggled, epochs_, &QWidget::setEnabled);
  connect(bySteps_, &QRadioButton::toggled, steps_, &QWidget::setEnabled);
  connect(device_, &QComboBox::currentIndexChanged, this, [this] {
    gpus_->setEnabled(device_->currentData().toString() == QStringLiteral("cuda"));
  });
  connect(teacher_, &QComboBox::activated, this, &TrainPage::teacherChosen);
  connect(depth_, &QDoubleSpinBox::valueChanged, this, &TrainPage::measureSize);
  connect(imageSize_, &QSpinBox::valueChanged, this, &TrainPage::measureSize);
  connect(start_, &QPushButton::clicked, this, &TrainPage::startRun);
  connect(pause_, &QPushButton::clicked, this, &TrainPage::pauseRun);
  connect(resume_, &QPushButton::clicked, this, &TrainPage::resumeRun);
  connect(stop_, &QPushButton::clicked, this, &TrainPage::stopRun);
  connect(timer_, &QTimer::timeout, this, &TrainPage::refresh);
  connect(job_, &TrainJob::finished, this, &TrainPage::jobFinished);
  connect(job_, &TrainJob::pausedChanged, this, &TrainPage::updateButtons);
  connect(runs_, &QComboBox::activated, this, [this](int index) {
    const QString dir = runs_->itemData(index).toString();
    if (!dir.isEmpty() && !job_->isRunning()) {
      openRun(dir);
    }
  });
  connect(jobs_, &ProjectJobs::progress, this,
          [this](ProjectJobs::Job which, const QString& stage, qint64 done, qint64 total,
                 const QString& unit) {
            if (which == ProjectJobs::Job::Records) {
              progress_->setFormat(tr("%1: %v of %m %2").arg(stage, unit));
              progress_->setRange(0, static_cast<int>(std::max<qint64>(total, 1)));
              progress_->setValue(static_cast<int>(done));
            }
          });
  connect(jobs_, &ProjectJobs::recordsBuilt, this,
          [this](const RecordsSummary& summary) { recordsDone(true, summary.message); });
  connect(jobs_, &ProjectJobs::failed, this,
          [this](ProjectJobs::Job which, const QString& message) {
            if (which == ProjectJobs::Job::Records) {
              recordsDone(false, message);
            }
          });
  // A project opened after the page was made (the app's command line, File > Open) can be
  // trained on at once.
  connect(session_, &ProjectSession::opened, this, [this] {
    listRuns();
    updateButtons();
  });
  connect(session_, &ProjectSession::closed, this, [this] {
    listRuns();
    updateButtons();
  });
}

TrainPage::~TrainPage() = default;

settings::TrainSettings TrainPage::settingsFromForm() const {
  settings::TrainSettings s;
  s.applyRecipe(recipe_->currentData().toString().toStdString());
  s.trainDir = toPath(QDir(session_->runsDir()).filePath(name_->text().trimmed()));
  s.dataDir = toPath(session_->recordsDir());
  s.imageSize = imageSize_->value();
  s.depthMultiplier = depth_->value();
  s.batchSize = batch_->value();
  if (device_->currentData().toString() == QStringLiteral("cuda")) {
    s.device = "cuda";
    s.replicas = gpus_->value();
  }
  if (byEpochs_->isChecked()) {
    s.maxEpochs = epochs_->value();
    s.maxSteps = 0;
  } else {
    s.maxSteps = steps_->value();
    s.maxEpochs = 0.0;
  }
  if (learningRate_->value() > 0.0) {
    s.learningRatePer256 = learningRate_->value();
  }
  const QString teacher = teacher_->currentData().toString();
  if (!teacher.isEmpty()) {
    s.teacherDir = toPath(teacher);
    s.temperature = temperature_->value();
    s.distillWeight = distillWeight_->value();
  }
  s.evalEverySteps = evalEvery_->value();
  s.evalExamples = 2000;
  s.logEverySteps = 10;
  s.saveEverySteps = 1000;
  // Leave a core to the interface on small machines.
  s.torchThreads = std::max(1, QThread::idealThreadCount() - 1);
  s.loaderThreads = std::max(1, QThread::idealThreadCount() / 2);
  return s;
}

void TrainPage::setForm(int imageSize, double depthMultiplier, int batchSize, qint64 steps,
                        const QString& recipe, qint64 evalEvery, const QString& runName) {
  evalEvery_->setValue(static_cast<int>(evalEvery));
  name_->setText(runName);
  imageSize_->setValue(imageSize);
  depth_->setValue(depthMultiplier);
  batch_->setValue(batchSize);
  steps_->setValue(static_cast<int>(steps));
  bySteps_->setChecked(true);
  recipe_->setCurrentIndex(recipe_->findData(recipe));
}

QString TrainPage::runDir() const {
  return runDir_;
}

QString TrainPage::logText() const {
  return log_->toPlainText();
}

void TrainPage::ensureRecords(std::function<void()> then) {
  if (jobs_->recordsCurrent()) {
    then();
    return;
  }
  if (!jobs_->buildRecords()) {
    return;
  }
  afterRecords_ = std::move(then);
  appendLog(
      tr("Writing TFRecord shards of the project's splits to %1 …").arg(session_->recordsDir()));
  state_->setText(tr("Building records…"));
  updateButtons();
}

void TrainPage::recordsDone(bool built, const QString& message) {
  appendLog(message);
  const std::function<void()> then = std::exchange(afterRecords_, {});
  if (!built) {
    state_->setText(tr("Records not written: %1").arg(message));
    updateButtons();
  } else if (then) {
    then();
  }
}

void TrainPage::startRun() {
  if (!session_->isOpen() || job_->isRunning() || jobs_->isRunning(ProjectJobs::Job::Records)) {
    return;
  }
  const settings::TrainSettings settings = settingsFromForm();
  const auto problems = settings.validate();
  if (!problems.empty()) {
    QString text;
    for (const auto& p : problems) {
      text += QString::fromStdString(p) + QLatin1Char('\n');
    }
    state_->setText(text.trimmed());
    return;
  }
  if (train::findRunFiles(settings.trainDir).any()) {
    state_->setText(tr("%1 holds a run already: choose it under Run and press Resume, or give "
                       "the new run another name.")
                        .arg(fromPath(settings.trainDir)));
    return;
  }
  ensureRecords([this, settings] {
    runDir_ = fromPath(settings.trainDir);
    history_.clear();
    redrawCharts();
    log_->clear();
    job_->start(settings, /*resume=*/false);
    timer_->start();
    state_->setText(tr("Training %1").arg(runDir_));
    Q_EMIT runStarted(runDir_);
    updateButtons();
  });
}

void TrainPage::pauseRun() {
  job_->pause();
  state_->setText(tr("Paused after the current step (memory and data position kept)."));
}

void TrainPage::resumeRun() {
  if (job_->isRunning()) {
    job_->resume();
    state_->setText(tr("Training %1").arg(runDir_));
    return;
  }
  if (runDir_.isEmpty() || train::findRunFiles(toPath(runDir_)).checkpoints == 0) {
    state_->setText(tr("Choose a run with a checkpoint to resume."));
    return;
  }
  // Continue a stopped run with its own settings; the form's length applies.
  settings::TrainSettings settings;
  try {
    settings = train::readRunSettings(toPath(runDir_));
  } catch (const std::exception& e) {
    state_->setText(QString::fromUtf8(e.what()));
    return;
  }
  const settings::TrainSettings form = settingsFromForm();
  settings.dataDir = form.dataDir;
  settings.maxSteps = form.maxSteps;
  settings.maxEpochs = form.maxEpochs;
  settings.torchThreads = form.torchThreads;
  settings.loaderThreads = form.loaderThreads;
  ensureRecords([this, settings] {
    openRun(runDir_);
    job_->start(settings, /*resume=*/true);
    timer_->start();
    state_->setText(tr("Resuming %1").arg(runDir_));
    Q_EMIT runStarted(runDir_);
    updateButtons();
  });
}

void TrainPage::stopRun() {
  if (jobs_->isRunning(ProjectJobs::Job::Records)) {
    jobs_->cancel(ProjectJobs::Job::Records);
  }
  if (job_->isRunning()) {
    state_->setText(tr("Stopping: writing a checkpoint…"));
    job_->stop();
  }
}

bool TrainPage::openRun(const QString& trainDir) {
  QString error;
  runDir_ = trainDir;
  const bool ok = history_.read(trainDir, &error);
  redrawCharts();
  log_->clear();
  if (!ok) {
    state_->setText(error);
  } else {
    state_->setText(tr("%1: %2 steps logged").arg(trainDir).arg(history_.lastStep()));
  }
  const int index = runs_->findData(trainDir);
  if (index >= 0) {
    runs_->setCurrentIndex(index);
  }
  updateButtons();
  return ok;
}

void TrainPage::refresh() {
  TrainJob::Update update = job_->take();
  for (const auto& step : update.steps) {
    history_.add(step);
  }
  for (const auto& eval : update.evals) {
    history_.add(eval);
  }
  for (const QString& line : update.log) {
    appendLog(line);
  }
  if (update.progress) {
    const auto& p = *update.progress;
    progress_->setFormat(tr("step %v of %m"));
    progress_->setRange(0, static_cast<int>(std::max<std::int64_t>(p.total, 1)));
    progress_->setValue(static_cast<int>(std::min(p.done, p.total)));
    // Time left at the recent steps' speed.
    rate_.add(p.done, core::RateMeter::Clock::now());
    if (const auto left = rate_.secondsLeft(p.total)) {
      const QString text = tr("%1 left").arg(QString::fromStdString(core::formatDuration(*left)));
      if (text != eta_->text()) {  // a new text lays the progress row out again
        eta_->setText(text);
      }
    }
  }
  if (!update.steps.empty() || !update.evals.empty()) {
    redrawCharts();
  }
}

void TrainPage::redrawCharts() {
  lossChart_->setPoints(0, history_.loss());
  lossChart_->setPoints(1, history_.smoothedLoss());
  lossChart_->setPoints(2, history_.labelsLoss());
  lossChart_->setPoints(3, history_.distillLoss());
  lossChart_->setSeriesShown(2, history_.distilled());
  lossChart_->setSeriesShown(3, history_.distilled());
  rateChart_->setPoints(0, history_.learningRate());
  speedChart_->setPoints(0, history_.examplesPerSec());
  accuracyChart_->setPoints(0, history_.precisionAt1());
  accuracyChart_->setPoints(1, history_.recallAt5());
  accuracyChart_->setNotice(history_.evalNotice());
}

void TrainPage::jobFinished(bool ok, bool stopped, const QString& message) {
  refresh();  // what arrived before the end
  timer_->stop();
  rate_ = core::RateMeter();
  // The time left belongs to a running run only.
  eta_->setText(!ok ? tr("failed") : stopped ? tr("stopped") : tr("finished"));
  if (!ok) {
    state_->setText(tr("The run stopped with an error: %1").arg(message));
    appendLog(message);
  } else {
    state_->setText(stopped ? tr("Stopped; checkpoint %1. Resume continues the run.").arg(message)
                            : tr("Finished; checkpoint %1").arg(message));
  }
  listRuns();
  updateButtons();
  Q_EMIT runFinished(runDir_, ok);
}

QString TrainPage::timeLeftText() const {
  return eta_->text();
}

void TrainPage::updateButtons() {
  const bool open = session_->isOpen();
  const bool busy = job_->isRunning() || jobs_->isRunning(ProjectJobs::Job::Records);
  const bool paused = job_->isPaused();
  // Start says why it cannot start.
  QString why;
  if (!open) {
    why = tr("Open or create a project to train on it.");
  } else if (job_->isRunning()) {
    why = tr("A run is going; stop it before starting another.");
  } else if (jobs_->isRunning(ProjectJobs::Job::Records)) {
    why = tr("The project's records are being written.");
  }
  start_->setEnabled(why.isEmpty());
  start_->setToolTip(why.isEmpty() ? tr("Start a new run with the settings above") : why);
  startBlockedReason_ = why;
  pause_->setEnabled(job_->isRunning() && !paused);
  resume_->setEnabled(open && ((job_->isRunning() && paused) || (!busy && !runDir_.isEmpty())));
  stop_->setEnabled(busy);
  runs_->setEnabled(!busy);
  teacher_->setEnabled(!busy);
  const bool distilling = !teacher_->currentData().toString().isEmpty();
  temperature_->setEnabled(!busy && distilling);
  distillWeight_->setEnabled(!busy && distilling);
}

void TrainPage::listRuns() {
  runs_->clear();
  runs_->addItem(tr("(a new run)"), QString());
  if (!session_->isOpen()) {
    return;
  }
  for (const QString& dir : session_->runDirs()) {
    runs_->addItem(QDir(session_->projectDir()).relativeFilePath(dir), dir);
  }
  const int index = runs_->findData(runDir_);
  runs_->setCurrentIndex(std::max(0, index));
  listTeachers();
}

// Runs with a checkpoint can teach.
void TrainPage::listTeachers() {
  const QString chosen = teacher_->currentData().toString();
  teacher_->clear();
  teacher_->addItem(tr("(none: the labels only)"), QString());
  if (session_->isOpen()) {
    for (const QString& dir : session_->runDirs()) {
      if (train::findRunFiles(toPath(dir)).checkpoints > 0) {
        teacher_->addItem(QDir(session_->projectDir()).relativeFilePath(dir), dir);
      }
    }
  }
  teacher_->setCurrentIndex(std::max(0, teacher_->findData(chosen)));
}

bool TrainPage::setTeacher(const QString& trainDir) {
  const int index = teacher_->findData(trainDir);
  if (index < 0) {
    return false;
  }
  teacher_->setCurrentIndex(index);
  teacherChosen();
  return true;
}

// The student's defaults from its teacher (as `taxon distill` sets them).
void TrainPage::teacherChosen() {
  const QString dir = teacher_->currentData().toString();
  if (!dir.isEmpty()) {
    try {
      const auto teacher = train::readRunSettings(toPath(dir));
      recipe_->setCurrentIndex(
          std::max(0, recipe_->findData(QString::fromStdString(teacher.recipe))));
      imageSize_->setValue(static_cast<int>(teacher.imageSize));
      depth_->setValue(teacher.depthMultiplier / 2.0);
    } catch (const std::exception& e) {
      state_->setText(QString::fromUtf8(e.what()));
    }
  }
  updateButtons();
  measureSize();
}

QString TrainPage::sizeText() const {
  return size_->text();
}

// Multiply-adds and parameters of the form's model (and of the teacher), measured on a forward
// pass of each off the GUI thread (a full-width network at 299 px takes a fraction of a second).
void TrainPage::measureSize() {
  const int request = ++sizeRequest_;
  const int categories = session_->isOpen()
                             ? std::max<int>(2, static_cast<int>(session_->categoryPaths().size()))
                             : 10;
  settings::TrainSettings student;
  student.imageSize = imageSize_->value();
  student.depthMultiplier = depth_->value();
  student.auxLogits = false;
  std::optional<settings::TrainSettings> teacher;
  if (const QString dir = teacher_->currentData().toString(); !dir.isEmpty()) {
    try {
      teacher = train::readRunSettings(toPath(dir));
      teacher->auxLogits = false;
    } catch (const std::exception&) {
      teacher.reset();  // teacherChosen said why
    }
  }
  pool_->start([this, request, categories, student, teacher] {
    const auto measure = [categories](const settings::TrainSettings& s) {
      return model::measureModel(checkpoint::modelSettings(s, categories));
    };
    QString text;
    try {
      const auto size = measure(student);
      text = tr("%1 G multiply-adds per image, %2 M parameters")
                 .arg(static_cast<double>(size.multiplyAdds) / 1e9, 0, 'f', 3)
                 .arg(static_cast<double>(size.inferenceParameters) / 1e6, 0, 'f', 2);
      if (teacher) {
        const auto t = measure(*teacher);
        text += tr("; %1 % of the teacher's %2 G")
                    .arg(100.0 * static_cast<double>(size.multiplyAdds) /
                             static_cast<double>(t.multiplyAdds),
                         0, 'f', 0)
                    .arg(static_cast<double>(t.multiplyAdds) / 1e9, 0, 'f', 3);
      }
    } catch (const std::exception& e) {
      text = QString::fromUtf8(e.what());
    }
    QMetaObject::invokeMethod(
        this,
        [this, request, text] {
          if (request == sizeRequest_) {
            size_->setText(text);
            Q_EMIT sizeMeasured();
          }
        },
        Qt::QueuedConnection);
  });
}

void TrainPage::appendLog(const QString& line) {
  log_->appendPlainText(line);
}

}  // namespace taxon::ui
