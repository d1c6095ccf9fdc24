// Progress reporting and cancellation for long operations (import, record building, training,
// evaluation). The engine reports Progress snapshots through a ProgressFn; the CLI draws them with
// its TerminalProgress (app/) and the app forwards them as queued signals. Cancellation is a
// std::stop_token that long loops check between items.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

namespace taxon::core {

// One snapshot of a long operation.
struct Progress {
  std::string stage;           // what is running, e.g. "import" or "train-00003-of-00064"
  std::int64_t done = 0;       // units finished so far
  std::int64_t total = 0;      // units in all; 0 when not known yet
  std::string unit = "items";  // plural noun for the units: "images", "steps", "records"
};

// Receives snapshots. Called on the thread doing the work (possibly several threads at once for
// parallel work); implementations must be cheap and thread-safe.
using ProgressFn = std::function<void(const Progress&)>;

// Units per second over a sliding time window, and the time left at that rate.
class RateMeter {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RateMeter(std::chrono::duration<double> window = std::chrono::seconds(10))
      : window_(window) {}

  void add(std::int64_t done, Clock::time_point now);
  // Units per second over the window; 0 until two samples are at least 1 ms apart.
  double perSecond() const;
  // Seconds until `total` at the current rate; empty when the rate or the total is unknown.
  std::optional<double> secondsLeft(std::int64_t total) const;

 private:
  std::chrono::duration<double> window_;
  std::deque<std::pair<Clock::time_point, std::int64_t>> samples_;
};

// "1:02:03", "4:05" or "0:07" for a number of seconds.
std::string formatDuration(double seconds);

}  // namespace taxon::core
