#include "MainWindow.hpp"

#include <QAction>
#include <QApplication>
#include <QDateTime>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressDialog>
#include <QPushButton>
#include <QSettings>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTabWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <filesystem>

#include "checkpoint/CheckpointFiles.hpp"
#include "classify/ClassifyPage.hpp"
#include "common/Paths.hpp"
#include "common/ProjectJobs.hpp"
#include "common/ProjectSession.hpp"
#include "core/torch/Runtime.hpp"
#include "inspect/InspectPage.hpp"
#include "labeling/DataPage.hpp"
#include "project/ProjectLayout.hpp"
#include "training/ExportDialog.hpp"
#include "training/RunsPage.hpp"
#include "training/TrainJob.hpp"
#include "training/TrainPage.hpp"

namespace taxon::ui {
namespace {

constexpr const char* kLastProjectKey = "project/last";

// Whether `dir` holds a project (its catalog file).
bool holdsProject(const QString& dir) {
  std::error_code error;
  return std::filesystem::exists(project::ProjectLayout(toPath(dir)).catalogFile(), error);
}

QString runtimeText() {
  const core::RuntimeInfo info = core::queryRuntime();
  QString text =
      QObject::tr("Taxon %1 (%2)\nLibTorch %3")
          .arg(QString::fromStdString(info.taxonVersion), QString::fromStdString(info.gitRevision),
               QString::fromStdString(info.torchVersion));
  text += info.torchCudaVersion.empty()
              ? QObject::tr(", CPU only")
              : QObject::tr(", CUDA %1").arg(QString::fromStdString(info.torchCudaVersion));
  text += QLatin1Char('\n');
  if (info.cudaDevices.empty()) {
    text +=
        QObject::tr("No GPU found: training runs on the CPU (%1 threads).").arg(info.cpuThreads);
  }
  for (const auto& device : info.cudaDevices) {
    text += QObject::tr("GPU %1: %2, %3 GiB\n")
                .arg(device.index)
                .arg(QString::fromStdString(device.name))
                .arg(device.memoryGiB, 0, 'f', 0);
  }
  return text.trimmed();
}

}  // namespace

MainWindow::MainWindow(const QString& projectPath, QWidget* parent, bool restoreLast)
    : QMainWindow(parent) {
  setWindowIcon(QIcon(QStringLiteral(":/taxon/taxon-studio.svg")));
  session_ = new ProjectSession(this);
  jobs_ = new ProjectJobs(session_, this);
  runtimeText_ = runtimeText();

  data_ = new DataPage(session_, this);
  train_ = new TrainPage(session_, jobs_, this);
  runs_ = new RunsPage(session_, this);
  inspect_ = new InspectPage(session_, this);
  classify_ = new ClassifyPage(this);
  tabs_ = new QTabWidget(this);
  tabs_->setObjectName(QStringLiteral("pages"));
  tabs_->addTab(data_, tr("&Data"));
  tabs_->addTab(train_, tr("&Train"));
  tabs_->addTab(runs_, tr("&Runs"));
  tabs_->addTab(inspect_, tr("&Inspect"));
  tabs_->addTab(classify_, tr("&Classify"));

  // The start page, shown while no project is open.
  start_ = new QWidget(this);
  auto* startLayout = new QVBoxLayout(start_);
  auto* title = new QLabel(tr("<h2>Taxon Studio</h2><p>Train, inspect and serve image "
                              "classifiers.</p>"),
                           start_);
  auto* fashion = new QPushButton(tr("Open the built-in Fashion-MNIST project"), start_);
  fashion->setObjectName(QStringLiteral("fashionMnist"));
  auto* create = new QPushButton(tr("New project…"), start_);
  auto* open = new QPushButton(tr("Open project…"), start_);
  summary_ = new QLabel(runtimeText_, start_);
  summary_->setObjectName(QStringLiteral("runtimeSummary"));
  summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  startLayout->addStretch(1);
  startLayout->addWidget(title);
  for (QPushButton* button : {fashion, create, open}) {
    button->setMinimumHeight(36);
    startLayout->addWidget(button);
  }
  startLayout->addSpacing(24);
  startLayout->addWidget(summary_);
  startLayout->addStretch(2);
  startLayout->setContentsMargins(120, 24, 120, 24);

  stack_ = new QStackedWidget(this);
  stack_->addWidget(start_);
  stack_->addWidget(tabs_);
  setCentralWidget(stack_);
  buildMenus();

  connect(fashion, &QPushButton::clicked, this, [this] {
    const QString dir = QDir::home().filePath(QStringLiteral("taxon-projects/fashion-mnist"));
    if (holdsProject(dir)) {
      openProject(dir, false);
    } else {
      createFashionMnistProject(dir);
    }
  });
  connect(create, &QPushButton::clicked, this, &MainWindow::newProject);
  connect(open, &QPushButton::clicked, this, &MainWindow::chooseProject);
  connect(session_, &ProjectSession::opened, this, &MainWindow::projectOpened);
  connect(session_, &ProjectSession::undoStateChanged, this, [this](bool canUndo, bool canRedo) {
    undo_->setEnabled(canUndo);
    redo_->setEnabled(canRedo);
  });
  connect(session_, &ProjectSession::editRefused, this, [this](const QString& reason) {
    notify(QMessageBox::Warning, tr("Cannot undo or redo"), reason);
  });
  connect(data_, &DataPage::importRequested, this, &MainWindow::chooseImport);
  connect(train_, &TrainPage::runStarted, this, [this](const QString& dir) {
    // The new run is listed on the Classify page; it becomes the model (followed while it trains)
    // only when there was none, so a run started for a try does not replace a finished one.
    classify_->setRuns(session_->runDirs(), classify_->chosenRun().isEmpty() ? dir : QString());
  });
  connect(train_, &TrainPage::runFinished, this, [this](const QString& dir, bool ok) {
    if (ok) {
      evaluateRun(dir);
    }
  });
  connect(train_, &TrainPage::runStarted, runs_, &RunsPage::rescan);
  connect(runs_, &RunsPage::runActivated, this, [this](const QString& dir) {
    if (!train_->job()->isRunning()) {
      train_->openRun(dir);
    }
    tabs_->setCurrentWidget(train_);
  });
  connectJobs();

  statusBar()->showMessage(
      tr("Taxon %1").arg(QString::fromStdString(core::queryRuntime().taxonVersion)));
  resize(1280, 820);

  QString toOpen = projectPath;
  if (toOpen.isEmpty() && restoreLast) {
    toOpen = QSettings().value(QString::fromLatin1(kLastProjectKey)).toString();
    if (!holdsProject(toOpen)) {
      toOpen.clear();
    }
  }
  if (!toOpen.isEmpty()) {
    openProject(toOpen, false);
  }
  if (!session_->isOpen()) {
    showStart();
  }
}

MainWindow::~MainWindow() = default;

QString MainWindow::projectPath() const {
  return session_->projectDir();
}

QString MainWindow::runtimeSummary() const {
  return runtimeText_;
}

void MainWindow::buildMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  file->addAction(tr("&New project…"), QKeySequence::New, this, &MainWindow::newProject);
  file->addAction(tr("&Open project…"), QKeySequence::Open, this, &MainWindow::chooseProject);
  file->addAction(tr("&Import images…"), QKeySequence(Qt::CTRL | Qt::Key_I), this,
                  &MainWindow::chooseImport);
  file->addSeparator();
  file->addAction(tr("&Export model…"), QKeySequence(Qt::CTRL | Qt::Key_E), this,
                  &MainWindow::exportModel);
  file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

