#include "TerminalProgress.hpp"

#include <unistd.h>

#include <sys/ioctl.h>
#include <algorithm>

namespace taxon::app {

namespace {

int terminalWidth(std::FILE* out) {
  winsize size{};
  if (ioctl(fileno(out), TIOCGWINSZ, &size) == 0 && size.ws_col > 20) {
    return size.ws_col;
  }
  return 80;
}

std::string formatRate(double perSecond) {
  char text[32];
  if (perSecond >= 100) {
    std::snprintf(text, sizeof text, "%.0f/s", perSecond);
  } else {
    std::snprintf(text, sizeof text, "%.1f/s", perSecond);
  }
  return text;
}

}  // namespace

TerminalProgress::TerminalProgress(std::FILE* out)
    : TerminalProgress(out, isatty(fileno(out)) != 0, terminalWidth(out)) {}

TerminalProgress::TerminalProgress(std::FILE* out, bool isTerminal, int width)
    : out_(out), isTerminal_(isTerminal), width_(width) {}

TerminalProgress::~TerminalProgress() {
  finish();
}

std::string TerminalProgress::formatLine(const core::Progress& progress, double perSecond,
                                         std::optional<double> secondsLeft, int width) {
  std::string counts = std::to_string(progress.done);
  if (progress.total > 0) {
    counts.append("/").append(std::to_string(progress.total));
  }
  counts.append(" ").append(progress.unit);
  if (perSecond > 0) {
    counts.append(" ").append(formatRate(perSecond));
  }
  if (secondsLeft) {
    counts.append(" ETA ").append(core::formatDuration(*secondsLeft));
  }
  if (progress.total <= 0) {
    return progress.stage + " " + counts;
  }
  const double fraction = std::clamp(
      static_cast<double>(progress.done) / static_cast<double>(progress.total), 0.0, 1.0);
  char percent[8];
  std::snprintf(percent, sizeof percent, "%3d%%", static_cast<int>(fraction * 100.0));
  const int fixed = static_cast<int>(progress.stage.size() + counts.size()) + 4 + 5;
  const int barWidth = std::clamp(width - fixed, 10, 50);
  const int filled = static_cast<int>(fraction * barWidth);
  std::string bar(static_cast<std::size_t>(barWidth), ' ');
  std::fill_n(bar.begin(), filled, '=');
  if (filled < barWidth && filled > 0) {
    bar[static_cast<std::size_t>(filled)] = '>';
  }
  return progress.stage + " [" + bar + "] " + percent + " " + counts;
}

void TerminalProgress::update(const core::Progress& progress) {
  std::lock_guard lock(mutex_);
  if (finished_) {
    return;
  }
  const auto now = core::RateMeter::Clock::now();
  if (progress.stage != last_.stage) {
    rate_ = core::RateMeter();
    if (drawn_ && isTerminal_) {
      std::fputc('\n', out_);
    }
    drawn_ = false;
  }
  last_ = progress;
  rate_.add(progress.done, now);
  const auto interval = isTerminal_ ? std::chrono::milliseconds(100) : std::chrono::seconds(5);
  if (!drawn_ || now - lastDraw_ >= interval) {
    lastDraw_ = now;
    draw(false);
  }
}

void TerminalProgress::print(std::FILE* to, const std::string& line) {
  std::lock_guard lock(mutex_);
  const bool redraw = isTerminal_ && drawn_ && !finished_;
  if (redraw) {
    std::fputs("\r\x1b[K", out_);
    std::fflush(out_);
  }
  std::fprintf(to, "%s\n", line.c_str());
  std::fflush(to);
  if (redraw) {
    draw(false);
  }
}

void TerminalProgress::draw(bool final) {
  const std::string line = formatLine(
      last_, rate_.perSecond(), final ? std::nullopt : rate_.secondsLeft(last_.total), width_ - 1);
  if (isTerminal_) {
    std::fprintf(out_, "\r%s\x1b[K", line.c_str());
    if (final) {
      std::fputc('\n', out_);
    }
  } else {
    std::fprintf(out_, "%s\n", line.c_str());
  }
  std::fflush(out_);
  drawn_ = true;
}

void TerminalProgress::finish() {
  std::lock_guard lock(mutex_);
  if (finished_) {
    return;
  }
  finished_ = true;
  if (drawn_) {
    draw(true);
  }
}

core::ProgressFn TerminalProgress::callback() {
  return [this](const core::Progress& progress) { update(progress); };
}

std::unique_ptr<TerminalProgress> barIfTerminal() {
  if (isatty(fileno(stderr)) != 0) {
    return std::make_unique<TerminalProgress>(stderr);
  }
  return nullptr;
}

}  // namespace taxon::app
