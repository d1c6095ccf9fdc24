#include "core/CrashReport.hpp"

#include <execinfo.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstring>

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TAXON_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TAXON_SANITIZED 1
#endif

namespace taxon::core {

namespace {

const char* gProgram = "taxon";
std::atomic<bool> gReporting{false};

// Only async-signal-safe calls from here on: write(2), backtrace_symbols_fd (backtrace's
// first call, which loads libgcc_s, is made when the handlers are installed).
void say(const char* text) {
  [[maybe_unused]] const auto written = write(STDERR_FILENO, text, std::strlen(text));
}

const char* signalName(int signal) {
  switch (signal) {
    case SIGSEGV:
      return "SIGSEGV, invalid memory access";
    case SIGBUS:
      return "SIGBUS, bus error";
    case SIGFPE:
      return "SIGFPE, arithmetic error";
    case SIGILL:
      return "SIGILL, illegal instruction";
    case SIGABRT:
      return "SIGABRT, aborted";
    default:
      return "fatal";
  }
}

extern "C" void onFatalSignal(int signal) {
  // A second thread crashing meanwhile waits for the first report to end the process.
  if (!gReporting.exchange(true)) {
    std::array<char, 16> number{};
    int value = signal;
    std::size_t at = number.size() - 1;
    do {
      number[--at] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value > 0 && at > 0);
    say("\n");
    say(gProgram);
    say(": crashed: signal ");
    say(number.data() + at);
    say(" (");
    say(signalName(signal));
    say("). Stack of the thread that received it:\n");
    std::array<void*, 64> frames{};
    const int depth = backtrace(frames.data(), static_cast<int>(frames.size()));
    backtrace_symbols_fd(frames.data(), depth, STDERR_FILENO);
    say("Please report this with the command that was run.\n");
  }
  // SA_RESETHAND restored the default action; the signal is blocked in here, so it is delivered
  // again, with that action, when the handler returns (a fault also recurs on its own).
  raise(signal);
}

}  // namespace

void reportFatalSignals(const char* program) {
#if !defined(TAXON_SANITIZED)
  static std::atomic<bool> installed{false};
  if (installed.exchange(true)) {
    return;
  }
  gProgram = program;
  {
    std::array<void*, 4> warm{};
    backtrace(warm.data(), static_cast<int>(warm.size()));
  }
  // The main thread's stack may be what overflowed: its handler runs on a stack of its own.
  static std::array<char, 64 * 1024> alternate{};
  stack_t stack{};
  stack.ss_sp = alternate.data();
  stack.ss_size = alternate.size();
  sigaltstack(&stack, nullptr);
  struct sigaction action {};
  action.sa_handler = onFatalSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND | SA_ONSTACK;
  for (const int signal : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) {
    sigaction(signal, &action, nullptr);
  }
#else
  (void)program;
#endif
}

}  // namespace taxon::core
