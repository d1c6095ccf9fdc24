// `taxon eval`: a checkpoint on a split of its records: the seed's precision@1 and recall@5 line,
// the most confused pairs, and a report folder.
#pragma once

#include "Commands.hpp"
#include "eval/torch/Evaluator.hpp"

namespace taxon::app {

struct EvalOptions {
  // The flags land here directly. Batch 64: evaluation needs no gradients, so it fits more
  // images than training's 32. An empty evalDir becomes the run's eval folder when run.
  eval::EvalSettings settings = [] {
    eval::EvalSettings s;
    s.model.batchSize = 64;
    return s;
  }();
};

// Evaluates and prints; 1 when cancelled (no report written).
int runEval(EvalOptions& options);

Command addEvalCommand(CLI::App& app);

}  // namespace taxon::app
