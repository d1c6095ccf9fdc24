// Paths between Qt and the engine: QString (UTF-16) to std::filesystem::path and back without
// going through the locale's 8-bit encoding.
#pragma once

#include <QString>
#include <filesystem>

namespace taxon::ui {

inline std::filesystem::path toPath(const QString& text) {
  return std::filesystem::path(text.toStdU16String());
}

inline QString fromPath(const std::filesystem::path& path) {
  return QString::fromStdU16String(path.u16string());
}

}  // namespace taxon::ui
