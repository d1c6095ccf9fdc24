#include "core/Text.hpp"

#include <utf8proc.h>

namespace taxon::core {

std::size_t displayWidth(std::string_view text) {
  std::size_t width = 0;
  auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  auto left = static_cast<utf8proc_ssize_t>(text.size());
  while (left > 0) {
    utf8proc_int32_t codepoint = 0;
    const utf8proc_ssize_t used = utf8proc_iterate(bytes, left, &codepoint);
    if (used <= 0) {  // not UTF-8: one column for the byte, as terminals show a replacement
      width += 1;
      bytes += 1;
      left -= 1;
      continue;
    }
    width += static_cast<std::size_t>(utf8proc_charwidth(codepoint));
    bytes += used;
    left -= used;
  }
  return width;
}

std::string padRight(std::string_view text, std::size_t columns) {
  const std::size_t width = displayWidth(text);
  std::string out(text);
  if (width < columns) {
    out.append(columns - width, ' ');
  }
  return out;
}

std::string padLeft(std::string_view text, std::size_t columns) {
  const std::size_t width = displayWidth(text);
  std::string out;
  if (width < columns) {
    out.append(columns - width, ' ');
  }
  out += text;
  return out;
}

}  // namespace taxon::core
