// Text for terminals: how many columns a UTF-8 string takes, and padding by columns instead of
// bytes, so that tables stay aligned with names such as "レディース > 靴 > サンダル" (each of
// those characters takes two columns and three bytes). Widths come from utf8proc's Unicode tables
// (East Asian wide and fullwidth characters 2, combining marks 0). Any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace taxon::core {

// Terminal columns of `text` (UTF-8). Invalid bytes count one column each.
std::size_t displayWidth(std::string_view text);

// `text` followed by spaces up to `columns` columns (unchanged when already as wide or wider).
std::string padRight(std::string_view text, std::size_t columns);
// Spaces up to `columns` columns, then `text`.
std::string padLeft(std::string_view text, std::size_t columns);

}  // namespace taxon::core
