// What the fuzz targets share: the input as text, cut into parts for parsers that read several
// files, and written to scratch files for parsers that read files. Each target is one
// LLVMFuzzerTestOneInput; anything but core::Error escaping it (another exception type, a crash,
// a sanitizer report, a hang, an allocation over the -malloc_limit_mb) is a finding.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "core/Error.hpp"

namespace taxon::fuzz {

inline std::string_view asText(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The parts of an input made of several files, separated by kPartSeparator; always `count`
// parts (missing ones empty, the last takes the rest).
inline constexpr std::string_view kPartSeparator = "\n#--#\n";
inline std::vector<std::string_view> splitParts(std::string_view input, std::size_t count) {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < count) {
    const auto at = input.find(kPartSeparator);
    if (at == std::string_view::npos) {
      break;
    }
    parts.push_back(input.substr(0, at));
    input.remove_prefix(at + kPartSeparator.size());
  }
  parts.push_back(input);
  parts.resize(count);
  return parts;
}

// A folder of this process's own, emptied on first use: TMPDIR/taxon-fuzz-PID.
inline const std::filesystem::path& scratchDir() {
  static const std::filesystem::path dir = [] {
    const auto base =
        std::filesystem::temp_directory_path() / ("taxon-fuzz-" + std::to_string(::getpid()));
    std::filesystem::remove_all(base);
    std::filesystem::create_directories(base);
    return base;
  }();
  return dir;
}

// Writes `bytes` to scratchDir()/relative (its folders created) and returns the path.
inline std::filesystem::path writeScratch(const std::filesystem::path& relative,
                                          std::string_view bytes) {
  const auto path = scratchDir() / relative;
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

// The targets whose parser reads a folder of files: splits `input` into one part per name
// (kPartSeparator), empties scratchDir()/folder and writes each part to folder/name, an empty
// part standing for a missing file. Returns the folder.
inline std::filesystem::path writeFolder(const std::filesystem::path& folder,
                                         std::initializer_list<std::string_view> names,
                                         std::string_view input) {
  const auto parts = splitParts(input, names.size());
  const auto dir = scratchDir() / folder;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::size_t i = 0;
  for (const auto name : names) {
    if (!parts[i].empty()) {
      writeScratch(folder / name, parts[i]);
    }
    ++i;
  }
  return dir;
}

// The targets whose parser reads one file: writes the input to scratchDir()/name and calls
// read(path); a core::Error is the parser refusing the bytes, anything else escapes.
template <class Read>
void readAsFile(const std::filesystem::path& name, const std::uint8_t* data, std::size_t size,
                Read&& read) {
  const auto path = writeScratch(name, asText(data, size));
  try {
    read(path);
  } catch (const core::Error&) {
  }
}

}  // namespace taxon::fuzz
