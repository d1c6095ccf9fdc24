// Compatibility with torchvision itself: tests/engine/model/test_TorchvisionCompat.py runs in the
// venv's Python (TAXON_VENV, else $HOME/.cache/taxon/venv) and writes or checks the other side.
#include "model/TorchvisionWeights.hpp"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <ftw.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include "TestPaths.hpp"
#include "checkpoint/Checkpoint.hpp"
#include "checkpoint/TrainedModel.hpp"
#include "core/Error.hpp"
#include "model/InceptionV3.hpp"
#include "settings/TrainSettings.hpp"
#include "settings/TrainSettingsJson.hpp"

namespace taxon::model {
namespace {

// A fresh temporary folder, removed at the end. Not test::TempDir: libtorch.so exports its own
// std::filesystem::remove_all, which crashes (null call) in binaries linked with torch.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = "/tmp/taxon-model-test-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path_ = pattern;
  }
  ~ScratchDir() {
    ::nftw(
        path_.c_str(),
        [](const char* file, const struct stat*, int, struct FTW*) { return ::remove(file); }, 16,
        FTW_DEPTH | FTW_PHYS);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

void writeText(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::filesystem::path venvPython() {
  if (const char* venv = std::getenv("TAXON_VENV"); venv != nullptr && *venv != '\0') {
    return std::filesystem::path(venv) / "bin" / "python";
  }
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home != nullptr ? home : "") / ".cache/taxon/venv/bin/python";
}

// Runs the Python side; returns its exit status, its output in `output`.
int runPython(const std::string& mode, const ScratchDir& dir, std::string& output) {
  const auto argument = mode == "names" ? dir / "names.txt" : dir.path();
  const auto script = test::sourceDir() / "tests/engine/model" / "test_TorchvisionCompat.py";
  const auto log = dir / (mode + ".log");
  const std::string command = "\"" + venvPython().string() + "\" \"" + script.string() + "\" " +
                              mode + " \"" + argument.string() + "\" > \"" + log.string() +
                              "\" 2>&1";
  const int status = std::system(command.c_str());
  std::ifstream in(log);
  output.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return status;
}

std::string shapeText(const torch::Tensor& tensor) {
  if (tensor.dim() == 0) {
    return "scalar";
  }
  std::string text;
  for (std::int64_t i = 0; i < tensor.dim(); ++i) {
    text += (i == 0 ? "" : "x") + std::to_string(tensor.size(i));
  }
  return text;
}

InceptionSettings tenClasses() {
  InceptionSettings settings;
  settings.numClasses = 10;
  return settings;
}

TEST(TorchvisionCompat, StateDictNamesAndShapesEqualTorchvisions) {
  ScratchDir dir;
  std::string output;
  ASSERT_EQ(runPython("names", dir, output), 0) << output;
  std::ifstream in(dir / "names.txt");
  std::vector<std::string> expected;
  for (std::string line; std::getline(in, line);) {
    expected.push_back(line);
  }
  InceptionV3 model;
  std::vector<std::string> ours;
  for (const auto& item : stateDict(*model)) {
    ours.push_back(item.key() + " " + shapeText(item.value()));
  }
  ASSERT_EQ(expected.size(), 580u);  // 96 x (conv weight + 5 batch norm tensors) + 2 x 2 fc
  EXPECT_EQ(ours, expected);
}

TEST(TorchvisionCompat, TorchvisionWeightsGiveTorchvisionLogits) {
  ScratchDir dir;
  std::string output;
  ASSERT_EQ(runPython("export", dir, output), 0) << output;
  InceptionV3 model(tenClasses());
  loadTorchvisionStateDict(*model, dir / "torchvision.pt");
  const auto reference = readTensorDict(dir / "reference.pt");
  model->eval();
  torch::NoGradGuard noGrad;
  const auto logits = model->forward(reference["input"]).logits;
  const auto expected = reference["logits"];
  ASSERT_EQ(logits.sizes(), expected.sizes());
  const double diff = (logits - expected).abs().max().item<double>();
  std::cout << "torchvision -> taxon: max abs logit difference " << diff << " (largest logit "
            << expected.abs().max().item<double>() << ")\n";
  EXPECT_LE(diff, 1e-4);
  // The buffers came along too.
  EXPECT_EQ(stateDict(*model)["Conv2d_1a_3x3.bn.num_batches_tracked"].item<std::int64_t>(), 3);
}

TEST(TorchvisionCompat, OurWeightsLoadStrictlyIntoTorchvision) {
  ScratchDir dir;
  torch::manual_seed(3);
  InceptionV3 model(tenClasses());
  {
    // Batch statistics of real activations in the running statistics keep the logits of order 1.
    torch::NoGradGuard noGrad;
    for (const auto& module : model->modules(/*include_self=*/false)) {
      if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
        bn->options.momentum(1.0);
      }
    }
    model->train();
    model->forward(torch::rand({2, 3, 299, 299}) * 2 - 1);
    for (const auto& module : model->modules(/*include_self=*/false)) {
      if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
        bn->options.momentum(0.1);
      }
    }
  }
  model->eval();
  torch::NoGradGuard noGrad;
  const auto input = torch::rand({2, 3, 299, 299}) * 2 - 1;
  const auto logits = model->forward(input).logits;
  saveTorchvisionStateDict(*model, dir / "taxon.pt");
  torch::OrderedDict<std::string, torch::Tensor> reference;
  reference.insert("input", input);
  reference.insert("logits", logits);
  writeTensorDict(reference, dir / "taxon_reference.pt");
  std::string output;
  EXPECT_EQ(runPython("check", dir, output), 0) << output;
  std::cout << "taxon -> torchvision: " << output;

