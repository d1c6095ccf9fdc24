// Wall-clock time as TensorBoard's event files and metrics.jsonl stamp it.
#pragma once

#include <chrono>

namespace taxon::core {

// Seconds since the Unix epoch, with the clock's resolution.
inline double unixSecondsNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace taxon::core