  QMenu* edit = menuBar()->addMenu(tr("&Edit"));
  undo_ = edit->addAction(tr("&Undo"), QKeySequence::Undo, this, [this] { session_->undo(); });
  redo_ = edit->addAction(tr("&Redo"), QKeySequence::Redo, this, [this] { session_->redo(); });
  undo_->setEnabled(false);
  redo_->setEnabled(false);

  QMenu* run = menuBar()->addMenu(tr("&Run"));
  run->addAction(tr("&Evaluate the current run"), this, [this] { evaluateRun(train_->runDir()); });

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&About Taxon Studio"), this, &MainWindow::showAbout);
}

void MainWindow::showStart() {
  stack_->setCurrentWidget(start_);
  setWindowTitle(tr("Taxon Studio"));
}

bool MainWindow::openProject(const QString& dir, bool create) {
  QString error;
  if (!session_->open(dir, create, &error)) {
    notify(QMessageBox::Warning, tr("Cannot open the project"), error);
    return false;
  }
  return true;
}

void MainWindow::projectOpened(const QString& dir) {
  QSettings().setValue(QString::fromLatin1(kLastProjectKey), dir);
  setWindowTitle(tr("%1 - Taxon Studio").arg(QFileInfo(dir).fileName()));
  stack_->setCurrentWidget(tabs_);
  statusBar()->showMessage(tr("Project %1").arg(dir));
  loadLatestReport();
}

