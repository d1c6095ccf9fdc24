// The `taxon` command line: subcommands, flags and exit codes (0 success, 1 a failure at run
// time, 2 a usage error). Errors go to stderr and name the file and the problem.
#pragma once

namespace taxon::app {

int runCli(int argc, char** argv);

}  // namespace taxon::app
