// `taxon demo`: the built-in Fashion-MNIST project end to end, each step a `taxon` command run in
// this process and printed first like a shell would.
#pragma once

#include <cstdint>
#include <string>

#include "Commands.hpp"

namespace taxon::app {

struct DemoOptions {
  std::string project;  // default: ~/taxon-projects/fashion-mnist
  std::string fashionMnistDir = "/usr/share/datasets/fashion-mnist";
  std::int64_t limit = 0;  // images of each IDX file (0: all)
  int threads = 0;         // import's image checks (0: all cores)
  double epochs = 1.0;
  int imageSize = 75;
  double depthMultiplier = 0.25;
  int batchSize = 64;
};

// The exit code of the first step that fails, else 0.
int runDemo(const DemoOptions& options);

Command addDemoCommand(CLI::App& app);

}  // namespace taxon::app
