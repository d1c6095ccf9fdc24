// Counts as people read them: with the locale's thousands separators ("21,000" in English,
// "21.000" in German). Item views show integers through QLocale, which follows the default set
// here; texts use "%L1" in QString::arg. GUI thread, at startup.
#pragma once

#include <QLocale>

namespace taxon::ui {

// Makes the system locale the default with its group separators on. The C locale (LANG=C or
// C.UTF-8, common on servers and in containers) has none, so English's stand in for it there.
inline void useReadableNumbers() {
  QLocale locale;
  if (locale.language() == QLocale::C) {
    locale = QLocale(QLocale::English, QLocale::UnitedStates);
  }
  locale.setNumberOptions(locale.numberOptions() & ~QLocale::OmitGroupSeparator);
  QLocale::setDefault(locale);
}

}  // namespace taxon::ui
