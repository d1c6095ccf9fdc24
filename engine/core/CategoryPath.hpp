// Category paths: "Women > Shoes > Sneakers", one level per segment. Every part of Taxon (the
// catalog, labels files, record labels, the UI's tree) spells them this way.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace taxon::core {

// Trims each segment and joins with " > "; "Women/Shoes" is not split (use folders for that).
// Throws core::Error for a name with an empty segment.
std::string normalizeCategoryPath(std::string_view path);
// "Women > Shoes > Sneakers" -> {"Women", "Shoes", "Sneakers"}: the levels, one name each
std::vector<std::string> categorySegments(std::string_view path);
// The first `levels` segments ("Women > Shoes" for 2); the whole path if it has fewer.
std::string categoryPrefix(std::string_view path, int levels);

}  // namespace taxon::core
