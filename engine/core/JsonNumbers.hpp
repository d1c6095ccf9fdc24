// Whole numbers read from JSON that another program wrote, or that was damaged on disk.
// nlohmann's get<integer>() converts a floating-point value with a plain cast, which is undefined
// behaviour when the value is out of the integer's range (1e31 as a step count, 6.7e122 as a
// class count: both found by the fuzz targets). These accept integers, and floats that are whole
// numbers, inside T's range, and throw nlohmann::json::type_error for anything else, so the
// callers' existing handling of malformed JSON (an error naming the file) applies.
#pragma once

#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include <nlohmann/json.hpp>

namespace taxon::core {

template <typename T>
T wholeNumber(const nlohmann::json& value, const char* what) {
  static_assert(std::is_integral_v<T>);
  const auto refuse = [&]() -> T {
    throw nlohmann::json::type_error::create(
        302,
        std::string("\"") + what + "\" is not a whole number from " +
            std::to_string(std::numeric_limits<T>::min()) + " to " +
            std::to_string(std::numeric_limits<T>::max()),
        nullptr);
  };
  if (value.is_number_unsigned()) {
    const auto v = value.get<std::uint64_t>();
    return v <= static_cast<std::uint64_t>(std::numeric_limits<T>::max()) ? static_cast<T>(v)
                                                                          : refuse();
  }
  if (value.is_number_integer()) {
    const auto v = value.get<std::int64_t>();
    if constexpr (std::is_signed_v<T>) {
      return v >= static_cast<std::int64_t>(std::numeric_limits<T>::min()) &&
                     (sizeof(T) >= sizeof(std::int64_t) ||
                      v <= static_cast<std::int64_t>(std::numeric_limits<T>::max()))
                 ? static_cast<T>(v)
                 : refuse();
    } else {
      return v >= 0 && static_cast<std::uint64_t>(v) <=
                           static_cast<std::uint64_t>(std::numeric_limits<T>::max())
                 ? static_cast<T>(v)
                 : refuse();
    }
  }
  if (value.is_number_float()) {
    const double v = value.get<double>();
    // Compared as doubles: T's max may round up to a power of two (2^63), which is outside.
    const double low = static_cast<double>(std::numeric_limits<T>::min());
    const double high = std::ldexp(1.0, std::numeric_limits<T>::digits);  // max + 1
    if (std::isfinite(v) && v == std::trunc(v) && v >= low && v < high) {
      return static_cast<T>(v);
    }
  }
  return refuse();
}

// The field `key` of `object` as a whole number (at() semantics: missing is an error).
template <typename T>
T wholeField(const nlohmann::json& object, const char* key) {
  return wholeNumber<T>(object.at(key), key);
}

// The field `key` of `object`, or `fallback` when the object lacks it.
template <typename T>
T wholeFieldOr(const nlohmann::json& object, const char* key, T fallback) {
  const auto it = object.find(key);
  return it == object.end() ? fallback : wholeNumber<T>(*it, key);
}

// `value` as T: integers through wholeNumber, anything else (bool, floating point, strings) as
// nlohmann converts it.
template <typename T>
T jsonAs(const nlohmann::json& value, const char* what) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    return wholeNumber<T>(value, what);
  } else {
    return value.get<T>();
  }
}

}  // namespace taxon::core
