// Checkpoint files as a run writes and reads them: every field survives the round trip, damage is
// detected and named, the newest readable one is chosen, and old ones are pruned.
#include "checkpoint/Checkpoint.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "TestFiles.hpp"
#include "core/Error.hpp"
#include "records/Crc32c.hpp"

namespace taxon::checkpoint {
namespace {

namespace fs = std::filesystem;

CheckpointData sampleData(std::int64_t step) {
  CheckpointData data;
  data.step = step;
  data.epoch = 3;
  data.positionRecords = 1234;
  data.positionBatches = 77;
  data.replicaPositions = {10, 2, 12, 3};
  data.settingsJson = R"({"image_size":75,"recipe":"small-data"})";
  data.categories = {"Men > Shoes", "Women > Bags", "Grüne Äpfel"};
  data.metricsJson = R"({"loss":1.5,"step":)" + std::to_string(step) + "}";
  torch::manual_seed(static_cast<std::uint64_t>(step));
  data.model = {{"conv.weight", torch::randn({4, 3, 3, 3})},
                {"bn.running_mean", torch::randn({4}, torch::kFloat64)},
                {"bn.num_batches_tracked", torch::tensor(std::int64_t{step}, torch::kInt64)}};
  data.average = {{"conv.weight", torch::randn({4, 3, 3, 3})}};
  data.optimizer = {{"conv.weight.square_avg", torch::rand({4, 3, 3, 3})},
                    {"mask", torch::tensor({true, false, true})},
                    {"half", torch::randn({5}).to(torch::kBFloat16)}};
  data.generators = {{"cpu", torch::make_generator<at::CPUGeneratorImpl>(42).get_state()}};
  return data;
}

void expectSameTensors(const NamedTensors& actual, const NamedTensors& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(actual[i].first, expected[i].first);
    EXPECT_EQ(actual[i].second.scalar_type(), expected[i].second.scalar_type())
        << expected[i].first;
    EXPECT_EQ(actual[i].second.sizes(), expected[i].second.sizes()) << expected[i].first;
    EXPECT_TRUE(torch::equal(actual[i].second, expected[i].second)) << expected[i].first;
  }
}

TEST(Checkpoint, EveryFieldSurvivesTheRoundTrip) {
  test::TempDir dir;
  const CheckpointData data = sampleData(250);
  const fs::path path = saveCheckpoint(dir.path(), data, 5);
  EXPECT_EQ(path, dir.path() / "model.ckpt-250.taxon");

  const CheckpointData read = readCheckpoint(path);
  EXPECT_EQ(read.step, 250);
  EXPECT_EQ(read.epoch, 3);
  EXPECT_EQ(read.positionRecords, 1234);
  EXPECT_EQ(read.positionBatches, 77);
  EXPECT_EQ(read.replicaPositions, data.replicaPositions);
  EXPECT_EQ(read.settingsJson, data.settingsJson);
  EXPECT_EQ(read.categories, data.categories);
  EXPECT_EQ(read.metricsJson, data.metricsJson);
  expectSameTensors(read.model, data.model);
  expectSameTensors(read.average, data.average);
  expectSameTensors(read.optimizer, data.optimizer);
  expectSameTensors(read.generators, data.generators);

  // The generator state restores a generator that draws the same numbers.
  auto original = torch::make_generator<at::CPUGeneratorImpl>(42);
  auto restored = torch::make_generator<at::CPUGeneratorImpl>(7);
  restored.set_state(read.generators[0].second);
  EXPECT_TRUE(torch::equal(torch::rand({8}, original), torch::rand({8}, restored)));
}

TEST(Checkpoint, ASingleReplicaHasNoReplicaPositions) {
  test::TempDir dir;
  CheckpointData data = sampleData(1);
  data.replicaPositions.clear();
  EXPECT_TRUE(readCheckpoint(saveCheckpoint(dir.path(), data, 1)).replicaPositions.empty());
}

// The message of the core::Error that reading `path` throws ("" when it reads).
std::string readError(const fs::path& path) {
  try {
    readCheckpoint(path);
  } catch (const core::Error& e) {
    return e.what();
  }
  return "";
}

TEST(Checkpoint, ACutFileIsRefusedNamingIt) {
  test::TempDir dir;
  const fs::path path = saveCheckpoint(dir.path(), sampleData(5), 5);
  const std::string bytes = test::readFile(path);
  for (std::size_t cut : {std::size_t{4}, std::size_t{16}, bytes.size() / 2}) {
    test::writeFile(path, std::string_view(bytes).substr(0, bytes.size() - cut));
    const std::string message = readError(path);
    EXPECT_NE(message.find(path.string()), std::string::npos) << "cut " << cut << ": " << message;
  }
}

TEST(Checkpoint, AFlippedByteFailsTheChecksum) {
  test::TempDir dir;
  const fs::path path = saveCheckpoint(dir.path(), sampleData(5), 5);
  std::string bytes = test::readFile(path);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x10);
  test::writeFile(path, bytes);
  const std::string message = readError(path);
  EXPECT_NE(message.find(path.string()), std::string::npos) << message;
  EXPECT_NE(message.find("checksum"), std::string::npos) << message;
}