void MainWindow::loadLatestReport() {
  // The newest evaluation report of the project's runs (or of `taxon demo`, PROJECT/eval).
  const project::ProjectLayout layout(toPath(session_->projectDir()));
  QString run;
  if (const auto newest = layout.newestReport()) {
    inspect_->openReport(fromPath(*newest));
    // The report's run: PROJECT/runs/NAME for RUN/eval; `taxon demo` writes PROJECT/eval for
    // PROJECT/train.
    run = fromPath(*newest == layout.demoEvalDir() ? layout.demoRunDir() : newest->parent_path());
  }
  // The Classify page's model: the run evaluated last, else the run with the newest checkpoint.
  if (run.isEmpty()) {
    QDateTime newestCheckpoint;
    for (const QString& dir : session_->runDirs()) {
      if (const auto checkpoint = checkpoint::newestCheckpoint(toPath(dir))) {
        const QDateTime written = QFileInfo(fromPath(checkpoint->path)).lastModified();
        if (!newestCheckpoint.isValid() || written > newestCheckpoint) {
          newestCheckpoint = written;
          run = dir;
        }
      }
    }
  }
  classify_->setRuns(session_->runDirs(), run);
  classify_->setProject(session_->projectDir());
}

void MainWindow::newProject() {
  const QString dir = QFileDialog::getExistingDirectory(
      this, tr("Folder for the new project (an empty folder)"), QDir::homePath());
  if (!dir.isEmpty()) {
    openProject(dir, true);
  }
}

void MainWindow::chooseProject() {
  const QString dir =
      QFileDialog::getExistingDirectory(this, tr("Open a Taxon project"), QDir::homePath());
  if (!dir.isEmpty()) {
    openProject(dir, false);
  }
}

void MainWindow::chooseImport() {
  if (!session_->isOpen()) {
    return;
  }
  QMessageBox ask(this);
  ask.setWindowTitle(tr("Import images"));
  ask.setText(
      tr("Import a folder of category folders (nested folders are levels of the "
         "category path), or files: CSV manifests (path,label[,split]), TFRecord shards, "
         "Fashion-MNIST IDX files. Or a folder of unlabeled photos: every image below it, "
         "without a category, to be labeled in the project."));
  auto* folder = ask.addButton(tr("Folder…"), QMessageBox::AcceptRole);
  auto* files = ask.addButton(tr("Files…"), QMessageBox::AcceptRole);
  auto* loose = ask.addButton(tr("Unlabeled folder…"), QMessageBox::AcceptRole);
  ask.addButton(QMessageBox::Cancel);
  ask.exec();
  QStringList sources;
  QStringList unlabeled;
  if (ask.clickedButton() == folder) {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Folder of category folders"));
    if (!dir.isEmpty()) {
      sources.push_back(dir);
    }
  } else if (ask.clickedButton() == files) {
    sources = QFileDialog::getOpenFileNames(this, tr("Manifests, shards or IDX files"));
  } else if (ask.clickedButton() == loose) {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Folder of unlabeled images"));
    if (!dir.isEmpty()) {
      unlabeled.push_back(dir);
    }
  }
  if (!sources.isEmpty() || !unlabeled.isEmpty()) {
    importSources(sources, 0, unlabeled);
  }
}

void MainWindow::importSources(const QStringList& sources, qint64 limitPerFile,
                               const QStringList& unlabeled) {
  if (!jobs_->importSources(sources, limitPerFile, unlabeled)) {
    return;
  }
  progress_ = new QProgressDialog(tr("Importing…"), tr("Cancel"), 0, 0, this);
  progress_->setWindowTitle(tr("Import"));
  progress_->setMinimumDuration(0);
  progress_->setAutoClose(false);
  progress_->setAutoReset(false);
  connect(progress_, &QProgressDialog::canceled, jobs_,
          [this] { jobs_->cancel(ProjectJobs::Job::Import); });
  progress_->show();
}

