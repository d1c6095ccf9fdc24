#include "train/MetricsLog.hpp"

#include <cerrno>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/Clock.hpp"
#include "core/Error.hpp"
#include "core/Files.hpp"
#include "core/JsonNumbers.hpp"

namespace taxon::train {

namespace fs = std::filesystem;

namespace {

bool blank(std::string_view line) {
  return line.find_first_not_of(" \t\r\n\v\f") == std::string_view::npos;
}

// A count field (a step, an epoch, a number of examples): 0 when missing; anything but a whole
// number that int64 can hold (a string, 1e30) is an error of the line.
std::int64_t countField(const nlohmann::json& json, const char* key) {
  return core::wholeFieldOr<std::int64_t>(json, key, 0);
}

StepMetrics stepFromJson(const nlohmann::json& json) {
  StepMetrics m;
  m.step = countField(json, "step");
  m.epoch = countField(json, "epoch");
  m.loss = json.value("loss", 0.0);
  m.crossEntropy = json.value("cross_entropy", 0.0);
  m.learningRate = json.value("learning_rate", 0.0);
  m.examplesPerSec = json.value("examples_per_sec", 0.0);
  m.secPerBatch = json.value("sec_per_batch", 0.0);
  m.batchPrecisionAt1 = json.value("batch_precision_at_1", 0.0);
  m.batchRecallAt5 = json.value("batch_recall_at_5", 0.0);
  m.wallTime = json.value("time", 0.0);
  if (json.contains("distill_loss")) {
    m.distillLoss = json.value("distill_loss", 0.0);
  }
  return m;
}

EvalPoint evalFromJson(const nlohmann::json& json) {
  const auto& e = json["eval"];
  EvalPoint point;
  point.step = countField(json, "step");
  point.subset = e.value("subset", std::string());
  point.examples = countField(e, "examples");
  point.precisionAt1 = e.value("precision_at_1", 0.0);
  point.recallAt5 = e.value("recall_at_5", 0.0);
  point.loss = e.value("loss", 0.0);
  point.skipped = e.value("skipped", std::string());
  return point;
}

}  // namespace

std::string metricsLine(const StepMetrics& m) {
  nlohmann::json json{{"step", m.step},
                      {"epoch", m.epoch},
                      {"loss", m.loss},
                      {"cross_entropy", m.crossEntropy},
                      {"learning_rate", m.learningRate},
                      {"examples_per_sec", m.examplesPerSec},
                      {"sec_per_batch", m.secPerBatch},
                      {"batch_precision_at_1", m.batchPrecisionAt1},
                      {"batch_recall_at_5", m.batchRecallAt5},
                      {"time", m.wallTime}};
  if (m.distillLoss) {
    json["distill_loss"] = *m.distillLoss;
  }
  return json.dump();
}

std::string metricsLine(const EvalPoint& e, double wallTime) {
  if (!e.skipped.empty()) {
    const nlohmann::json json{
        {"step", e.step},
        {"time", wallTime},
        {"eval", {{"subset", e.subset}, {"examples", 0}, {"skipped", e.skipped}}}};
    return json.dump();
  }
  const nlohmann::json json{{"step", e.step},
                            {"time", wallTime},
                            {"eval",
                             {{"subset", e.subset},
                              {"examples", e.examples},
                              {"precision_at_1", e.precisionAt1},
                              {"recall_at_5", e.recallAt5},
                              {"loss", e.loss}}}};
  return json.dump();
}

MetricsLog::MetricsLog(const fs::path& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "ab");
  if (file_ == nullptr) {
    core::throwFileError(path, "cannot be opened for appending: " + core::errnoText(errno));
  }
}

MetricsLog::~MetricsLog() {
  std::fclose(file_);
}

void MetricsLog::write(const std::string& line) {
  const std::string text = line + "\n";
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size() || std::fflush(file_) != 0) {
    core::throwFileError(path_, "cannot be written: " + core::errnoText(errno));
  }
}

void MetricsLog::write(const EvalPoint& eval) {
  write(metricsLine(eval, core::unixSecondsNow()));
}

void truncateMetricsLog(const fs::path& path, std::int64_t step) {
  std::error_code error;
  if (!fs::exists(path, error)) {
    return;
  }
  std::istringstream in(core::readFile(path));
  std::string kept, line;
  while (std::getline(in, line)) {
    const auto json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded() || !json.is_object() || !json.contains("step")) {
      continue;
    }
    try {
      if (countField(json, "step") <= step) {
        kept += line + "\n";
      }
    } catch (const nlohmann::json::exception&) {
      // A step that is no step: the line goes, like any other damage.
    }
  }
  core::writeFileAtomic(path, kept);
}

const UnreadMetricsLine* MetricsLogContents::firstDamaged() const {
  for (const auto& line : unread) {
    if (!line.last) {
      return &line;
    }
  }
  return nullptr;
}

MetricsLogContents readMetricsLog(const fs::path& path) {
  std::vector<std::string> lines;
  {
    std::istringstream in(core::readFile(path));
    std::string line;
    while (std::getline(in, line)) {
      lines.push_back(std::move(line));
    }
  }
  std::size_t lastText = lines.size();
  for (std::size_t i = lines.size(); i-- > 0;) {
    if (!blank(lines[i])) {
      lastText = i;
      break;
    }
  }
  MetricsLogContents contents;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (blank(lines[i])) {
      continue;
    }
    const auto number = static_cast<std::int64_t>(i + 1);
    std::string reason;
    if (auto record = parseMetricsLine(lines[i], &reason)) {
      record->line = number;
      contents.records.push_back(std::move(*record));
    } else if (!reason.empty()) {
      contents.unread.push_back({number, i == lastText, std::move(reason)});
    }
  }
  return contents;
}

std::optional<MetricsRecord> parseMetricsLine(std::string_view line, std::string* reason) {
  if (blank(line)) {
    return std::nullopt;
  }
  const auto json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    *reason = "not a JSON object";
    return std::nullopt;
  }
  try {
    const auto stamp = json.find("time");
    const double time = stamp != json.end() && stamp->is_number() ? stamp->get<double>() : 0.0;
    if (json.contains("eval") && json["eval"].is_object()) {
      return MetricsRecord{0, std::nullopt, evalFromJson(json), time};
    }
    if (json.contains("loss")) {
      return MetricsRecord{0, stepFromJson(json), std::nullopt, time};
    }
  } catch (const nlohmann::json::exception& e) {
    *reason = std::string("a field: ") + e.what();
  }
  return std::nullopt;
}

}  // namespace taxon::train
