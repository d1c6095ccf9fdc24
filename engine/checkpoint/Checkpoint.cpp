#include "checkpoint/Checkpoint.hpp"

#include <torch/cuda.h>
#include <torch/serialize.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/Error.hpp"
#include "core/Files.hpp"
#include "core/JsonNumbers.hpp"
#include "records/Crc32c.hpp"
#include "settings/TrainSettingsJson.hpp"

namespace taxon::checkpoint {

namespace fs = std::filesystem;

namespace {

// Version 1 (read only): one LibTorch archive of everything, then "TXCK", its CRC-32C (LE 32
// bits) and its size (LE 64 bits).
constexpr char kMagicV1[4] = {'T', 'X', 'C', 'K'};
// Version 2: sections, an index of them (JSON), then "TXC2", the index's CRC-32C and its size.
constexpr char kMagicV2[4] = {'T', 'X', 'C', '2'};
constexpr std::size_t kTrailerSize = 16;

// The sections of a version-2 file, in file order. The model's state is split in two so that
// the weights a prediction needs (the average and the model's other entries: batch-norm
// statistics) are read without the rest.
constexpr const char* kMeta = "meta";
constexpr const char* kAverage = "average";
constexpr const char* kModelRest = "model.rest";          // model entries without an average
constexpr const char* kModelAveraged = "model.averaged";  // model entries with one
constexpr const char* kOptimizer = "optimizer";
constexpr const char* kGenerators = "generators";

c10::List<at::Tensor> tensorsOf(const NamedTensors& named) {
  c10::List<at::Tensor> list;
  list.reserve(named.size());
  for (const auto& entry : named) {
    list.push_back(entry.second.detach().to(at::kCPU).contiguous());
  }
  return list;
}

nlohmann::json namesOf(const NamedTensors& named) {
  nlohmann::json names = nlohmann::json::array();
  for (const auto& entry : named) {
    names.push_back(entry.first);
  }
  return names;
}

NamedTensors zipNamed(const nlohmann::json& names, const c10::IValue& tensors, const fs::path& path,
                      const char* what) {
  const auto list = tensors.toTensorList();
  if (!names.is_array() || names.size() != list.size()) {
    core::throwFileError(path, std::string("its ") + what + " names and tensors disagree");
  }
  NamedTensors out;
  out.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    out.emplace_back(names[i].get<std::string>(), list.get(i));
  }
  return out;
}

void putLittleEndian(char* out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) {
    out[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  }
}

std::uint64_t getLittleEndian(const char* in, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) {
    value |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  }
  return value;
}

std::string trailer(const char* magic, std::uint32_t crc, std::uint64_t size) {
  char bytes[kTrailerSize];
  std::memcpy(bytes, magic, 4);
  putLittleEndian(bytes + 4, crc, 4);
  putLittleEndian(bytes + 8, size, 8);
  return {bytes, kTrailerSize};
}

// The fields of the meta JSON (both versions), tensors aside.
void readMeta(const nlohmann::json& meta, CheckpointData& data) {
  data.step = core::wholeField<std::int64_t>(meta, "step");
  data.epoch = core::wholeField<std::int64_t>(meta, "epoch");
  data.positionRecords = core::wholeField<std::int64_t>(meta, "position_records");
  data.positionBatches = core::wholeField<std::int64_t>(meta, "position_batches");
  if (meta.contains("replica_positions")) {
    data.replicaPositions.clear();
    for (const auto& position : meta.at("replica_positions")) {
      data.replicaPositions.push_back(
          core::wholeNumber<std::int64_t>(position, "replica_positions"));
    }
  }
  data.settingsJson = meta.at("settings").dump();
  data.categories = meta.at("categories").get<std::vector<std::string>>();
  data.metricsJson = meta.at("metrics").dump();
}

// Random access to a file's byte ranges (a version-2 checkpoint is read in the parts asked for).
class RangeReader {
 public:
  explicit RangeReader(const fs::path& path) : path_(path), in_(path, std::ios::binary) {
    if (!in_) {
      core::throwFileError(path, "cannot read the checkpoint");
    }
    in_.seekg(0, std::ios::end);
    size_ = static_cast<std::uint64_t>(std::max<std::streamoff>(in_.tellg(), 0));
  }
  std::uint64_t size() const { return size_; }
  std::vector<char> read(std::uint64_t offset, std::uint64_t count) {
    if (offset > size_ || count > size_ - offset) {
      core::throwFileError(path_, "the checkpoint is cut short or its index is damaged");
    }
    std::vector<char> bytes(count);
    in_.seekg(static_cast<std::streamoff>(offset), std::ios::beg);
    if (!in_.read(bytes.data(), static_cast<std::streamsize>(count))) {
      core::throwFileError(path_, "cannot read the checkpoint: " + core::errnoText(errno));
    }
    return bytes;
  }

 private:
  fs::path path_;
  std::ifstream in_;
  std::uint64_t size_ = 0;
};

