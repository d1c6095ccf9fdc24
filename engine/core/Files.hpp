// Small file helpers shared by the engine.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace taxon::core {

// The whole file's bytes. Throws core::Error naming the file and the system's reason.
std::string readFile(const std::filesystem::path& path);

// Writes `bytes` to a temporary file beside `path` and renames it over `path`, so readers see
// the old file or the new one, never a partial one. With `durable`, the data is flushed to disk
// before the rename (survives power loss; costs a disk sync per file). Throws core::Error.
void writeFileAtomic(const std::filesystem::path& path, std::string_view bytes,
                     bool durable = true);

// Removes the temporary files ("NAME.tmp-PID") that writeFileAtomic and RecordWriter leave when
// their process is killed while writing: those in `dir` (with `recursive`, in its subfolders too)
// whose process no longer exists. Returns how many it removed; never throws.
std::size_t removeDeadTemporaries(const std::filesystem::path& dir, bool recursive = false);

// Throws core::Error naming `path` when a file could not be written there: it names a folder (or
// ends with '/'), or its folder does not exist or is not writable. Writes nothing.
void checkWritableFile(const std::filesystem::path& path);

// A file name made safe for any file system from arbitrary text: path separators and control
// characters become '_', UTF-8 is kept, and the result is at most `maxBytes` long.
std::string safeFileName(std::string_view text, std::size_t maxBytes = 120);

}  // namespace taxon::core