void MainWindow::connectJobs() {
  connect(
      jobs_, &ProjectJobs::progress, this,
      [this](ProjectJobs::Job job, const QString& stage, qint64 done, qint64 total,
             const QString& unit) {
        if (job == ProjectJobs::Job::Import && progress_ != nullptr) {
          progress_->setLabelText(tr("%1: %2 of %3 %4").arg(stage).arg(done).arg(total).arg(unit));
          progress_->setMaximum(static_cast<int>(std::max<qint64>(total, 1)));
          progress_->setValue(static_cast<int>(std::min(done, std::max<qint64>(total, 1))));
        }
      });
  const auto closeProgress = [this] {
    if (progress_ != nullptr) {
      progress_->deleteLater();
      progress_ = nullptr;
    }
  };
  connect(jobs_, &ProjectJobs::importFinished, this,
          [this, closeProgress](const ImportSummary& summary) {
            closeProgress();
            notify(QMessageBox::Information, tr("Import report"),
                   summary.cancelled ? tr("Import cancelled; what was imported so far is kept.")
                                     : tr("Import finished."),
                   summary.report);
            Q_EMIT importFinished(true, summary.report);
          });
  connect(jobs_, &ProjectJobs::evaluated, this, [this](const EvalSummary& summary) {
    statusBar()->showMessage(summary.message);
    inspect_->openReport(summary.evalDir);
    // The run just evaluated is the Classify page's default, unless the user picked a run there.
    classify_->setRuns(session_->runDirs(), summary.runDir);
    if (!classify_->userChoseRun()) {
      classify_->chooseRun(summary.runDir);
    }
    Q_EMIT evaluationFinished(true, summary.message);
  });
  connect(jobs_, &ProjectJobs::failed, this,
          [this, closeProgress](ProjectJobs::Job job, const QString& message) {
            if (job == ProjectJobs::Job::Import) {
              closeProgress();
              notify(QMessageBox::Warning, tr("Import failed"), message);
              Q_EMIT importFinished(false, message);
            } else if (job == ProjectJobs::Job::Evaluation) {
              statusBar()->showMessage(message);
              Q_EMIT evaluationFinished(false, message);
            }
          });
}

QString MainWindow::fashionMnistFolder() {
  const QString custom = qEnvironmentVariable("TAXON_FASHION_MNIST_DIR");
  return custom.isEmpty() ? QStringLiteral("/usr/share/datasets/fashion-mnist") : custom;
}

void MainWindow::createFashionMnistProject(const QString& dir, qint64 limit) {
  const QDir data(fashionMnistFolder());
  if (!data.exists(QStringLiteral("train-images-idx3-ubyte.gz"))) {
    notify(QMessageBox::Warning, tr("Fashion-MNIST not found"),
           tr("%1 has no Fashion-MNIST files: install Debian's dataset-fashion-mnist package "
              "(packaging/setup-deps.sh does).")
               .arg(data.path()));
    return;
  }
  if (!openProject(dir, true)) {
    return;
  }
  importSources({data.path()}, limit);
}

void MainWindow::evaluateRun(const QString& trainDir) {
  if (jobs_->evaluate(trainDir)) {
    statusBar()->showMessage(tr("Evaluating %1 …").arg(trainDir));
  }
}

void MainWindow::notify(QMessageBox::Icon icon, const QString& title, const QString& text,
                        const QString& details) {
  lastMessage_ = details.isEmpty() ? text : text + QLatin1Char('\n') + details;
  statusBar()->showMessage(text.section(QLatin1Char('\n'), 0, 0));
  // Not exec(): the window keeps running (and tests are not blocked) while the box is open.
  auto* box = new QMessageBox(icon, title, text, QMessageBox::Ok, this);
  box->setAttribute(Qt::WA_DeleteOnClose);
  if (!details.isEmpty()) {
    box->setInformativeText(details.section(QLatin1Char('\n'), 0, 0));
    box->setDetailedText(details);
  }
  box->open();
}

void MainWindow::exportModel() {
  const QStringList runs = session_->isOpen() ? session_->runDirs() : QStringList();
  if (runs.isEmpty()) {
    notify(QMessageBox::Information, tr("Export model"),
           tr("This project has no trained run to export yet."));
    return;
  }
  auto* dialog = new ExportDialog(runs, train_->runDir(), session_->recordsDir(), this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  connect(dialog, &ExportDialog::exportFinished, this,
          [this](bool ok, bool, const QString& message) {
            statusBar()->showMessage(message);
            if (ok) {
              Q_EMIT modelExported(message);
            }
          });
  dialog->open();
}

void MainWindow::showAbout() {
  QMessageBox::about(this, tr("About Taxon Studio"),
                     tr("<h3>Taxon Studio</h3><p>Train, inspect and serve image "
                        "classifiers.</p><pre>%1</pre>")
                         .arg(runtimeText_.toHtmlEscaped()));
}

}  // namespace taxon::ui
