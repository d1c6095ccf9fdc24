// `taxon accept`, `taxon undo`, `taxon redo`: a project's label edits from the command line.
// accept gives unlabeled images their top suggestion (`taxon suggest`) above a score, optionally
// inside a category's subtree, as one undoable edit; undo and redo replay the project's edit
// history, the same one the app's Edit menu uses.
#pragma once

#include <string>

#include "Commands.hpp"

namespace taxon::app {

struct AcceptOptions {
  std::string project;
  double minScore = 0.95;
  std::string category;  // only suggestions of this category or below it; empty: any
  bool dryRun = false;   // only count
};

int runAccept(const AcceptOptions& options);

Command addAcceptCommand(CLI::App& app);
Command addUndoCommand(CLI::App& app);
Command addRedoCommand(CLI::App& app);

}  // namespace taxon::app
