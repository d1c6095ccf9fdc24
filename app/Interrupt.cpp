#include "Interrupt.hpp"

#include <unistd.h>
#include <atomic>
#include <chrono>
#include <csignal>
#include <mutex>
#include <thread>

namespace taxon::app {

namespace {

std::atomic<int> gSignals{0};

extern "C" void onSignal(int signal) {
  if (gSignals.fetch_add(1) >= 1) {
    std::signal(signal, SIG_DFL);
    std::raise(signal);
    return;
  }
  constexpr char kMessage[] =
      "\ntaxon: stopping after the current step (press Ctrl-C again to quit now)\n";
  [[maybe_unused]] auto written = write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
}

}  // namespace

std::stop_token interruptToken() {
  // request_stop() is not async-signal-safe, so the handler only bumps an atomic and a watcher
  // thread turns that into a stop request.
  static std::stop_source source;
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action {};
    action.sa_handler = onSignal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
    std::thread([] {
      while (gSignals.load() == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      source.request_stop();
    }).detach();
  });
  return source.get_token();
}

}  // namespace taxon::app
