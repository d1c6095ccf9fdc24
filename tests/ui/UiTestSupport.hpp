// Helpers for the Qt Test UI tests: every view test saves a screenshot of what it showed under
// <build>/screenshots so a person can look at it.
#pragma once

#include <QApplication>
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QLineEdit>
#include <QObject>
#include <QString>
#include <QTest>
#include <QTimer>
#include <QWidget>
#include <algorithm>
#include <functional>

#include "StallMeter.hpp"
#include "TestPaths.hpp"
#include "common/CategoryPickerDialog.hpp"

namespace taxon::test {

inline QString saveScreenshot(QWidget* widget, const QString& name) {
  const QString dir = QString::fromStdString((binaryDir() / "screenshots").string());
  QDir().mkpath(dir);
  const QString path = dir + QLatin1Char('/') + name + QStringLiteral(".png");
  // Pending layouts first (charts lay out their axes on the next pass of the event loop), so
  // the picture is what a person sees.
  QCoreApplication::processEvents();
  QCoreApplication::processEvents();
  widget->grab().save(path);
  return path;
}

// Answers the category picker that the next key press opens (it runs its own event loop): types
// `search` into it and presses Enter, after `inspect` has looked at it; `*picked` turns true. Call
// before the key press.
inline void answerCategoryPicker(QObject* context, const QString& search, bool* picked,
                                 std::function<void(ui::CategoryPickerDialog*)> inspect = {}) {
  *picked = false;
  QTimer::singleShot(200, context, [search, picked, inspect] {
    auto* picker = qobject_cast<ui::CategoryPickerDialog*>(QApplication::activeModalWidget());
    if (picker == nullptr) {
      return;  // *picked stays false: the test's check fails
    }
    auto* field = picker->findChild<QLineEdit*>(QStringLiteral("categorySearch"));
    QTest::keyClicks(field, search);
    if (inspect) {
      inspect(picker);
    }
    QTest::keyClick(field, Qt::Key_Return);
    *picked = true;
  });
}

}  // namespace taxon::test
