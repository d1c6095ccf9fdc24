#include "Cli.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "Commands.hpp"
#include "commands/BuildRecords.hpp"
#include "commands/Classify.hpp"
#include "commands/Demo.hpp"
#include "commands/Edits.hpp"
#include "commands/Eval.hpp"
#include "commands/Export.hpp"
#include "commands/Import.hpp"
#include "commands/Info.hpp"
#include "commands/Similar.hpp"
#include "commands/Suggest.hpp"
#include "commands/Train.hpp"
#include "core/Error.hpp"
#include "core/torch/Runtime.hpp"

namespace taxon::app {

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// Edits (insertions, deletions, substitutions) between two words.
std::size_t editDistance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

constexpr const char* kFooter =
    "Run 'taxon COMMAND --help' (or 'taxon help COMMAND') for a command's flags and examples.\n\n"
    "\"The seed\" in the help texts is the pipeline Taxon replaces: TensorFlow's Inception-v3 "
    "scripts (build_image_data.py, imagenet_train, imagenet_eval). Its flags, recipe and output "
    "lines are kept, so its commands and logs carry over.\n\n"
    "Exit codes: 0 done; 1 failed, found nothing to do, or stopped by Ctrl-C (a long command "
    "stops cleanly at the first Ctrl-C, keeping its work; a second one ends it at once, which "
    "the shell reports as 130); 2 a usage error.";

// Examples under each command's flags.
void addExamples(const std::vector<Command>& commands) {
  const std::pair<const char*, const char*> examples[] = {
      {"import",
       "  taxon import shop ~/photos                 folders of category folders (nested: levels)\n"
       "  taxon import shop labels.csv --relabel     path,label[,split] rows; relabel known "
       "images\n"
       "  taxon import shop /data/train-00000-of-01024 --labels_file labels.txt   the seed's "
       "shards\n"
       "  taxon import shop --unlabeled ~/new-photos     images without a category, to label"},
      {"build-records",
       "  taxon build-records shop                   the project's splits into shop/records\n"
       "  taxon build-records --train_directory train --validation_directory validation "
       "--output_directory out --labels_file labels.txt"},
      {"train",
       "  taxon train --train_dir runs/a --data_dir shop/records            the seed's recipe\n"
       "  taxon train --train_dir runs/b --data_dir shop/records --recipe small-data "
       "--image_size 75 --depth_multiplier 0.25 --num_epochs 5\n"
       "  taxon train --train_dir runs/a --resume --max_steps 200000       continue a run"},
      {"eval",
       "  taxon eval --checkpoint_dir runs/a                 validation split; report in "
       "runs/a/eval\n"
       "  taxon eval --checkpoint_dir runs/a --subset test --skip_corrupt"},
      {"classify",
       "  taxon classify --checkpoint_dir runs/a photo.jpg\n"
       "  taxon classify --checkpoint_dir runs/a --top_k 3 --csv out.csv new-photos/"},
      {"suggest",
       "  taxon suggest shop --checkpoint_dir runs/a          top 5 for every unlabeled image\n"
       "  taxon suggest shop --checkpoint_dir runs/a --subset all   labeled ones too"},
      {"accept",
       "  taxon accept shop --min_score 0.95 --dry_run        how many would be labeled\n"
       "  taxon accept shop --min_score 0.9 --category \"Women > Shoes\""},
      {"embed",
       "  taxon embed shop --checkpoint_dir runs/a       every image's features, resumable"},
      {"similar",
       "  taxon similar shop photo.jpg --checkpoint_dir runs/a --k 12   its nearest images"},
      {"duplicates",
       "  taxon duplicates shop --checkpoint_dir runs/a     copies, leakage, label conflicts"},
      {"undo", "  taxon undo shop                 reverts the latest edit (an accept, a relabel)"},
      {"redo", "  taxon redo shop                 re-applies the edit undone last"},
      {"export", "  taxon export --checkpoint_dir runs/a --output inception.pth"},
      {"info",
       "  taxon info shop                 a project: categories, splits, images; catalog checked\n"
       "  taxon info shop/records         shards: records per split, checksums verified"},
      {"demo", "  taxon demo                      Fashion-MNIST, imported, trained and evaluated"},
  };
  for (const auto& command : commands) {
    for (const auto& [name, text] : examples) {
      if (command.cli->get_name() == name) {
        command.cli->footer(std::string("\nExamples:\n") + text);
      }
    }
  }
}

}  // namespace

int runCli(int argc, char** argv) {
  CLI::App app("Taxon: train, inspect and serve image classifiers.", "taxon");
  app.set_version_flag("--version", std::function<std::string()>(
                                        [] { return core::versionLine(core::queryRuntime()); }));
  app.require_subcommand(1);
  app.fallthrough(false);
  app.footer(kFooter);

  const std::vector<Command> commands = {
      addImportCommand(app),    addBuildRecordsCommand(app), addTrainCommand(app),
      addDistillCommand(app),   addEvalCommand(app),         addClassifyCommand(app),
      addSuggestCommand(app),   addAcceptCommand(app),       addUndoCommand(app),
      addRedoCommand(app),      addExportCommand(app),       addInfoCommand(app),
      addDemoCommand(app),      addEmbedCommand(app),        addSimilarCommand(app),
      addDuplicatesCommand(app)};

  addExamples(commands);

  // `taxon help` and `taxon help COMMAND` are `taxon --help` and `taxon COMMAND --help`.
  std::vector<std::string> args(argv, argv + argc);
  if (args.size() > 1 && args[1] == "help") {
    args.erase(args.begin() + 1);
    args.insert(args.size() > 1 ? args.begin() + 2 : args.end(), "--help");
  }

  // CLI11 reports an unknown command as "A subcommand is required"; name it, and the nearest one.
  if (args.size() > 1 && args[1][0] != '-') {
    const std::string& first = args[1];
    bool found = false;
    std::string known;
    std::string nearest;
    std::size_t nearestDistance = 3;  // suggest within two edits
    for (const auto& command : commands) {
      found = found || command.cli->check_name(first);
      known += (known.empty() ? "" : ", ") + command.cli->get_name();
      const auto distance = editDistance(first, command.cli->get_name());
      if (distance < nearestDistance) {
        nearestDistance = distance;
        nearest = command.cli->get_name();
      }
    }
    if (!found) {
      std::fprintf(stderr, "taxon: error: unknown command '%s'%s (commands: %s)\n", first.c_str(),
                   nearest.empty() ? "" : ("; did you mean '" + nearest + "'?").c_str(),
                   known.c_str());
      return kExitUsage;
    }
  }

  try {
    // CLI11 takes the arguments in reverse order, without the program name.
    std::vector<std::string> reversed(args.rbegin(), args.rend() - 1);
    app.parse(reversed);
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
    // Point at the help of the command being given, when there is one.
    std::string help = "taxon --help";
    for (const auto& command : commands) {
      if (args.size() > 1 && command.cli->check_name(args[1])) {
        help = "taxon " + command.cli->get_name() + " --help";
      }
    }
    std::fprintf(stderr, "taxon: error: %s\nRun '%s' for usage.\n", message.c_str(), help.c_str());
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
