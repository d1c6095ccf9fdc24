// TFRecord files: a sequence of records, each
//   uint64 length (little-endian), uint32 masked CRC-32C of those 8 bytes,
//   `length` bytes of payload, uint32 masked CRC-32C of the payload.
// RecordWriter writes a shard atomically (a temporary file renamed into place on close);
// RecordReader verifies both checksums and names the file and byte offset of anything corrupt.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace taxon::records {

// The bytes around one record's payload. Shards and TensorBoard event files share the framing.
struct RecordFrame {
  char header[12];  // length, masked CRC-32C of the length
  char footer[4];   // masked CRC-32C of the payload
};
RecordFrame frameRecord(std::string_view payload);
// Writes `payload` framed to `file`; throws core::Error naming `path` when the write fails.
void writeFramedRecord(std::FILE* file, std::string_view payload,
                       const std::filesystem::path& path);

class RecordWriter {
 public:
  // Creates `path` + ".tmp-<pid>"; nothing appears at `path` until close() succeeds.
  explicit RecordWriter(std::filesystem::path path);
  ~RecordWriter();  // without close(): removes the temporary file
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;

  void write(std::string_view payload);
  // Flushes, fsyncs and renames the file into place. Throws core::Error on any I/O failure.
  void close();

  std::int64_t records() const { return records_; }
  std::int64_t bytes() const { return bytes_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::filesystem::path temporary_;
  std::FILE* file_ = nullptr;
  std::int64_t records_ = 0;
  std::int64_t bytes_ = 0;
};

// What the reader found wrong with one place in a file.
struct RecordDamage {
  std::filesystem::path file;
  std::int64_t offset = 0;  // byte offset of the record's header
  std::string what;         // "length checksum mismatch", "payload checksum mismatch", ...
};

class RecordReader {
 public:
  struct Options {
    // false: the first damage throws core::Error("FILE: byte OFFSET: WHAT").
    // true: damaged records are skipped (reported through onDamage) and reading goes on; after
    // a damaged header the reader searches forward for the next valid header.
    bool skipCorrupt = false;
    std::function<void(const RecordDamage&)> onDamage;  // called on the reading thread
    std::size_t bufferBytes = 1 << 20;
  };

  explicit RecordReader(std::filesystem::path path) : RecordReader(std::move(path), Options{}) {}
  RecordReader(std::filesystem::path path, Options options);
  ~RecordReader();
  RecordReader(const RecordReader&) = delete;
  RecordReader& operator=(const RecordReader&) = delete;

  // Reads the next record into `payload`; false at the end of the file.
  bool next(std::string& payload);
  // Byte offset of the record next() returns next (or of the end of the file).
  std::int64_t offset() const { return offset_; }
  // Moves to `offset`, which must be the start of a record (a value offset() returned).
  void seek(std::int64_t offset);
  std::int64_t damagedRecords() const { return damaged_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  // Reads exactly `size` bytes at the current position; false if the file ends first.
  bool readExact(void* out, std::size_t size);
  void damage(std::int64_t offset, const std::string& what);
  bool resync(std::int64_t from);

  std::filesystem::path path_;
  Options options_;
  std::FILE* file_ = nullptr;
  std::int64_t size_ = 0;
  std::int64_t offset_ = 0;
  std::int64_t damaged_ = 0;
  std::vector<char> buffer_;
};

// Reads every record of `path` (verifying checksums) and returns how many there are; a damaged
// record is core::Error, or with skipCorrupt is passed over (and not counted).
std::int64_t countRecords(const std::filesystem::path& path, bool skipCorrupt = false);

}  // namespace taxon::records
