// The README's first command runs `taxon demo` on Debian's Fashion-MNIST.
#include <gtest/gtest.h>

#include <filesystem>

#include "RunCommand.hpp"

namespace taxon::test {
namespace {

TEST(Demo, RunsOnTheBuiltInFashionMnist) {
  const std::filesystem::path data = "/usr/share/datasets/fashion-mnist";
  ASSERT_TRUE(std::filesystem::exists(data / "train-images-idx3-ubyte.gz"))
      << "packaging/setup-deps.sh installs dataset-fashion-mnist";
  const auto project = std::filesystem::temp_directory_path() / "taxon-demo-test";
  const auto r = taxon({"demo", "--project", project.string()});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("Fashion-MNIST"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace taxon::test