TEST(Checkpoint, AnotherFileIsNoCheckpoint) {
  test::TempDir dir;
  const fs::path path = dir.path() / "model.ckpt-3.taxon";
  test::writeFile(path, "not a checkpoint at all, just some text that is long enough");
  EXPECT_NE(readError(path).find(path.string()), std::string::npos);
}

TEST(Checkpoint, TheLatestPassesOverADamagedNewerOneWithAWarning) {
  test::TempDir dir;
  saveCheckpoint(dir.path(), sampleData(10), 5);
  const fs::path newer = saveCheckpoint(dir.path(), sampleData(20), 5);
  std::string bytes = test::readFile(newer);
  bytes[100] = static_cast<char>(bytes[100] ^ 0x01);
  test::writeFile(newer, bytes);

  std::vector<std::string> warnings;
  fs::path chosen;
  const auto latest = readLatestCheckpoint(dir.path(), &warnings, &chosen);
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->step, 10);
  EXPECT_EQ(chosen, dir.path() / "model.ckpt-10.taxon");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find(newer.string()), std::string::npos) << warnings[0];

  // Undamaged, the newest is chosen without a warning; a file stands for itself.
  saveCheckpoint(dir.path(), sampleData(30), 5);
  warnings.clear();
  EXPECT_EQ(readLatestCheckpoint(dir.path(), &warnings)->step, 30);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(readLatestCheckpoint(dir.path() / "model.ckpt-10.taxon")->step, 10);
}

TEST(Checkpoint, TheLatestOfNothingIsNothingAndOfOnlyDamagedOnesAnError) {
  test::TempDir dir;
  EXPECT_FALSE(readLatestCheckpoint(dir.path()));
  test::writeFile(dir.path() / "model.ckpt-4.taxon", "garbage");
  EXPECT_THROW(readLatestCheckpoint(dir.path()), core::Error);
}

TEST(Checkpoint, KeepDeletesAllButTheNewest) {
  test::TempDir dir;
  for (std::int64_t step : {1, 2, 3, 4}) {
    saveCheckpoint(dir.path(), sampleData(step), 2);
  }
  const auto left = listCheckpoints(dir.path());
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0].step, 3);
  EXPECT_EQ(left[1].step, 4);
  saveCheckpoint(dir.path(), sampleData(5), 1);
  ASSERT_EQ(listCheckpoints(dir.path()).size(), 1u);
  EXPECT_EQ(listCheckpoints(dir.path())[0].step, 5);
}

TEST(Checkpoint, APredictionReadsTheAverageAndTheModelsOtherEntriesOnly) {
  test::TempDir dir;
  const CheckpointData data = sampleData(40);
  const fs::path path = saveCheckpoint(dir.path(), data, 5);
  const CheckpointData read = readCheckpoint(path, CheckpointParts::Inference);
  EXPECT_EQ(read.step, 40);
  EXPECT_EQ(read.categories, data.categories);
  expectSameTensors(read.average, data.average);
  // conv.weight has an average: only the batch-norm entries come from the model.
  expectSameTensors(read.model, {data.model[1], data.model[2]});
  EXPECT_TRUE(read.optimizer.empty());
  EXPECT_TRUE(read.generators.empty());
}

// The sections of a version-2 file, by name: {offset, size}.
std::map<std::string, std::pair<std::size_t, std::size_t>> sectionsOf(const std::string& bytes) {
  std::uint64_t indexSize = 0;
  std::memcpy(&indexSize, bytes.data() + bytes.size() - 8, 8);  // little-endian hosts
  const auto index = nlohmann::json::parse(bytes.substr(bytes.size() - 16 - indexSize, indexSize));
  std::map<std::string, std::pair<std::size_t, std::size_t>> sections;
  for (const auto& s : index.at("sections")) {
    sections[s.at("name").get<std::string>()] = {s.at("offset").get<std::size_t>(),
                                                 s.at("size").get<std::size_t>()};
  }
  return sections;
}

