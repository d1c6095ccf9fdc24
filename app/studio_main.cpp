// `taxon-studio`: the desktop app. Usage: taxon-studio [PROJECT]
#include <QApplication>
#include <QCommandLineParser>

#include "MainWindow.hpp"
#include "core/Version.hpp"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("Taxon Studio"));
  QApplication::setOrganizationName(QStringLiteral("Taxon"));
  QApplication::setApplicationVersion(QString::fromUtf8(taxon::core::kVersion));
  QApplication::setDesktopFileName(QStringLiteral("taxon-studio"));

  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("Train, inspect and serve image classifiers."));
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addPositionalArgument(QStringLiteral("project"), QStringLiteral("Project folder to open"));
  parser.process(app);

  const QStringList args = parser.positionalArguments();
  taxon::ui::MainWindow window(args.isEmpty() ? QString() : args.first());
  window.show();
  return QApplication::exec();
}