  // And back: the file loads into a fresh model and gives the same logits.
  InceptionV3 again(tenClasses());
  loadTorchvisionStateDict(*again, dir / "taxon.pt");
  again->eval();
  EXPECT_TRUE(torch::equal(again->forward(input).logits, logits));
}

// `taxon export --format torchvision`: a checkpoint's averaged weights (not its live ones) load
// strictly into torchvision's inception_v3 and give our logits.
TEST(TorchvisionCompat, ExportedCheckpointLoadsIntoTorchvisionWithTheAveragedWeights) {
  ScratchDir dir;
  torch::manual_seed(5);
  InceptionV3 model(tenClasses());
  checkpoint::CheckpointData data;
  data.step = 42;
  settings::TrainSettings settings;
  settings.imageSize = 299;
  data.settingsJson = settings::toJson(settings).dump();
  for (int i = 0; i < 10; ++i) {
    data.categories.push_back("category " + std::to_string(i));
  }
  for (const auto& item : stateDict(*model)) {
    data.model.emplace_back(item.key(), item.value().clone());
  }
  {
    torch::NoGradGuard noGrad;
    for (const auto& item : model->named_parameters()) {
      data.average.emplace_back(item.key(),
                                item.value() * 0.5 + 0.01 * torch::randn_like(item.value()));
    }
  }
  checkpoint::saveCheckpoint(dir.path(), data, 1);
  const auto trained = checkpoint::exportTorchvision(dir.path(), dir / "taxon.pt");
  EXPECT_EQ(trained.step, 42);

  // Our logits with the averaged parameters.
  const auto missing = checkpoint::copyInto(*model, data.average);
  EXPECT_EQ(missing.size(), stateDict(*model).size() - data.average.size());  // the buffers
  model->eval();
  torch::NoGradGuard noGrad;
  const auto input = torch::rand({2, 3, 299, 299}) * 2 - 1;
  torch::OrderedDict<std::string, torch::Tensor> reference;
  reference.insert("input", input);
  reference.insert("logits", model->forward(input).logits);
  writeTensorDict(reference, dir / "taxon_reference.pt");
  std::string output;
  EXPECT_EQ(runPython("check", dir, output), 0) << output;
  std::cout << "export -> torchvision: " << output;

  // A reduced network cannot become torchvision's.
  settings.depthMultiplier = 0.5;
  data.settingsJson = settings::toJson(settings).dump();
  data.step = 43;
  InceptionV3 small(InceptionSettings{.numClasses = 10, .depthMultiplier = 0.5});
  data.model.clear();
  data.average.clear();
  for (const auto& item : stateDict(*small)) {
    data.model.emplace_back(item.key(), item.value());
  }
  for (const auto& item : small->named_parameters()) {
    data.average.emplace_back(item.key(), item.value());
  }
  checkpoint::saveCheckpoint(dir.path(), data, 1);
  EXPECT_THROW(checkpoint::exportTorchvision(dir.path(), dir / "small.pt"), core::Error);
}

