// A run's folder (the train dir) and the rules of its files (see Trainer.hpp for the list):
// telling a new run from one to continue, what a resumed run must keep, and the files a new run
// starts with. Checkpoints themselves are checkpoint/Checkpoint.hpp's; metrics.jsonl is
// MetricsLog.hpp's. Only rank 0 of a run reads and writes the folder. No torch in this header.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "settings/TrainSettings.hpp"

namespace taxon::checkpoint {
struct CheckpointData;
}

namespace taxon::train {

// What a train dir holds, to tell a new run from an existing one.
struct RunFiles {
  bool settings = false;  // settings.json
  int checkpoints = 0;
  bool metrics = false;  // metrics.jsonl
  bool any() const { return settings || checkpoints > 0 || metrics; }
};
RunFiles findRunFiles(const std::filesystem::path& trainDir);

// The settings a run in `trainDir` was started with (settings.json). Throws core::Error.
settings::TrainSettings readRunSettings(const std::filesystem::path& trainDir);

// Throws core::UsageError listing the fields that define the network and the data order when
// `asked` changes any of them from `saved`: a resumed run must keep them.
void checkResumable(const settings::TrainSettings& saved, const settings::TrainSettings& asked);

// The checkpoint a resumed run continues from; `data` is null when the run starts (over).
struct ResumePoint {
  ResumePoint();
  ResumePoint(ResumePoint&&) noexcept;
  ResumePoint& operator=(ResumePoint&&) noexcept;
  ~ResumePoint();
  std::unique_ptr<checkpoint::CheckpointData> data;
  std::filesystem::path path;
};

class RunDirectory {
 public:
  using LogFn = std::function<void(const std::string&)>;

  explicit RunDirectory(std::filesystem::path dir) : dir_(std::move(dir)) {}
  const std::filesystem::path& path() const { return dir_; }
  std::filesystem::path metricsPath() const;

  // Before anything is written. Without `resume`, refuses (core::Error) a folder that already
  // holds a run. With it: removes the files of an interrupted checkpoint save, reads the newest
  // readable checkpoint and checks that `settings` may continue it; a run stopped before its
  // first checkpoint starts over (its metrics.jsonl emptied); core::Error when there is no run.
  // `log` gets the notices and warnings.
  ResumePoint open(const settings::TrainSettings& settings, bool resume, const LogFn& log) const;

  // A new run's files: the folder, settings.json and labels.txt (`categories`, class 0 first).
  void writeStart(const settings::TrainSettings& settings,
                  const std::vector<std::string>& categories) const;

  // A resumed run's metrics.jsonl keeps the lines up to its checkpoint's `step`.
  void keepMetricsUpTo(std::int64_t step) const;

 private:
  std::filesystem::path dir_;
};

}  // namespace taxon::train
