// TensorBoard event files: the "events.out.tfevents.*" files that TensorBoard (and TensorFlow's
// summary readers) read, holding scalar summaries. Each file is a TFRecord file (see
// data/RecordFile.hpp) of tensorflow.Event protos (engine/train/event.proto): first an Event with
// file_version "brain.Event:2", then one Event per step with Summary.Value{tag, simple_value}.
// Unlike RecordWriter the file is appended to in place, so that TensorBoard can read it while a
// run is going; flush() hands what was written to the OS.
//
// This header does not include the generated protobuf code: code that sees torch's include folder
// (which carries an old copy of protobuf's headers) includes it too.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace taxon::records {

// The file_version that the first event of every file carries.
inline constexpr std::string_view kEventFileVersion = "brain.Event:2";

class EventFileWriter {
 public:
  // Creates DIRECTORY/events.out.tfevents.<unix seconds>.<hostname>.<pid>.<counter> (a new file
  // every time: an existing file is never overwritten) and writes the file_version event. Creates
  // the directory if it is missing. Throws core::Error naming the directory or the file.
  explicit EventFileWriter(const std::filesystem::path& directory);
  // Flushes and closes the file; errors are ignored (call close() to see them).
  ~EventFileWriter();
  EventFileWriter(const EventFileWriter&) = delete;
  EventFileWriter& operator=(const EventFileWriter&) = delete;

  // One Event with one Summary.Value{tag, simple_value}. TensorBoard stores values as float32.
  // `wallTime`: seconds since the Unix epoch (default: now).
  void addScalar(std::string_view tag, std::int64_t step, double value,
                 std::optional<double> wallTime = {});
  // Several scalars of one step in one Event (nothing is written when `scalars` is empty).
  void addScalars(std::int64_t step, const std::vector<std::pair<std::string, double>>& scalars,
                  std::optional<double> wallTime = {});
  // Hands what was written to the OS (fflush), so that TensorBoard sees it. Does not fsync.
  void flush();
  // Flushes and closes the file, throwing core::Error if that fails. Later writes throw.
  void close();

  const std::filesystem::path& path() const { return path_; }
  // Events written so far, the file_version event included.
  std::int64_t events() const;

 private:
  // Appends one TFRecord-framed serialized Event; the caller holds mutex_.
  void writeRecord(std::string_view payload);

  std::filesystem::path path_;
  mutable std::mutex mutex_;  // the methods may be called from several threads
  std::FILE* file_ = nullptr;
  std::int64_t events_ = 0;
};

}  // namespace taxon::records
