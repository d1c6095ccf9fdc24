// `taxon`: the command-line front end (engine only, no Qt).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "Cli.hpp"
#include "core/CrashReport.hpp"

int main(int argc, char** argv) {
  // Past a file size limit (ulimit -f) a write would end the process with SIGXFSZ, leaving a
  // half-written temporary file and no message; ignored, the write fails with EFBIG and the
  // command reports it, names the file and cleans up as it does for a full disk.
  std::signal(SIGXFSZ, SIG_IGN);
  taxon::core::reportFatalSignals("taxon");
  const int code = taxon::app::runCli(argc, argv);
#if !defined(__SANITIZE_ADDRESS__)
  // Every command has closed what it wrote when it returns. LibTorch's static destructors then
  // unregister its thousands of operators, a sixth of a second after a one-image `classify`:
  // leave without them. (The sanitizer build exits normally: its leak check runs at exit.)
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  std::_Exit(code);
#endif
  return code;
}
