// Seeded randomness that is the same on every platform and library version (unlike the
// standard distributions): splits, shard order, shuffles and augmentation all draw from it.
#pragma once

#include <cstdint>
#include <initializer_list>

namespace taxon::core {

// SplitMix64: a small, fast generator whose sequence is the same on every platform (unlike the
// standard distributions). mix() derives independent seeds from several numbers.
class SeededRandom {
 public:
  explicit SeededRandom(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    state_ += kGolden;
    return finalize(state_);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double uniform(double low, double high) { return low + (high - low) * uniform(); }
  // [0, n) for n > 0 (the modulo bias is below n / 2^64).
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  bool coin() { return (next() >> 63) != 0; }

  static std::uint64_t mixSeed(std::uint64_t value) { return finalize(value + kGolden); }

  static std::uint64_t mix(std::initializer_list<std::uint64_t> values) {
    std::uint64_t h = 0x6a09e667f3bcc909ULL;
    for (std::uint64_t v : values) {
      h = finalize(h ^ mixSeed(v));
    }
    return h;
  }

 private:
  static constexpr std::uint64_t kGolden = 0x9e3779b97f4a7c15ULL;
  static std::uint64_t finalize(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  std::uint64_t state_;
};

// splitmix64's step: the engine's seed mixer.
inline std::uint64_t mixSeed(std::uint64_t value) {
  return SeededRandom::mixSeed(value);
}

}  // namespace taxon::core
