#include "records/RecordFile.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/Error.hpp"
#include "records/Crc32c.hpp"

namespace taxon::records {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kHeaderBytes = 12;
constexpr std::uint64_t kMaxRecordBytes = std::uint64_t{1}
                                          << 32;  // 4 GiB: anything larger is damage

void putLe32(char* out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) {
    out[i] = static_cast<char>((value >> (8 * i)) & 0xffu);
  }
}

void putLe64(char* out, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<char>((value >> (8 * i)) & 0xffu);
  }
}

std::uint32_t getLe32(const char* in) {
  std::uint32_t value = 0;
  for (int i = 3; i >= 0; --i) {
    value = (value << 8) | static_cast<unsigned char>(in[i]);
  }
  return value;
}

std::uint64_t getLe64(const char* in) {
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i) {
    value = (value << 8) | static_cast<unsigned char>(in[i]);
  }
  return value;
}

}  // namespace

// --- RecordWriter ---------------------------------------------------------------------------

RecordWriter::RecordWriter(fs::path path) : path_(std::move(path)) {
  temporary_ = path_;
  temporary_ += ".tmp-" + std::to_string(getpid());
  file_ = std::fopen(temporary_.c_str(), "wb");
  if (file_ == nullptr) {
    core::throwFileError(temporary_, "cannot create: " + core::errnoText(errno));
  }
  std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
}

RecordWriter::~RecordWriter() {
  if (file_ != nullptr) {
    std::fclose(file_);
    std::error_code ignored;
    fs::remove(temporary_, ignored);
  }
}

RecordFrame frameRecord(std::string_view payload) {
  RecordFrame frame;
  putLe64(frame.header, payload.size());
  putLe32(frame.header + 8, maskCrc(crc32c(frame.header, 8)));
  putLe32(frame.footer, maskCrc(crc32c(payload)));
  return frame;
}

void writeFramedRecord(std::FILE* file, std::string_view payload, const fs::path& path) {
  const RecordFrame frame = frameRecord(payload);
  if (std::fwrite(frame.header, 1, sizeof frame.header, file) != sizeof frame.header ||
      std::fwrite(payload.data(), 1, payload.size(), file) != payload.size() ||
      std::fwrite(frame.footer, 1, sizeof frame.footer, file) != sizeof frame.footer) {
    core::throwFileError(path, "write failed: " + core::errnoText(errno));
  }
}

void RecordWriter::write(std::string_view payload) {
  writeFramedRecord(file_, payload, temporary_);
  ++records_;
  bytes_ += static_cast<std::int64_t>(kHeaderBytes + payload.size() + sizeof(RecordFrame::footer));
}

void RecordWriter::close() {
  if (file_ == nullptr) {
    return;
  }
  const bool flushed = std::fflush(file_) == 0 && fsync(fileno(file_)) == 0;
  const int error = errno;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!flushed || !closed) {
    std::error_code ignored;
    fs::remove(temporary_, ignored);
    core::throwFileError(temporary_, "write failed: " + core::errnoText(error));
  }
  std::error_code ec;
  fs::rename(temporary_, path_, ec);
  if (ec) {
    fs::remove(temporary_, ec);
    core::throwFileError(path_, "cannot move the finished shard into place: " + ec.message());
  }
}

// --- RecordReader ---------------------------------------------------------------------------

RecordReader::RecordReader(fs::path path, Options options)
    : path_(std::move(path)), options_(std::move(options)) {
  file_ = std::fopen(path_.c_str(), "rb");
  if (file_ == nullptr) {
    core::throwFileError(path_, "cannot open: " + core::errnoText(errno));
  }
  buffer_.resize(options_.bufferBytes);
  std::setvbuf(file_, buffer_.data(), _IOFBF, buffer_.size());
  std::error_code ec;
  size_ = static_cast<std::int64_t>(fs::file_size(path_, ec));
  if (ec) {
    std::fclose(file_);
    core::throwFileError(path_, "cannot read its size: " + ec.message());
  }
}

RecordReader::~RecordReader() {
  if (file_ != nullptr) {
    std::fclose(file_);
  }
}

