// Ctrl-C handling for the CLI: the first SIGINT or SIGTERM requests a stop through the returned
// token, so long operations finish their current item and leave files consistent; a second one
// ends the process at once.
#pragma once

#include <stop_token>

namespace taxon::app {

// Installs the handlers (once) and returns the token they stop. Thread-safe.
std::stop_token interruptToken();

}  // namespace taxon::app
