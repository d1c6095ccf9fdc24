// The ONNX writer: what ONNX's checker and shape inference accept is written atomically and reads
// back; what they reject is an error that says why, and nothing is written.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "TestFiles.hpp"
#include "core/Error.hpp"
#include "deploy/OnnxModel.hpp"

namespace taxon::deploy {
namespace {

namespace fs = std::filesystem;

// image (batch x 2 x 4 x 4) -> 1x1 Conv with 3 filters -> Relu -> "out".
OnnxModel smallModel() {
  OnnxModel m;
  m.graphName = "small";
  m.producerVersion = "test";
  m.inputs = {{"image", {-1, 2, 4, 4}, ""}};
  m.outputs = {{"out", {-1, 3, 4, 4}, ""}};
  m.constants = {floatConstant("w", {3, 2, 1, 1}, {1, 2, 3, 4, 5, 6}),
                 floatConstant("b", {3}, {0.5f, -0.5f, 0})};
  m.nodes = {{"Conv",
              {"image", "w", "b"},
              {"conv"},
              {{"kernel_shape", std::vector<std::int64_t>{1, 1}}},
              {}},
             {"Relu", {"conv"}, {"out"}, {}, {}}};
  m.metadata = {{"taxon.categories", "[\"a\",\"b\"]"}, {"taxon.step", "3"}};
  return m;
}

TEST(OnnxModel, WritesWhatTheCheckerAcceptsAndReadsItBack) {
  test::TempDir dir;
  const auto path = dir.path() / "small.onnx";
  const auto bytes = writeOnnx(smallModel(), path);
  EXPECT_EQ(fs::file_size(path), bytes);
  const auto summary = readOnnxSummary(path);
  EXPECT_EQ(summary.opset, kOnnxOpset);
  EXPECT_EQ(summary.irVersion, 8);
  EXPECT_EQ(summary.inputs, std::vector<std::string>{"image"});
  EXPECT_EQ(summary.outputs, std::vector<std::string>{"out"});
  const std::vector<std::pair<std::string, std::int64_t>> ops = {{"Conv", 1}, {"Relu", 1}};
  EXPECT_EQ(summary.opCounts, ops);
  EXPECT_EQ(summary.metadata, smallModel().metadata);
}

TEST(OnnxModel, ACheckerErrorWritesNothingAndKeepsTheOldFile) {
  test::TempDir dir;
  const auto path = dir.path() / "model.onnx";
  test::writeFile(path, "old");
  auto m = smallModel();
  m.nodes[1].inputs = {"missing"};  // a tensor nobody produces
  try {
    writeOnnx(m, path);
    FAIL() << "an undefined input was accepted";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("ONNX does not accept"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos) << e.what();
  }
  EXPECT_EQ(test::readFile(path), "old");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(OnnxModel, ShapeInferenceRejectsAnOutputOfTheWrongShape) {
  auto m = smallModel();
  m.outputs[0].dims = {-1, 5, 4, 4};  // the convolution has 3 filters
  EXPECT_THROW(serializeOnnx(m), core::Error);
}

TEST(OnnxModel, AConstantWithTheWrongByteCountIsAnError) {
  auto m = smallModel();
  m.constants[1].bytes.pop_back();
  try {
    serializeOnnx(m);
    FAIL() << "a short constant was accepted";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'b'"), std::string::npos) << e.what();
  }
}

TEST(OnnxModel, ReadingAFileThatIsNotAModelNamesIt) {
  test::TempDir dir;
  const auto path = dir.path() / "not-a-model.onnx";
  test::writeFile(path, std::string("\x0a\xff\xff\xff\xff garbage", 14));
  try {
    readOnnxSummary(path);
    FAIL() << "garbage was read as a model";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("not-a-model.onnx"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace taxon::deploy
