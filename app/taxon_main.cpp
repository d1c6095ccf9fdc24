// `taxon`: the command-line front end (engine only, no Qt).
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "Cli.hpp"

int main(int argc, char** argv) {
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
