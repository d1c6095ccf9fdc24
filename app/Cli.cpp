#include "Cli.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "Commands.hpp"
#include "core/Error.hpp"
#include "core/Runtime.hpp"

namespace taxon::app {

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

}  // namespace

int runCli(int argc, char** argv) {
  CLI::App app("Taxon: train, inspect and serve image classifiers.", "taxon");
  app.set_version_flag("--version", std::function<std::string()>(
                                        [] { return core::versionLine(core::queryRuntime()); }));
  app.require_subcommand(1);
  app.fallthrough(false);
  app.footer("Run 'taxon COMMAND --help' for a command's flags.");

  const std::vector<Command> commands = {addImportCommand(app),   addBuildRecordsCommand(app),
                                         addTrainCommand(app),    addEvalCommand(app),
                                         addClassifyCommand(app), addExportCommand(app),
                                         addInfoCommand(app),     addDemoCommand(app)};

  // CLI11 reports an unknown command as "A subcommand is required"; name it instead.
  if (argc > 1 && argv[1][0] != '-') {
    const std::string first = argv[1];
    bool found = false;
    std::string known;
    for (const auto& command : commands) {
      found = found || command.cli->check_name(first);
      known += (known.empty() ? "" : ", ") + command.cli->get_name();
    }
    if (!found) {
      std::fprintf(stderr, "taxon: error: unknown command '%s' (commands: %s)\n", first.c_str(),
                   known.c_str());
      return kExitUsage;
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string message = e.what();
    if (argc <= 1) {
      message = "no command given";
    }
    std::fprintf(stderr, "taxon: error: %s\nRun 'taxon --help' for usage.\n", message.c_str());
    return kExitUsage;
  }

  for (const auto& command : commands) {
    if (!command.cli->parsed()) {
      continue;
    }
    try {
      return command.run();
    } catch (const core::UsageError& e) {
      std::fprintf(stderr, "taxon %s: error: %s\n", command.cli->get_name().c_str(), e.what());
      return kExitUsage;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "taxon %s: error: %s\n", command.cli->get_name().c_str(), e.what());
      return kExitFailure;
    }
  }
  return kExitFailure;
}

}  // namespace taxon::app
