// Reads back an evaluation report folder written by writeReport() (see Metrics.hpp for the
// files): summary.json, then the CSV files it names (RFC 4180 quoting). predictions.csv is
// optional, so reports written before it existed still load (with no predictions).
// mostConfused and mislabeled hold what the files hold (the writer's bounded lists), and
// probabilities are as precise as the files (6 significant digits). Pure C++, any thread.
#pragma once

#include <filesystem>

#include "eval/Metrics.hpp"

namespace taxon::eval {

// The report in `directory`. Throws core::Error naming the file (and the line, for a malformed
// CSV row) when a file is missing or malformed, or the files disagree with each other.
MetricsReport readReport(const std::filesystem::path& directory);

}  // namespace taxon::eval