// Hostile files (tests/fuzz/make_seeds.py writes them): a storage claiming 2^31 - 1 elements in a
// record of 24 bytes, and a record claiming 2 GiB in a file of 1.5 KB, are refused by name before
// anything of the claimed size is allocated.
TEST(TorchvisionCompat, ClaimedSizesAreCheckedBeforeAllocating) {
  const auto corpus = test::sourceDir() / "tests/fuzz/corpus/torchvision_weights";
  for (const char* name : {"storage-claims-2G-elements", "record-claims-2GiB"}) {
    try {
      readTensorDict(corpus / name);
      ADD_FAILURE() << name << " read";
    } catch (const core::Error& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(readTensorDict(corpus / "state-dict").size(), 3U);
}

TEST(TorchvisionCompat, LoadingNamesTheFileAndEveryBadKey) {
  ScratchDir dir;
  InceptionSettings settings;
  settings.numClasses = 4;
  settings.depthMultiplier = 0.25;
  settings.imageSize = 75;
  InceptionV3 source(settings);
  auto tensors = stateDict(*source);
  torch::OrderedDict<std::string, torch::Tensor> edited;
  for (const auto& item : tensors) {
    if (item.key() != "Mixed_5b.branch1x1.conv.weight") {
      edited.insert(item.key(), item.value());
    }
  }
  edited.insert("Mixed_9z.weight", torch::zeros({3}));
  writeTensorDict(edited, dir / "bad.pt");

  InceptionV3 target(settings);
  try {
    loadTorchvisionStateDict(*target, dir / "bad.pt");
    FAIL() << "no error";
  } catch (const core::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("bad.pt"), std::string::npos) << what;
    EXPECT_NE(what.find("missing keys: Mixed_5b.branch1x1.conv.weight"), std::string::npos) << what;
    EXPECT_NE(what.find("unexpected keys: Mixed_9z.weight"), std::string::npos) << what;
  }

  // Another class count: mis-shaped heads, unless they are skipped.
  saveTorchvisionStateDict(*source, dir / "four.pt");
  settings.numClasses = 6;
  InceptionV3 six(settings);
  try {
    loadTorchvisionStateDict(*six, dir / "four.pt");
    FAIL() << "no error";
  } catch (const core::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("fc.weight (file [4, 512], model [6, 512])"), std::string::npos) << what;
    EXPECT_NE(what.find("AuxLogits.fc.bias"), std::string::npos) << what;
  }
  const auto headBefore = six->named_parameters()["fc.weight"].clone();
  loadTorchvisionStateDict(*six, dir / "four.pt", {.skipClassifier = true});
  EXPECT_TRUE(torch::equal(six->named_parameters()["fc.weight"], headBefore));
  EXPECT_TRUE(torch::equal(six->named_parameters()["Mixed_7c.branch_pool.conv.weight"],
                           source->named_parameters()["Mixed_7c.branch_pool.conv.weight"]));

  // A model without aux head takes weights that have one.
  settings.auxLogits = false;
  settings.numClasses = 4;
  InceptionV3 noAux(settings);
  loadTorchvisionStateDict(*noAux, dir / "four.pt");
  EXPECT_TRUE(torch::equal(noAux->named_parameters()["fc.weight"],
                           source->named_parameters()["fc.weight"]));

  // Not a torch.save file at all; no file.
  writeText(dir / "text.pt", "hello");
  EXPECT_THROW(loadTorchvisionStateDict(*target, dir / "text.pt"), core::Error);
  try {
    loadTorchvisionStateDict(*target, dir / "absent.pt");
    FAIL() << "no error";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("absent.pt"), std::string::npos);
  }
}

}  // namespace
}  // namespace taxon::model
