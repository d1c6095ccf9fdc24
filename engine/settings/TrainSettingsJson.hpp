// TrainSettings as JSON (settings.json in a train dir, and inside each checkpoint). Apart from
// TrainSettings.hpp so that code that only reads settings (the GPU benchmark) needs no JSON
// library.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "settings/TrainSettings.hpp"

namespace taxon::settings {

nlohmann::json toJson(const TrainSettings& settings);
// Throws core::Error when the JSON lacks a field or has one of the wrong type.
TrainSettings trainSettingsFromJson(const nlohmann::json& json);

}  // namespace taxon::settings
