#include "records/EventFile.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cmath>
#include <limits>

#include "core/Clock.hpp"
#include "core/Error.hpp"
#include "core/Files.hpp"
#include "event.pb.h"
#include "records/RecordFile.hpp"

namespace taxon::records {

namespace fs = std::filesystem;

namespace {

constexpr int kMaxNameTries = 1000;

std::string hostName() {
  char buffer[HOST_NAME_MAX + 1] = {};
  if (gethostname(buffer, sizeof buffer - 1) != 0 || buffer[0] == '\0') {
    return "localhost";
  }
  return core::safeFileName(buffer, 64);
}

// TensorBoard keeps float32; a finite double beyond float's range becomes an infinity (a plain
// conversion would be undefined behaviour).
float toFloat(double value) {
  constexpr double kMax = std::numeric_limits<float>::max();
  if (std::isfinite(value) && std::fabs(value) > kMax) {
    return value > 0 ? std::numeric_limits<float>::infinity()
                     : -std::numeric_limits<float>::infinity();
  }
  return static_cast<float>(value);
}

std::string serialize(const tensorflow::Event& event, const fs::path& path) {
  std::string payload;
  if (!event.SerializeToString(&payload)) {
    core::throwFileError(
        path, "cannot serialize an event (" + std::to_string(event.ByteSizeLong()) + " bytes)");
  }
  return payload;
}

}  // namespace

EventFileWriter::EventFileWriter(const fs::path& directory) {
  std::error_code ec;
  fs::create_directories(directory, ec);
  if (ec || !fs::is_directory(directory)) {
    core::throwFileError(directory, "cannot create the event file folder: " +
                                        (ec ? ec.message() : std::string("not a folder")));
  }
  // One counter for the whole process, so that writers made in the same second never pick the
  // same name; "x" (O_EXCL) makes sure that a file of another process is never overwritten.
  static std::atomic<std::uint64_t> counter{0};
  const std::string prefix = "events.out.tfevents." +
                             std::to_string(static_cast<std::int64_t>(core::unixSecondsNow())) +
                             "." + hostName() + "." + std::to_string(getpid()) + ".";
  for (int attempt = 0; file_ == nullptr; ++attempt) {
    path_ = directory / (prefix + std::to_string(counter.fetch_add(1)));
    file_ = std::fopen(path_.c_str(), "wbx");
    if (file_ == nullptr && (errno != EEXIST || attempt + 1 >= kMaxNameTries)) {
      core::throwFileError(path_, "cannot create the event file: " + core::errnoText(errno));
    }
  }
  std::setvbuf(file_, nullptr, _IOFBF, 1 << 16);

  tensorflow::Event event;
  event.set_wall_time(core::unixSecondsNow());
  event.set_step(0);
  event.set_file_version(std::string(kEventFileVersion));
  try {
    std::lock_guard lock(mutex_);
    writeRecord(serialize(event, path_));
    if (std::fflush(file_) != 0) {
      core::throwFileError(path_, "write failed: " + core::errnoText(errno));
    }
  } catch (...) {
    std::fclose(file_);
    file_ = nullptr;
    std::error_code ignored;
    fs::remove(path_, ignored);
    throw;
  }
}

EventFileWriter::~EventFileWriter() {
  if (file_ != nullptr) {
    std::fclose(file_);  // flushes; errors cannot be reported from here
  }
}

void EventFileWriter::writeRecord(std::string_view payload) {
  if (file_ == nullptr) {
    core::throwFileError(path_, "cannot write: the event file is closed");
  }
  writeFramedRecord(file_, payload, path_);
  ++events_;
}

void EventFileWriter::addScalar(std::string_view tag, std::int64_t step, double value,
                                std::optional<double> wallTime) {
  tensorflow::Event event;
  event.set_wall_time(wallTime.value_or(core::unixSecondsNow()));
  event.set_step(step);
  tensorflow::Summary::Value* entry = event.mutable_summary()->add_value();
  entry->set_tag(std::string(tag));
  entry->set_simple_value(toFloat(value));
  const std::string payload = serialize(event, path_);
  std::lock_guard lock(mutex_);
  writeRecord(payload);
}

void EventFileWriter::addScalars(std::int64_t step,
                                 const std::vector<std::pair<std::string, double>>& scalars,
                                 std::optional<double> wallTime) {
  if (scalars.empty()) {
    return;
  }
  tensorflow::Event event;
  event.set_wall_time(wallTime.value_or(core::unixSecondsNow()));
  event.set_step(step);
  tensorflow::Summary* summary = event.mutable_summary();
  for (const auto& [tag, value] : scalars) {
    tensorflow::Summary::Value* entry = summary->add_value();
    entry->set_tag(tag);
    entry->set_simple_value(toFloat(value));
  }
  const std::string payload = serialize(event, path_);
  std::lock_guard lock(mutex_);
  writeRecord(payload);
}

void EventFileWriter::flush() {
  std::lock_guard lock(mutex_);
  if (file_ == nullptr) {
    return;
  }
  if (std::fflush(file_) != 0) {
    core::throwFileError(path_, "write failed: " + core::errnoText(errno));
  }
}

void EventFileWriter::close() {
  std::lock_guard lock(mutex_);
  if (file_ == nullptr) {
    return;
  }
  const bool flushed = std::fflush(file_) == 0;
  const int error = errno;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!flushed || !closed) {
    core::throwFileError(path_, "write failed: " + core::errnoText(flushed ? errno : error));
  }
}

std::int64_t EventFileWriter::events() const {
  std::lock_guard lock(mutex_);
  return events_;
}

}  // namespace taxon::records
