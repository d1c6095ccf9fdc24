// Progress reporting and cancellation for long operations (import, record building, training,
// evaluation). The engine reports Progress snapshots through a ProgressFn; the CLI draws them with
// TerminalProgress and the app forwards them as queued signals. Cancellation is a std::stop_token
// that long loops check between items.
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

// Draws progress on a terminal: a redrawn bar when `out` is a terminal, otherwise one plain line
// every few seconds (for logs and CI). Thread-safe; draws at most 10 times a second.
class TerminalProgress {
 public:
  explicit TerminalProgress(std::FILE* out = stderr);
  TerminalProgress(std::FILE* out, bool isTerminal, int width);
  ~TerminalProgress();
  TerminalProgress(const TerminalProgress&) = delete;
  TerminalProgress& operator=(const TerminalProgress&) = delete;

  void update(const Progress& progress);
  // Prints `line` and a newline to `to` (stdout for results, stderr for notices) without tearing
  // the bar: on a terminal the bar is cleared first and redrawn below the line.
  void print(std::FILE* to, const std::string& line);
  bool isTerminal() const { return isTerminal_; }
  // Draws the last state once more and ends the line. Called by the destructor if not before.
  void finish();
  // A ProgressFn that forwards to update(); valid while this object lives.
  ProgressFn callback();

  // The text of one bar, e.g. "import [=======>      ] 52% 5200/10000 images 812/s ETA 0:05".
  static std::string formatLine(const Progress& progress, double perSecond,
                                std::optional<double> secondsLeft, int width);

 private:
  void draw(bool final);

  std::FILE* out_;
  bool isTerminal_;
  int width_;
  std::mutex mutex_;
  Progress last_;
  RateMeter rate_;
  RateMeter::Clock::time_point lastDraw_{};
  bool drawn_ = false;
  bool finished_ = false;
};

}  // namespace taxon::core
