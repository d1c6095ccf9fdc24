// CRC-32C (Castagnoli), the checksum of TFRecord files, and TFRecord's masking of it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace taxon::records {

// CRC-32C of `size` bytes, continuing from `crc` (0 to start). With SSE 4.2's CRC32 instruction
// where the CPU has it, else crc32cPortable.
std::uint32_t crc32c(const void* data, std::size_t size, std::uint32_t crc = 0);
// The same, slicing-by-8 in software on any CPU.
std::uint32_t crc32cPortable(const void* data, std::size_t size, std::uint32_t crc = 0);
inline std::uint32_t crc32c(std::string_view bytes) {
  return crc32c(bytes.data(), bytes.size());
}

// TFRecord stores ((crc >> 15) | (crc << 17)) + 0xa282ead8 so that a CRC of data that itself
// holds CRCs stays well distributed.
constexpr std::uint32_t maskCrc(std::uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}
constexpr std::uint32_t unmaskCrc(std::uint32_t masked) {
  const std::uint32_t rotated = masked - 0xa282ead8u;
  return (rotated >> 17) | (rotated << 15);
}

// Whether a checksum read from a file matches the one computed. Fuzz builds (tests/fuzz) also
// accept a stored 0, so that the fuzzers reach the parsing the checksums guard; every other build
// compares only.
constexpr bool checksumMatches(std::uint32_t stored, std::uint32_t computed) {
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  if (stored == 0) {
    return true;
  }
#endif
  return stored == computed;
}

}  // namespace taxon::records
