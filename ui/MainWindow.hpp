// taxon-studio's main window. Its pages (Data, Train, Inspect, Classify) are added by the app
// issue; this first version shows the open project and what the engine runs on.
#pragma once

#include <QMainWindow>
#include <QString>

class QLabel;

namespace taxon::ui {

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(const QString& projectPath = {}, QWidget* parent = nullptr);

  QString projectPath() const { return projectPath_; }
  // The text of the runtime summary (versions and devices), for tests and the About box.
  QString runtimeSummary() const;

 private:
  QString projectPath_;
  QLabel* summary_ = nullptr;
};

}  // namespace taxon::ui
