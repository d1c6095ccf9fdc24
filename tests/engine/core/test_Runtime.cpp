#include "core/torch/Runtime.hpp"

#include <gtest/gtest.h>

#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace taxon::core {
namespace {

TEST(Runtime, ReportsThePinnedLibTorch) {
  const RuntimeInfo info = queryRuntime();
  EXPECT_EQ(info.torchVersion, TORCH_VERSION);
  EXPECT_FALSE(info.taxonVersion.empty());
  EXPECT_FALSE(info.opencvVersion.empty());
  EXPECT_FALSE(info.protobufVersion.empty());
  EXPECT_FALSE(info.sqliteVersion.empty());
  EXPECT_GE(info.cpuThreads, 1);
}

#ifdef TAXON_HAVE_CUDA
// The CUDA build of LibTorch must be linked in (not dropped by --as-needed) even on a machine
// without a GPU: its CUDA hooks then report the CUDA runtime it was built with.
TEST(Runtime, LinksTheCudaBuildOfLibTorch) {
  const RuntimeInfo info = queryRuntime();
  EXPECT_TRUE(info.torchHasCuda);
  EXPECT_EQ(info.torchCudaVersion.substr(0, 3), "13.");
  EXPECT_FALSE(info.cudnnVersion.empty());
  EXPECT_NE(versionLine(info).find("CUDA 13."), std::string::npos) << versionLine(info);
}
#endif

TEST(Runtime, DeviceListAgreesWithTorch) {
  const RuntimeInfo info = queryRuntime();
  EXPECT_EQ(info.cudaAvailable, torch::cuda::is_available());
  EXPECT_EQ(static_cast<std::size_t>(torch::cuda::device_count()), info.cudaDevices.size());
}

TEST(Runtime, TrainsOnTheCpuWithoutAGpu) {
  // A GPU-less machine runs the CUDA build on the CPU: one SGD step lowers a quadratic loss.
  torch::manual_seed(0);
  auto w = torch::randn({8}, torch::requires_grad());
  torch::optim::SGD sgd({w}, 0.1);
  const auto before = w.pow(2).sum().item<double>();
  sgd.zero_grad();
  w.pow(2).sum().backward();
  sgd.step();
  EXPECT_LT(w.pow(2).sum().item<double>(), before * 0.7);
}

TEST(Runtime, StdFilesystemIsTheSystemsNotLibTorchs) {
  // libtorch exports an older std::filesystem whose remove_all crashes; the build links
  // libstdc++ first so that every binary uses the system's (cmake/TaxonTorch.cmake).
  const auto dir =
      std::filesystem::temp_directory_path() / ("taxon-fs-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir / "a" / "b");
  std::ofstream(dir / "a" / "b" / "file") << "x";
  EXPECT_EQ(std::filesystem::remove_all(dir), 4u);
  EXPECT_FALSE(std::filesystem::exists(dir));
}

}  // namespace
}  // namespace taxon::core