TEST(Checkpoint, ADamagedOptimizerSectionFailsAResumeButNotAPrediction) {
  test::TempDir dir;
  const fs::path path = saveCheckpoint(dir.path(), sampleData(7), 5);
  std::string bytes = test::readFile(path);
  const auto sections = sectionsOf(bytes);
  ASSERT_EQ(sections.size(), 6u);
  const auto [offset, size] = sections.at("optimizer");
  bytes[offset + size / 2] = static_cast<char>(bytes[offset + size / 2] ^ 0x04);
  test::writeFile(path, bytes);
  const std::string message = readError(path);
  EXPECT_NE(message.find(path.string()), std::string::npos) << message;
  EXPECT_NE(message.find("optimizer section"), std::string::npos) << message;
  EXPECT_EQ(readCheckpoint(path, CheckpointParts::Inference).step, 7);

  // Damage to what a prediction reads is found by it too.
  const auto average = sections.at("average");
  bytes[average.first + average.second / 2] ^= 0x04;
  test::writeFile(path, bytes);
  EXPECT_THROW(readCheckpoint(path, CheckpointParts::Inference), core::Error);
}

TEST(Checkpoint, AVersion1FileIsStillRead) {
  // Version 1: one archive of (meta, model, average, optimizer, generators), "TXCK", CRC, size.
  const CheckpointData data = sampleData(12);
  nlohmann::json meta;
  meta["step"] = data.step;
  meta["epoch"] = data.epoch;
  meta["position_records"] = data.positionRecords;
  meta["position_batches"] = data.positionBatches;
  meta["settings"] = nlohmann::json::parse(data.settingsJson);
  meta["categories"] = data.categories;
  meta["metrics"] = nlohmann::json::parse(data.metricsJson);
  std::vector<c10::IValue> items{c10::IValue(meta.dump())};
  for (const auto* named : {&data.model, &data.average, &data.optimizer, &data.generators}) {
    nlohmann::json names = nlohmann::json::array();
    c10::List<at::Tensor> tensors;
    for (const auto& [name, tensor] : *named) {
      names.push_back(name);
      tensors.push_back(tensor);
    }
    meta[named == &data.model       ? "model"
         : named == &data.average   ? "average"
         : named == &data.optimizer ? "optimizer"
                                    : "generators"] = names;
    items.emplace_back(tensors);
  }
  items[0] = c10::IValue(meta.dump());
  const auto archive = torch::pickle_save(c10::IValue(c10::ivalue::Tuple::create(items)));
  std::string bytes(archive.begin(), archive.end());
  const std::uint32_t crc = records::crc32c(archive.data(), archive.size());
  const std::uint64_t size = archive.size();
  bytes.append("TXCK");
  bytes.append(reinterpret_cast<const char*>(&crc), 4);  // little-endian hosts
  bytes.append(reinterpret_cast<const char*>(&size), 8);
  test::TempDir dir;
  const fs::path path = dir.path() / "model.ckpt-12.taxon";
  test::writeFile(path, bytes);

  for (const auto parts : {CheckpointParts::Everything, CheckpointParts::Inference}) {
    const CheckpointData read = readCheckpoint(path, parts);
    EXPECT_EQ(read.step, 12);
    EXPECT_EQ(read.categories, data.categories);
    expectSameTensors(read.model, data.model);
    expectSameTensors(read.average, data.average);
    expectSameTensors(read.optimizer, data.optimizer);
  }
}

TEST(Checkpoint, UnfinishedCheckpointsAreRemovedAndNothingElse) {
  test::TempDir dir;
  saveCheckpoint(dir.path(), sampleData(8), 5);
  test::writeFile(dir.path() / "model.ckpt-9.taxon.tmp-4711", "half");
  test::writeFile(dir.path() / "model.ckpt-10.taxon.tmp-4712", "half");
  test::writeFile(dir.path() / "metrics.jsonl", "{}\n");
  EXPECT_EQ(removeUnfinishedCheckpoints(dir.path()), 2);
  EXPECT_FALSE(fs::exists(dir.path() / "model.ckpt-9.taxon.tmp-4711"));
  EXPECT_FALSE(fs::exists(dir.path() / "model.ckpt-10.taxon.tmp-4712"));
  EXPECT_TRUE(fs::exists(dir.path() / "model.ckpt-8.taxon"));
  EXPECT_TRUE(fs::exists(dir.path() / "metrics.jsonl"));
  EXPECT_EQ(removeUnfinishedCheckpoints(dir.path()), 0);
}

}  // namespace
}  // namespace taxon::checkpoint
