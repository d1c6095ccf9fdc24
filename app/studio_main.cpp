// `taxon-studio`: the desktop app. Usage: taxon-studio [PROJECT | IMAGE...]: a project folder
// opens it; image files (as the desktop entry's %F passes them) are classified with the last
// project's model.
#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QTabWidget>
#include <csignal>

#include "MainWindow.hpp"
#include "classify/ClassifyPage.hpp"
#include "common/Numbers.hpp"
#include "core/CrashReport.hpp"
#include "core/Version.hpp"

int main(int argc, char** argv) {
  // Past a file size limit a write fails with EFBIG, shown like a full disk, instead of SIGXFSZ
  // ending the app in the middle of a save.
  std::signal(SIGXFSZ, SIG_IGN);
  taxon::core::reportFatalSignals("taxon-studio");
  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("Taxon Studio"));
  QApplication::setOrganizationName(QStringLiteral("Taxon"));
  QApplication::setApplicationVersion(QString::fromUtf8(taxon::core::kVersion));
  QApplication::setDesktopFileName(QStringLiteral("taxon-studio"));
  taxon::ui::useReadableNumbers();

  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("Train, inspect and serve image classifiers."));
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addPositionalArgument(QStringLiteral("project"),
                               QStringLiteral("Project folder to open, or image files to classify"),
                               QStringLiteral("[PROJECT | IMAGE...]"));
  parser.process(app);

  const QStringList args = parser.positionalArguments();
  const bool project = args.size() == 1 && QFileInfo(args.first()).isDir();
  taxon::ui::MainWindow window(project ? args.first() : QString());
  if (!project && !args.isEmpty()) {
    window.pages()->setCurrentWidget(window.classifyPage());
    window.classifyPage()->classifyFiles(args);
  }
  window.show();
  return QApplication::exec();
}
