// taxon-studio's main window: the pages Data, Train, Inspect and Classify over one open project
// (ProjectSession), the File menu (New, Open, Import, recent project, the built-in Fashion-MNIST
// project), Edit's Undo/Redo of label edits, and the runtime summary (versions, devices) in
// Help > About. On start it reopens the last project; on the first launch it offers the built-in
// Fashion-MNIST project.
#pragma once

#include <QMainWindow>
#include <QMessageBox>
#include <QString>

class QAction;
class QLabel;
class QProgressDialog;
class QStackedWidget;
class QTabWidget;

namespace taxon::ui {

class ClassifyPage;
class DataPage;
class InspectPage;
class ProjectJobs;
class ProjectSession;
class RunsPage;
class TrainPage;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  // Opens `projectPath` when given; otherwise the last project (when `restoreLast`).
  explicit MainWindow(const QString& projectPath = {}, QWidget* parent = nullptr,
                      bool restoreLast = true);
  ~MainWindow() override;

  QString projectPath() const;
  // The text of the runtime summary (versions and devices), for tests and the About box.
  QString runtimeSummary() const;
  ProjectSession* session() const { return session_; }
  DataPage* dataPage() const { return data_; }
  TrainPage* trainPage() const { return train_; }
  RunsPage* runsPage() const { return runs_; }
  InspectPage* inspectPage() const { return inspect_; }
  ClassifyPage* classifyPage() const { return classify_; }
  QTabWidget* pages() const { return tabs_; }

  bool openProject(const QString& dir, bool create);
  // Imports folders or files into the open project with a progress dialog, then shows the
  // report (skipped files and why). Returns at once; importFinished() follows.
  void importSources(const QStringList& sources, qint64 limitPerFile = 0,
                     const QStringList& unlabeled = {});
  // Evaluates a run's newest checkpoint on the test (or validation) split into RUN/eval and
  // shows it on the Inspect page.
  void evaluateRun(const QString& trainDir);
  // The built-in project: Fashion-MNIST from Debian's dataset-fashion-mnist, imported into
  // `dir` (with `limit` images per file, 0: all).
  void createFashionMnistProject(const QString& dir, qint64 limit = 0);
  static QString fashionMnistFolder();
  // The last message shown to the user (errors, reports), for tests.
  QString lastMessage() const { return lastMessage_; }

 Q_SIGNALS:
  void importFinished(bool ok, const QString& report);
  void evaluationFinished(bool ok, const QString& message);
  void modelExported(const QString& message);

 private:
  void buildMenus();
  void newProject();
  void chooseProject();
  void chooseImport();
  void exportModel();
  void showAbout();
  void projectOpened(const QString& dir);
  void showStart();
  void loadLatestReport();
  void connectJobs();
  // Shows a message box without blocking (open(), not exec()) and keeps the text.
  void notify(QMessageBox::Icon icon, const QString& title, const QString& text,
              const QString& details = {});

  ProjectSession* session_;
  ProjectJobs* jobs_;
  QStackedWidget* stack_;
  QWidget* start_;
  QTabWidget* tabs_;
  DataPage* data_;
  TrainPage* train_;
  RunsPage* runs_;
  InspectPage* inspect_;
  ClassifyPage* classify_;
  QLabel* summary_;
  QAction* undo_;
  QAction* redo_;
  QProgressDialog* progress_ = nullptr;
  QString runtimeText_;
  QString lastMessage_;
};

}  // namespace taxon::ui
