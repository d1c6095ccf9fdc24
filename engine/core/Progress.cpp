#include "core/Progress.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace taxon::core {

void RateMeter::add(std::int64_t done, Clock::time_point now) {
  samples_.emplace_back(now, done);
  // Keep one sample older than the window so the rate covers the whole window.
  while (samples_.size() > 2 && now - samples_[1].first > window_) {
    samples_.pop_front();
  }
}

double RateMeter::perSecond() const {
  if (samples_.size() < 2) {
    return 0.0;
  }
  const auto& [t0, d0] = samples_.front();
  const auto& [t1, d1] = samples_.back();
  const double seconds = std::chrono::duration<double>(t1 - t0).count();
  if (seconds < 1e-3) {
    return 0.0;
  }
  return static_cast<double>(d1 - d0) / seconds;
}

std::optional<double> RateMeter::secondsLeft(std::int64_t total) const {
  const double rate = perSecond();
  if (total <= 0 || rate <= 0.0 || samples_.empty()) {
    return std::nullopt;
  }
  const auto left = std::max<std::int64_t>(0, total - samples_.back().second);
  return static_cast<double>(left) / rate;
}

std::string formatDuration(double seconds) {
  const auto s = static_cast<long long>(std::llround(std::max(0.0, seconds)));
  char text[32];
  if (s >= 3600) {
    std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
  } else {
    std::snprintf(text, sizeof text, "%lld:%02lld", s / 60, s % 60);
  }
  return text;
}

}  // namespace taxon::core
