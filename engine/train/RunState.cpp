#include "train/RunState.hpp"

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <nlohmann/json.hpp>
#include <system_error>

#include "checkpoint/CheckpointFiles.hpp"
#include "core/Clock.hpp"
#include "core/Error.hpp"
#include "core/Files.hpp"
#include "train/MetricsLog.hpp"
#include "train/RunDirectory.hpp"

namespace taxon::train {
namespace fs = std::filesystem;

namespace {

constexpr RunStatus kStatuses[] = {RunStatus::Running, RunStatus::Stopped, RunStatus::Finished,
                                   RunStatus::Failed};

bool processAlive(std::int64_t pid) {
  if (pid <= 0) {
    return false;
  }
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

// Seconds since `path` was last written; nullopt when it cannot be told.
std::optional<double> secondsSinceWritten(const fs::path& path) {
  std::error_code error;
  const auto written = fs::last_write_time(path, error);
  if (error) {
    return std::nullopt;
  }
  return std::chrono::duration<double>(fs::file_time_type::clock::now() - written).count();
}

}  // namespace

const char* runStatusName(RunStatus status) {
  switch (status) {
    case RunStatus::Running:
      return "running";
    case RunStatus::Stopped:
      return "stopped";
    case RunStatus::Finished:
      return "finished";
    case RunStatus::Failed:
      return "failed";
  }
  return "stopped";
}

std::string hostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) {
    return "localhost";
  }
  return name;
}

void writeRunState(const fs::path& trainDir, const RunState& state) {
  const nlohmann::json json{{"state", runStatusName(state.status)},
                            {"host", state.host},
                            {"pid", state.pid},
                            {"started", state.started},
                            {"ended", state.ended},
                            {"step", state.step},
                            {"total_steps", state.totalSteps},
                            {"steps_per_epoch", state.stepsPerEpoch},
                            {"message", state.message}};
  core::writeFileAtomic(trainDir / kRunStateFileName, json.dump(2) + "\n", /*durable=*/false);
}

std::optional<RunState> readRunState(const fs::path& trainDir) {
  const fs::path path = trainDir / kRunStateFileName;
  std::error_code error;
  if (!fs::exists(path, error)) {
    return std::nullopt;
  }
  const auto json = nlohmann::json::parse(core::readFile(path), nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    core::throwFileError(path, "is not JSON");
  }
  try {
    RunState state;
    const std::string name = json.at("state").get<std::string>();
    bool known = false;
    for (const RunStatus status : kStatuses) {
      if (name == runStatusName(status)) {
        state.status = status;
        known = true;
      }
    }
    if (!known) {
      core::throwFileError(path, "has an unknown state '" + name + "'");
    }
    state.host = json.value("host", std::string());
    state.pid = json.value("pid", std::int64_t{0});
    state.started = json.value("started", 0.0);
    state.ended = json.value("ended", 0.0);
    state.step = json.value("step", std::int64_t{0});
    state.totalSteps = json.value("total_steps", std::int64_t{0});
    state.stepsPerEpoch = json.value("steps_per_epoch", std::int64_t{0});
    state.message = json.value("message", std::string());
    return state;
  } catch (const nlohmann::json::exception& e) {
    core::throwFileError(path, std::string("a field: ") + e.what());
  }
}

void recordRunFailure(const fs::path& trainDir, double since, const std::string& message) {
  try {
    auto state = readRunState(trainDir);
    if (!state || state->status != RunStatus::Running || state->pid != ::getpid() ||
        state->host != hostName() || state->started < since) {
      return;
    }
    state->status = RunStatus::Failed;
    state->ended = core::unixSecondsNow();
    state->message = message;
    writeRunState(trainDir, *state);
  } catch (const std::exception&) {
    // The failure itself is what the caller reports.
  }
}

ObservedRunState observeRunState(const fs::path& trainDir) {
  ObservedRunState observed;
  const auto metricsAge = secondsSinceWritten(trainDir / kMetricsFileName);
  try {
    observed.recorded = readRunState(trainDir);
  } catch (const std::exception& e) {
    observed.detail = e.what();
  }
  if (observed.recorded) {
    const RunState& state = *observed.recorded;
    observed.status = state.status;
    if (state.status != RunStatus::Running) {
      return observed;
    }
    const bool here = state.host == hostName();
    if (here ? processAlive(state.pid) : metricsAge && *metricsAge < 600.0) {
      return observed;
    }
    observed.status = RunStatus::Stopped;
    observed.detail = here ? "interrupted: process " + std::to_string(state.pid) + " on " +
                                 state.host + " has ended"
                           : "interrupted: no news from " + state.host + " for 10 minutes";
    return observed;
  }
  if (observed.detail.empty()) {
    observed.detail = "no run-state.json";
  }
  if (metricsAge && *metricsAge < 60.0) {
    observed.status = RunStatus::Running;
    observed.detail +=
        ": metrics written " + std::to_string(static_cast<int>(*metricsAge)) + " s ago";
    return observed;
  }
  observed.status = RunStatus::Stopped;
  try {
    const auto checkpoints = checkpoint::listCheckpoints(trainDir);
    const auto settings = readRunSettings(trainDir);
    if (!checkpoints.empty() && settings.maxSteps > 0 &&
        checkpoints.back().step >= settings.maxSteps) {
      observed.status = RunStatus::Finished;
    }
  } catch (const std::exception&) {
    // A folder without settings or checkpoints reads as stopped.
  }
  return observed;
}

}  // namespace taxon::train
