// How long the event loop was blocked: the longest gap between the ticks of a 10 ms timer while
// the meter lives (the app's promise: never over 100 ms while training, importing or drawing).
// Used by the UI tests and bench/compare.
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>
#include <algorithm>

namespace taxon::test {

class StallMeter : public QObject {
 public:
  StallMeter() {
    timer_.setInterval(10);
    QObject::connect(&timer_, &QTimer::timeout, this, [this] {
      if (clock_.isValid()) {
        longest_ = std::max(longest_, clock_.restart());
      } else {
        clock_.start();
      }
    });
    timer_.start();
  }
  qint64 longestMs() const { return longest_; }
  // Starts over (the next tick starts the clock).
  void reset() {
    longest_ = 0;
    clock_.invalidate();
  }

 private:
  QTimer timer_;
  QElapsedTimer clock_;
  qint64 longest_ = 0;
};

}  // namespace taxon::test
