// Helpers for tests that need real files: a temporary folder that cleans up after itself, and
// real encoded images made with OpenCV.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace taxon::test {

// A fresh folder under the system's temporary folder, removed (with its contents) at the end.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("taxon-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ignored);
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline void writeFile(const std::filesystem::path& path, std::string_view bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A picture with some structure (gradients, a few shapes and noise), so that it compresses like
// a photo and decodes to something a test can compare.
inline cv::Mat makePicture(int width, int height, std::uint32_t seed, int channels = 3) {
  cv::Mat image(height, width, CV_8UC3);
  std::mt19937 rng(seed);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      image.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uchar>((x * 255) / std::max(1, width)),
                                            static_cast<uchar>((y * 255) / std::max(1, height)),
                                            static_cast<uchar>((seed * 37) & 0xff));
    }
  }
  for (int i = 0; i < 5; ++i) {
    cv::circle(image, {static_cast<int>(rng() % width), static_cast<int>(rng() % height)},
               1 + static_cast<int>(rng() % std::max(2, width / 4)),
               cv::Scalar(rng() % 256, rng() % 256, rng() % 256), -1);
  }
  cv::Mat noise(height, width, CV_8UC3);
  cv::randu(noise, 0, 20);
  image += noise;
  if (channels == 1) {
    cv::Mat gray;
    cv::cvtColor(image, gray, cv::COLOR_BGR2GRAY);
    return gray;
  }
  return image;
}

inline std::string encode(const cv::Mat& image, const std::string& extension) {
  std::vector<uchar> bytes;
  cv::imencode(extension, image, bytes);
  return {bytes.begin(), bytes.end()};
}

inline std::string makeJpeg(int width, int height, std::uint32_t seed = 1) {
  return encode(makePicture(width, height, seed), ".jpg");
}

inline std::string makePng(int width, int height, std::uint32_t seed = 1) {
  return encode(makePicture(width, height, seed), ".png");
}

}  // namespace taxon::test
