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
  std::filesystem::remove_all(project);
  const auto r = taxon({"demo", "--project", project.string(), "--limit", "500"});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("Fashion-MNIST"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Imported 1,000 new images"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("The project has 10 categories;"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" validation, 500 test images"), std::string::npos) << r.out;
  EXPECT_TRUE(std::filesystem::exists(project / "records" / "train-00003-of-00004"));
  EXPECT_TRUE(std::filesystem::exists(project / "records" / "test-00000-of-00001"));
  std::filesystem::remove_all(project);
}

}  // namespace
}  // namespace taxon::test
