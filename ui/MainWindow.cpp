#include "MainWindow.hpp"

#include <QLabel>
#include <QStatusBar>
#include <QVBoxLayout>

#include "core/Runtime.hpp"

namespace taxon::ui {

MainWindow::MainWindow(const QString& projectPath, QWidget* parent)
    : QMainWindow(parent), projectPath_(projectPath) {
  setWindowTitle(projectPath_.isEmpty() ? tr("Taxon Studio")
                                        : tr("%1 - Taxon Studio").arg(projectPath_));
  auto* central = new QWidget(this);
  auto* layout = new QVBoxLayout(central);
  auto* title = new QLabel(tr("<h2>Taxon Studio</h2>"), central);
  auto* project = new QLabel(projectPath_.isEmpty()
                                 ? tr("No project open.")
                                 : tr("Project: <b>%1</b>").arg(projectPath_.toHtmlEscaped()),
                             central);
  project->setObjectName(QStringLiteral("projectLabel"));
  summary_ = new QLabel(central);
  summary_->setObjectName(QStringLiteral("runtimeSummary"));
  summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  const core::RuntimeInfo info = core::queryRuntime();
  QString text = tr("LibTorch %1").arg(QString::fromStdString(info.torchVersion));
  text += info.torchCudaVersion.empty()
              ? tr(", CPU only")
              : tr(", CUDA %1").arg(QString::fromStdString(info.torchCudaVersion));
  text += QLatin1Char('\n');
  if (info.cudaDevices.empty()) {
    text += tr("No GPU found: training runs on the CPU (%1 threads).").arg(info.cpuThreads);
  }
  for (const auto& device : info.cudaDevices) {
    text += tr("GPU %1: %2, %3 GiB\n")
                .arg(device.index)
                .arg(QString::fromStdString(device.name))
                .arg(device.memoryGiB, 0, 'f', 0);
  }
  summary_->setText(text.trimmed());

  layout->addWidget(title);
  layout->addWidget(project);
  layout->addWidget(summary_);
  layout->addStretch(1);
  setCentralWidget(central);
  statusBar()->showMessage(tr("Taxon %1").arg(QString::fromUtf8(info.taxonVersion.c_str())));
  resize(900, 600);
}

QString MainWindow::runtimeSummary() const {
  return summary_->text();
}

}  // namespace taxon::ui