bool RecordReader::readExact(void* out, std::size_t size) {
  if (std::fread(out, 1, size, file_) != size) {
    if (std::ferror(file_)) {
      core::throwFileError(
          path_, "read failed at byte " + std::to_string(offset_) + ": " + core::errnoText(errno));
    }
    return false;
  }
  return true;
}

void RecordReader::seek(std::int64_t offset) {
  if (offset < 0 || offset > size_ || fseeko(file_, offset, SEEK_SET) != 0) {
    core::throwFileError(path_, "cannot seek to byte " + std::to_string(offset));
  }
  offset_ = offset;
}

void RecordReader::damage(std::int64_t offset, const std::string& what) {
  ++damaged_;
  RecordDamage report{path_, offset, what};
  if (!options_.skipCorrupt) {
    core::throwFileError(path_, "byte " + std::to_string(offset) + ": " + what +
                                    " (the shard is corrupt; --skip_corrupt reads past it)");
  }
  if (options_.onDamage) {
    options_.onDamage(report);
  }
}

bool RecordReader::resync(std::int64_t from) {
  // Look for the next offset whose 12 bytes form a header with a valid length checksum and a
  // length that fits in the file.
  for (std::int64_t at = from; at + static_cast<std::int64_t>(kHeaderBytes) <= size_; ++at) {
    seek(at);
    char header[kHeaderBytes];
    if (!readExact(header, sizeof header)) {
      break;
    }
    const std::uint64_t length = getLe64(header);
    // The record must fit in what is left of the file; compared without adding to `length`,
    // which a damaged header can make any 64-bit value (found by taxon_fuzz_record_file).
    const auto left = static_cast<std::uint64_t>(size_ - at);
    if (checksumMatches(getLe32(header + 8), maskCrc(crc32c(header, 8))) &&
        left >= kHeaderBytes + 4 && length <= left - kHeaderBytes - 4) {
      seek(at);
      return true;
    }
  }
  seek(size_);
  return false;
}

bool RecordReader::next(std::string& payload) {
  while (true) {
    const std::int64_t start = offset_;
    if (start >= size_) {
      return false;
    }
    char header[kHeaderBytes];
    if (!readExact(header, sizeof header)) {
      damage(start, start == 0 ? "not a TFRecord file: shorter than one record header"
                               : "truncated record header (" + std::to_string(size_ - start) +
                                     " bytes left in the file)");
      seek(size_);
      return false;
    }
    const std::uint64_t length = getLe64(header);
    if (!checksumMatches(getLe32(header + 8), maskCrc(crc32c(header, 8))) ||
        length > kMaxRecordBytes) {
      // At the very start the file is most likely something else (a JSON file, an image).
      damage(start, start == 0 ? "not a TFRecord file: its first bytes are not a record header "
                                 "(length checksum mismatch)"
                               : "record length checksum mismatch");
      if (!resync(start + 1)) {
        return false;
      }
      continue;
    }
    if (start + static_cast<std::int64_t>(kHeaderBytes + length + 4) > size_) {
      damage(start, "truncated record: it declares " + std::to_string(length) +
                        " bytes but the file ends first");
      seek(size_);
      return false;
    }
    payload.resize(length);
    char footer[4];
    if (!readExact(payload.data(), length) || !readExact(footer, sizeof footer)) {
      damage(start, "truncated record");
      seek(size_);
      return false;
    }
    offset_ = start + static_cast<std::int64_t>(kHeaderBytes + length + 4);
    if (!checksumMatches(getLe32(footer), maskCrc(crc32c(payload)))) {
      damage(start, "record payload checksum mismatch");
      continue;  // the length was sound, so the next record starts right after this one
    }
    return true;
  }
}

std::int64_t countRecords(const fs::path& path, bool skipCorrupt) {
  RecordReader::Options options;
  options.skipCorrupt = skipCorrupt;
  RecordReader reader(path, options);
  std::string payload;
  std::int64_t count = 0;
  while (reader.next(payload)) {
    ++count;
  }
  return count;
}

}  // namespace taxon::records
