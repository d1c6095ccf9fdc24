#include "core/Files.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "core/Error.hpp"

namespace taxon::core {

void checkWritableFile(const std::filesystem::path& path) {
  std::error_code error;
  const std::string text = path.string();
  if (text.empty()) {
    throw Error("no file name given");
  }
  if (text.back() == '/' || std::filesystem::is_directory(path, error)) {
    throwFileError(path, "is a folder; give the name of a file to write");
  }
  const auto folder = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  if (!std::filesystem::is_directory(folder, error)) {
    throwFileError(path, "cannot be written: the folder " + folder.string() + " does not exist");
  }
  if (::access(folder.c_str(), W_OK) != 0) {
    throwFileError(path, "cannot be written: no permission to write in " + folder.string());
  }
}

// Errors name `path`, the user's file, not the temporary one beside it.
void writeFileAtomic(const std::filesystem::path& path, std::string_view bytes, bool durable) {
  checkWritableFile(path);
  std::filesystem::path temporary = path;
  temporary += ".tmp-" + std::to_string(getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    throwFileError(path, "cannot be written: " + errnoText(errno));
  }
  std::size_t written = 0;
  while (written < bytes.size()) {
    const auto n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      const int error = errno;
      ::close(fd);
      ::unlink(temporary.c_str());
      throwFileError(path, "write failed: " + errnoText(error));
    }
    written += static_cast<std::size_t>(n);
  }
  if ((durable && ::fsync(fd) != 0) || ::close(fd) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    throwFileError(path, "write failed: " + errnoText(error));
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    throwFileError(path, "cannot replace: " + errnoText(error));
  }
}

std::string safeFileName(std::string_view text, std::size_t maxBytes) {
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    out += (c == '/' || c == '\\' || u < 0x20 || c == 0x7f) ? '_' : c;
  }
  if (out.empty() || out == "." || out == "..") {
    out = "_" + out;
  }
  if (out.size() > maxBytes) {
    std::size_t cut = maxBytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xc0) == 0x80) {
      --cut;  // do not split a UTF-8 sequence
    }
    out.resize(cut);
  }
  return out;
}

std::string readFile(const std::filesystem::path& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    core::throwFileError(path, "cannot open: " + core::errnoText(errno));
  }
  std::string bytes;
  char buffer[1 << 16];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) {
    bytes.append(buffer, n);
  }
  const bool failed = std::ferror(file) != 0;
  const int error = errno;
  std::fclose(file);
  if (failed) {
    core::throwFileError(path, "read failed: " + core::errnoText(error));
  }
  return bytes;
}

namespace {

// The process id of a temporary file's name ("NAME.tmp-PID"), 0 when it is not one.
long temporaryOwner(const std::string& name) {
  const auto at = name.rfind(".tmp-");
  if (at == std::string::npos || at + 5 == name.size() || name.size() - at - 5 > 9 ||
      name.find_first_not_of("0123456789", at + 5) != std::string::npos) {
    return 0;
  }
  return std::stol(name.substr(at + 5));
}

template <class Iterator>
std::size_t removeDeadIn(Iterator entries) {
  std::size_t removed = 0;
  std::error_code ec;
  for (const auto& entry : entries) {
    const long pid = temporaryOwner(entry.path().filename().string());
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH &&
        std::filesystem::remove(entry.path(), ec)) {
      ++removed;
    }
  }
  return removed;
}

}  // namespace

std::size_t removeDeadTemporaries(const std::filesystem::path& dir, bool recursive) {
  std::error_code ec;
  if (recursive) {
    return removeDeadIn(std::filesystem::recursive_directory_iterator(
        dir, std::filesystem::directory_options::skip_permission_denied, ec));
  }
  return removeDeadIn(std::filesystem::directory_iterator(dir, ec));
}

}  // namespace taxon::core
