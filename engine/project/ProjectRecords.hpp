// `taxon build-records`' front door: a project's catalog (its train, validation and test splits;
// categories without images get no label) or the seed's folders, written by records::writeRecords.
#pragma once

#include <stop_token>

#include "core/Progress.hpp"
#include "records/RecordBuilder.hpp"

namespace taxon::project {

// Builds the shards `settings` describe (see records/RecordBuilder.hpp); a project's records go to
// PROJECT/records unless settings.outputDirectory says otherwise. Unassigned images get a split
// first.
records::RecordBuildReport buildRecords(records::RecordBuildSettings settings,
                                        const core::ProgressFn& progress = {},
                                        std::stop_token stop = {});

}  // namespace taxon::project