void checkCrc(const fs::path& path, const std::vector<char>& bytes, std::uint32_t crc,
              const std::string& what) {
  if (!records::checksumMatches(crc, records::crc32c(bytes.data(), bytes.size()))) {
    core::throwFileError(
        path, "the checkpoint is damaged (the checksum of its " + what + " does not match)");
  }
}

// Version 1: the whole archive, checked, then unpickled (every part, whatever was asked).
CheckpointData readVersion1(RangeReader& file, const fs::path& path, const char* trailerBytes) {
  const auto size = getLittleEndian(trailerBytes + 8, 8);
  const auto crc = static_cast<std::uint32_t>(getLittleEndian(trailerBytes + 4, 4));
  if (size != file.size() - kTrailerSize) {
    core::throwFileError(path, "the checkpoint is cut short or has bytes added");
  }
  const auto bytes = file.read(0, size);
  checkCrc(path, bytes, crc, "contents");
  CheckpointData data;
  const c10::IValue value = torch::pickle_load(bytes);
  const auto& items = value.toTupleRef().elements();
  if (items.size() != 5) {
    core::throwFileError(path, "not a Taxon checkpoint of this version");
  }
  const auto meta = nlohmann::json::parse(items[0].toStringRef());
  readMeta(meta, data);
  data.model = zipNamed(meta.at("model"), items[1], path, "model");
  data.average = zipNamed(meta.at("average"), items[2], path, "weight average");
  data.optimizer = zipNamed(meta.at("optimizer"), items[3], path, "optimizer");
  data.generators = zipNamed(meta.at("generators"), items[4], path, "generator");
  return data;
}

CheckpointData readVersion2(RangeReader& file, const fs::path& path, const char* trailerBytes,
                            CheckpointParts parts, const MetaRead& onMeta) {
  const auto indexSize = getLittleEndian(trailerBytes + 8, 8);
  if (indexSize > file.size() - kTrailerSize) {
    core::throwFileError(path, "the checkpoint is cut short or has bytes added");
  }
  const std::uint64_t indexOffset = file.size() - kTrailerSize - indexSize;
  const auto indexBytes = file.read(indexOffset, indexSize);
  checkCrc(path, indexBytes, static_cast<std::uint32_t>(getLittleEndian(trailerBytes + 4, 4)),
           "index");
  const auto index = nlohmann::json::parse(indexBytes.begin(), indexBytes.end());
  const auto section = [&](const char* name) {
    for (const auto& entry : index.at("sections")) {
      if (entry.at("name").get<std::string>() == name) {
        const auto offset = core::wholeField<std::uint64_t>(entry, "offset");
        const auto size = core::wholeField<std::uint64_t>(entry, "size");
        if (offset > indexOffset || size > indexOffset - offset) {
          core::throwFileError(
              path, std::string("its index places the ") + name + " section outside the file");
        }
        auto bytes = file.read(offset, size);
        checkCrc(path, bytes, core::wholeField<std::uint32_t>(entry, "crc"),
                 std::string(name) + " section");
        return bytes;
      }
    }
    core::throwFileError(path, std::string("it has no ") + name + " section");
  };
  const auto metaBytes = section(kMeta);
  const auto meta = nlohmann::json::parse(metaBytes.begin(), metaBytes.end());
  CheckpointData data;
  readMeta(meta, data);
  if (onMeta) {
    onMeta(data);
  }
  const auto tensors = [&](const char* name, const nlohmann::json& names) {
    return zipNamed(names, torch::pickle_load(section(name)), path, name);
  };
  data.average = tensors(kAverage, meta.at("average"));
  const auto rest = tensors(kModelRest, meta.at("model_rest"));
  if (parts == CheckpointParts::Inference) {
    data.model = rest;
    return data;
  }
  const auto averaged = tensors(kModelAveraged, meta.at("model_averaged"));
  // The model's entries in their saved order.
  std::map<std::string, at::Tensor> byName;
  for (const auto* list : {&rest, &averaged}) {
    for (const auto& [name, tensor] : *list) {
      byName.emplace(name, tensor);
    }
  }
  for (const auto& name : meta.at("model")) {
    const auto it = byName.find(name.get<std::string>());
    if (it == byName.end()) {
      core::throwFileError(path, "its model section lacks '" + name.get<std::string>() + "'");
    }
    data.model.emplace_back(it->first, it->second);
  }
  data.optimizer = tensors(kOptimizer, meta.at("optimizer"));
  data.generators = tensors(kGenerators, meta.at("generators"));
  return data;
}

}  // namespace

