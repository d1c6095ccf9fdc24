// Helpers for the Qt Test UI tests: every view test saves a screenshot of what it showed under
// <build>/screenshots so a person can look at it.
#pragma once

#include <QDir>
#include <QString>
#include <QWidget>

namespace taxon::test {

inline QString saveScreenshot(QWidget* widget, const QString& name) {
  const QString dir = QStringLiteral(TAXON_BINARY_DIR "/screenshots");
  QDir().mkpath(dir);
  const QString path = dir + QLatin1Char('/') + name + QStringLiteral(".png");
  widget->grab().save(path);
  return path;
}

}  // namespace taxon::test
