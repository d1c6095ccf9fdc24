// `taxon train`: Inception-v3 with the seed's flags and output lines on top of train::train. Each
// flag given is copied onto the run's settings, which are the recipe's defaults for a new run and
// the saved ones for --resume.
// `taxon distill`: the same run with a teacher (--teacher_dir, --temperature, --distill_weight).
// A new student takes the teacher's recipe and input size and half its depth multiplier (about a
// quarter of its multiply-adds) unless --recipe, --image_size or --depth_multiplier say otherwise.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "Commands.hpp"
#include "settings/TrainSettings.hpp"

namespace taxon::app {

struct TrainOptions {
  settings::TrainSettings given;  // the values of flags that map onto a setting one to one
  std::string trainDir, dataDir, initFrom, optimizer, schedule, recipe = "inception";
  int numGpus = 1;
  // The options whose presence (not only value) matters; null when the options were not made by
  // addTrainCommand, which counts as not given.
  CLI::Option* recipeOption = nullptr;
  CLI::Option* numGpusOption = nullptr;
  CLI::Option* deviceOption = nullptr;
  CLI::Option* imageSizeOption = nullptr;
  CLI::Option* depthOption = nullptr;
  bool distill = false;  // `taxon distill`
  std::string teacherDir;
  bool syncBatchNorm = false;
  bool resume = false;
  bool noAux = false;
  bool noDistort = false;
  bool colour = true;
  // Each given flag's copy into the settings. The copies hold a plain pointer to these options,
  // never the shared_ptr that owns them: that would be a cycle, never freed.
  std::vector<std::pair<CLI::Option*, std::function<void(settings::TrainSettings&)>>> copies;
};

// Trains (or resumes), printing the seed's lines; 1 when stopped or nothing was left to train.
int runTrain(TrainOptions& options);

Command addTrainCommand(CLI::App& app);
Command addDistillCommand(CLI::App& app);

}  // namespace taxon::app