fs::path saveCheckpoint(const fs::path& directory, const CheckpointData& data, int keep) {
  // The model's entries that have an average, and the others.
  std::set<std::string> averagedNames;
  for (const auto& entry : data.average) {
    averagedNames.insert(entry.first);
  }
  NamedTensors rest;
  NamedTensors averaged;
  for (const auto& entry : data.model) {
    (averagedNames.count(entry.first) != 0 ? averaged : rest).push_back(entry);
  }
  nlohmann::json meta;
  meta["format"] = "taxon-checkpoint/2";
  meta["step"] = data.step;
  meta["epoch"] = data.epoch;
  meta["position_records"] = data.positionRecords;
  meta["position_batches"] = data.positionBatches;
  if (!data.replicaPositions.empty()) {
    meta["replica_positions"] = data.replicaPositions;
  }
  meta["settings"] = nlohmann::json::parse(data.settingsJson);
  meta["categories"] = data.categories;
  meta["metrics"] = nlohmann::json::parse(data.metricsJson);
  meta["model"] = namesOf(data.model);
  meta["model_rest"] = namesOf(rest);
  meta["model_averaged"] = namesOf(averaged);
  meta["average"] = namesOf(data.average);
  meta["optimizer"] = namesOf(data.optimizer);
  meta["generators"] = namesOf(data.generators);

  std::string bytes;
  nlohmann::json index;
  index["format"] = "taxon-checkpoint/2";
  index["sections"] = nlohmann::json::array();
  const auto append = [&](const char* name, std::string_view section) {
    index["sections"].push_back({{"name", name},
                                 {"offset", bytes.size()},
                                 {"size", section.size()},
                                 {"crc", records::crc32c(section.data(), section.size())}});
    bytes.append(section);
  };
  const auto appendTensors = [&](const char* name, const NamedTensors& named) {
    const std::vector<char> archive = torch::pickle_save(c10::IValue(tensorsOf(named)));
    append(name, std::string_view(archive.data(), archive.size()));
  };
  append(kMeta, meta.dump());
  appendTensors(kAverage, data.average);
  appendTensors(kModelRest, rest);
  appendTensors(kModelAveraged, averaged);
  appendTensors(kOptimizer, data.optimizer);
  appendTensors(kGenerators, data.generators);
  const std::string indexText = index.dump();
  bytes.append(indexText);
  bytes.append(
      trailer(kMagicV2, records::crc32c(indexText.data(), indexText.size()), indexText.size()));

  const fs::path path = directory / checkpointFileName(data.step);
  core::writeFileAtomic(path, bytes, /*durable=*/true);

  auto all = listCheckpoints(directory);
  for (std::size_t i = 0; i + static_cast<std::size_t>(keep) < all.size(); ++i) {
    std::error_code error;
    fs::remove(all[i].path, error);  // a checkpoint that will not go away is harmless
  }
  return path;
}

int removeUnfinishedCheckpoints(const fs::path& directory) {
  int removed = 0;
  std::error_code error;
  std::vector<fs::path> unfinished;
  for (fs::directory_iterator it(directory, error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (isUnfinishedCheckpoint(name)) {
      unfinished.push_back(it->path());
    }
  }
  for (const auto& path : unfinished) {
    removed += fs::remove(path, error) ? 1 : 0;
  }
  return removed;
}

CheckpointData readCheckpoint(const fs::path& path, CheckpointParts parts, const MetaRead& onMeta) {
  RangeReader file(path);
  if (file.size() < kTrailerSize) {
    core::throwFileError(path, "not a complete Taxon checkpoint (cut short or another file)");
  }
  const auto trailerBytes = file.read(file.size() - kTrailerSize, kTrailerSize);
  const bool version1 = std::memcmp(trailerBytes.data(), kMagicV1, 4) == 0;
  const bool version2 = std::memcmp(trailerBytes.data(), kMagicV2, 4) == 0;
  if (!version1 && !version2) {
    core::throwFileError(path, "not a complete Taxon checkpoint (cut short or another file)");
  }
  try {
    if (version2) {
      return readVersion2(file, path, trailerBytes.data(), parts, onMeta);
    }
    auto data = readVersion1(file, path, trailerBytes.data());
    if (onMeta) {
      onMeta(data);
    }
    return data;
  } catch (const core::Error&) {
    throw;
  } catch (const std::exception& e) {
    core::throwFileError(path, std::string("not a readable Taxon checkpoint: ") + e.what());
  }
}

std::optional<CheckpointData> readLatestCheckpoint(const fs::path& directory,
                                                   std::vector<std::string>* warnings,
                                                   fs::path* chosen, CheckpointParts parts,
                                                   const MetaRead& onMeta) {
  std::error_code error;
  if (fs::is_regular_file(directory, error)) {
    if (chosen != nullptr) {
      *chosen = directory;
    }
    return readCheckpoint(directory, parts, onMeta);
  }
  const auto all = listCheckpoints(directory);
  std::string problems;
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    try {
      CheckpointData data = readCheckpoint(it->path, parts, onMeta);
      if (chosen != nullptr) {
        *chosen = it->path;
      }
      return data;
    } catch (const core::Error& e) {
      if (warnings != nullptr) {
        warnings->push_back(std::string(e.what()) + "; using an older checkpoint");
      }
      problems += std::string("\n  ") + e.what();
    }
  }
  if (!all.empty()) {
    core::throwFileError(directory, "no checkpoint in it can be read:" + problems);
  }
  return std::nullopt;
}

}  // namespace taxon::checkpoint
