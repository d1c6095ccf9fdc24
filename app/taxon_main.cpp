// `taxon`: the command-line front end (engine only, no Qt).
#include "Cli.hpp"

int main(int argc, char** argv) {
  return taxon::app::runCli(argc, argv);
}
