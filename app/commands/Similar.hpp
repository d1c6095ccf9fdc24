// `taxon embed`: every image's pooled feature vector under a checkpoint, stored in the project
// (similar/Embed.hpp); `taxon similar`: an image's nearest neighbours among them; `taxon
// duplicates`: copies within the project, leakage across splits and label conflicts.
#pragma once

#include <string>

#include "Commands.hpp"
#include "similar/Duplicates.hpp"
#include "similar/Embed.hpp"

namespace taxon::app {

struct EmbedOptions {
  similar::EmbedSettings settings;
};

// Embeds and prints a summary; 1 when cancelled or some images could not be read.
int runEmbed(EmbedOptions& options);

struct SimilarOptions {
  similar::SimilarSettings settings;
  std::string image;
};

// Prints the neighbours, nearest first: rank, distance, split, category, path.
int runSimilar(SimilarOptions& options);

struct DuplicatesOptions {
  similar::DuplicateSettings settings;
  int show = 10;  // groups printed of each kind
};

// Finds the groups, writes the CSV files and prints a summary; 1 when cancelled.
int runDuplicates(DuplicatesOptions& options);

Command addEmbedCommand(CLI::App& app);
Command addDuplicatesCommand(CLI::App& app);
Command addSimilarCommand(CLI::App& app);

}  // namespace taxon::app
