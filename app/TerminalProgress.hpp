// The command line's progress bar: draws the engine's core::Progress snapshots on a terminal.
// Only the CLI draws progress this way (the GUI forwards snapshots as signals), so it lives here.
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/Progress.hpp"

namespace taxon::app {

// Draws progress on a terminal: a redrawn bar when `out` is a terminal, otherwise one plain line
// every few seconds (for logs and CI). Thread-safe; draws at most 10 times a second.
class TerminalProgress {
 public:
  explicit TerminalProgress(std::FILE* out = stderr);
  TerminalProgress(std::FILE* out, bool isTerminal, int width);
  ~TerminalProgress();
  TerminalProgress(const TerminalProgress&) = delete;
  TerminalProgress& operator=(const TerminalProgress&) = delete;

  void update(const core::Progress& progress);
  // Prints `line` and a newline to `to` (stdout for results, stderr for notices) without tearing
  // the bar: on a terminal the bar is cleared first and redrawn below the line.
  void print(std::FILE* to, const std::string& line);
  bool isTerminal() const { return isTerminal_; }
  // Draws the last state once more and ends the line. Called by the destructor if not before.
  void finish();
  // A ProgressFn that forwards to update(); valid while this object lives.
  core::ProgressFn callback();

  // The text of one bar, e.g. "import [=======>      ] 52% 5200/10000 images 812/s ETA 0:05".
  static std::string formatLine(const core::Progress& progress, double perSecond,
                                std::optional<double> secondsLeft, int width);

 private:
  void draw(bool final);

  std::FILE* out_;
  bool isTerminal_;
  int width_;
  std::mutex mutex_;
  core::Progress last_;
  core::RateMeter rate_;
  core::RateMeter::Clock::time_point lastDraw_{};
  bool drawn_ = false;
  bool finished_ = false;
};

// A bar on stderr only where someone watches, a terminal; null otherwise (in logs the seed's lines
// are enough).
std::unique_ptr<TerminalProgress> barIfTerminal();

}  // namespace taxon::app
