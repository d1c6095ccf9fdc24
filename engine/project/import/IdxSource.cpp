#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <opencv2/imgcodecs.hpp>

#include "core/Error.hpp"
#include "core/Files.hpp"
#include "project/Split.hpp"
#include "project/import/ImportSources.hpp"

namespace taxon::project::importer {

namespace fs = std::filesystem;

namespace {

class GzFile {
 public:
  explicit GzFile(const fs::path& path) : path_(path), file_(gzopen(path.c_str(), "rb")) {
    if (file_ == nullptr) {
      core::throwFileError(path, "cannot open: " + core::errnoText(errno));
    }
    gzbuffer(file_, 1 << 20);
  }
  ~GzFile() { gzclose(file_); }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;

  void read(void* out, unsigned size) {
    if (gzread(file_, out, size) != static_cast<int>(size)) {
      core::throwFileError(path_, "truncated or corrupt IDX data");
    }
  }
  std::uint32_t readBigEndian32() {
    unsigned char b[4];
    read(b, 4);
    return (std::uint32_t{b[0]} << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
  }

 private:
  fs::path path_;
  gzFile file_;
};

void extractIdxPair(const fs::path& imagesFile, const fs::path& labelsFile, Split split,
                    const fs::path& outDir, std::int64_t limit, Collected& out,
                    const core::ProgressFn& progress, const std::stop_token& stop) {
  GzFile images(imagesFile);
  GzFile labels(labelsFile);
  if (images.readBigEndian32() != 0x00000803) {
    core::throwFileError(imagesFile, "not an IDX image file (bad magic number)");
  }
  if (labels.readBigEndian32() != 0x00000801) {
    core::throwFileError(labelsFile, "not an IDX label file (bad magic number)");
  }
  const std::uint32_t count = images.readBigEndian32();
  const std::uint32_t rows = images.readBigEndian32();
  const std::uint32_t cols = images.readBigEndian32();
  if (labels.readBigEndian32() != count) {
    core::throwFileError(labelsFile, "holds a different number of labels than " +
                                         imagesFile.filename().string() + " holds images");
  }
  if (rows == 0 || cols == 0 || rows > 4096 || cols > 4096) {
    core::throwFileError(
        imagesFile, "implausible image size " + std::to_string(rows) + "x" + std::to_string(cols));
  }
  const auto& names = fashionMnistCategories();
  const std::int64_t n = limit > 0 ? std::min<std::int64_t>(limit, count) : count;
  std::vector<unsigned char> pixels(static_cast<std::size_t>(rows) * cols);
  const std::string splitDir(splitName(split) == "test" ? "test" : "train");
  for (std::int64_t i = 0; i < n && !stop.stop_requested(); ++i) {
    images.read(pixels.data(), static_cast<unsigned>(pixels.size()));
    unsigned char label = 0;
    labels.read(&label, 1);
    if (label >= names.size()) {
      core::throwFileError(labelsFile, "label " + std::to_string(label) + " of image " +
                                           std::to_string(i) +
                                           " is not a Fashion-MNIST class (0-9)");
    }
    char name[32];
    std::snprintf(name, sizeof name, "%05lld.png", static_cast<long long>(i));
    const fs::path dir = outDir / splitDir / std::to_string(label);
    const fs::path file = dir / name;
    if (!fs::exists(file)) {
      fs::create_directories(dir);
      std::vector<unsigned char> png;
      cv::imencode(".png",
                   cv::Mat(static_cast<int>(rows), static_cast<int>(cols), CV_8UC1, pixels.data()),
                   png);
      core::writeFileAtomic(
          file, std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
    }
    out.candidates.push_back({file.string(), names[label], split});
    if (progress && (i % 500 == 0 || i + 1 == n)) {
      progress({"extract " + imagesFile.filename().string(), i + 1, n, "images"});
    }
  }
}

}  // namespace

fs::path findIdx(const fs::path& dir, const std::string& stem) {
  for (const char* suffix : {"", ".gz"}) {
    const fs::path p = dir / (stem + suffix);
    if (fs::exists(p)) {
      return p;
    }
  }
  return {};
}

void extractIdx(const fs::path& source, const fs::path& projectDir, std::int64_t limit,
                Collected& out, const core::ProgressFn& progress, const std::stop_token& stop) {
  const fs::path outDir = projectDir / "images" / "fashion-mnist";
  core::removeDeadTemporaries(outDir, /*recursive=*/true);  // of an import that was killed
  if (fs::is_directory(source)) {
    const auto trainImages = findIdx(source, "train-images-idx3-ubyte");
    const auto trainLabels = findIdx(source, "train-labels-idx1-ubyte");
    const auto testImages = findIdx(source, "t10k-images-idx3-ubyte");
    const auto testLabels = findIdx(source, "t10k-labels-idx1-ubyte");
    if (trainImages.empty() || trainLabels.empty()) {
      core::throwFileError(source,
                           "no train-images-idx3-ubyte[.gz] and "
                           "train-labels-idx1-ubyte[.gz] in this folder");
    }
    extractIdxPair(trainImages, trainLabels, Split::Unassigned, outDir, limit, out, progress, stop);
    if (!testImages.empty() && !testLabels.empty()) {
      extractIdxPair(testImages, testLabels, Split::Test, outDir, limit, out, progress, stop);
    }
    return;
  }
  std::string name = source.filename().string();
  const auto at = name.find("images-idx3-ubyte");
  if (at == std::string::npos) {
    core::throwFileError(source, "not an IDX image file (expected *-images-idx3-ubyte[.gz])");
  }
  name.replace(at, 17, "labels-idx1-ubyte");
  const fs::path labels = source.parent_path() / name;
  if (!fs::exists(labels)) {
    core::throwFileError(labels, "missing: the labels of " + source.filename().string());
  }
  const Split split =
      source.filename().string().starts_with("t10k") ? Split::Test : Split::Unassigned;
  extractIdxPair(source, labels, split, outDir, limit, out, progress, stop);
}

}  // namespace taxon::project::importer
