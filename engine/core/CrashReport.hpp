// A last word from a process that crashes: on SIGSEGV, SIGBUS, SIGFPE, SIGILL or SIGABRT the
// program's name, the signal and the stack of the thread that received it go to stderr, and the
// process then ends by the same signal (its exit status and any core dump are the signal's).
// Without it a crash in a library (a data-parallel rank tearing down after losing its peer, say)
// ends the process with nothing on stderr. Not installed in sanitizer builds, whose own reports
// say more.
#pragma once

namespace taxon::core {

// Installs the handlers (once; later calls do nothing). `program` must outlive the process (a
// string literal). Call early in main(), before threads start.
void reportFatalSignals(const char* program);

}  // namespace taxon::core
