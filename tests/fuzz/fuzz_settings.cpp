// A run's settings.json (settings/TrainSettingsJson), read as a resumed run reads it: JSON, then
// the fields, then their validation.
#include <nlohmann/json.hpp>

#include "FuzzInput.hpp"
#include "core/Error.hpp"
#include "settings/TrainSettingsJson.hpp"

using namespace taxon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(fuzz::asText(data, size));
  } catch (const nlohmann::json::exception&) {
    return 0;  // readRunSettings names the file for these
  }
  try {
    const auto settings = settings::trainSettingsFromJson(json);
    settings.validate();
    // What was read is written back the same.
    if (settings::trainSettingsFromJson(settings::toJson(settings)).trainDir != settings.trainDir) {
      __builtin_trap();
    }
  } catch (const core::Error&) {
  }
  return 0;
}
