#include "checkpoint/Checkpoint.hpp"

#include <torch/cuda.h>
#include <torch/serialize.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>

#include "core/Error.hpp"
#include "core/Files.hpp"
#include "records/Crc32c.hpp"
#include "settings/TrainSettingsJson.hpp"

namespace taxon::checkpoint {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[4] = {'T', 'X', 'C', 'K'};
constexpr std::size_t kTrailerSize = 16;

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

}  // namespace

fs::path saveCheckpoint(const fs::path& directory, const CheckpointData& data, int keep) {
  nlohmann::json meta;
  meta["format"] = "taxon-checkpoint/1";
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
  meta["average"] = namesOf(data.average);
  meta["optimizer"] = namesOf(data.optimizer);
  meta["generators"] = namesOf(data.generators);
  const auto tuple = c10::ivalue::Tuple::create(
      {c10::IValue(meta.dump()), c10::IValue(tensorsOf(data.model)),
       c10::IValue(tensorsOf(data.average)), c10::IValue(tensorsOf(data.optimizer)),
       c10::IValue(tensorsOf(data.generators))});
  const std::vector<char> archive = torch::pickle_save(c10::IValue(tuple));
  std::string bytes(archive.begin(), archive.end());
  char trailer[kTrailerSize];
  std::memcpy(trailer, kMagic, 4);
  putLittleEndian(trailer + 4, records::crc32c(archive.data(), archive.size()), 4);
  putLittleEndian(trailer + 8, archive.size(), 8);
  bytes.append(trailer, kTrailerSize);

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

CheckpointData readCheckpoint(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    core::throwFileError(path, "cannot read the checkpoint");
  }
  // In one read of the known size: byte by byte through the stream buffer took a fifth of the
  // time to first prediction for a full-width model.
  in.seekg(0, std::ios::end);
  std::vector<char> bytes(static_cast<std::size_t>(std::max<std::streamoff>(in.tellg(), 0)));
  in.seekg(0, std::ios::beg);
  if (!in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()))) {
    core::throwFileError(path, "cannot read the checkpoint: " + core::errnoText(errno));
  }
  if (bytes.size() < kTrailerSize ||
      std::memcmp(bytes.data() + bytes.size() - kTrailerSize, kMagic, 4) != 0) {
    core::throwFileError(path, "not a complete Taxon checkpoint (cut short or another file)");
  }
  const char* trailer = bytes.data() + bytes.size() - kTrailerSize;
  const auto size = getLittleEndian(trailer + 8, 8);
  const auto crc = static_cast<std::uint32_t>(getLittleEndian(trailer + 4, 4));
  if (size != bytes.size() - kTrailerSize) {
    core::throwFileError(path, "the checkpoint is cut short or has bytes added");
  }
  bytes.resize(size);
  if (records::crc32c(bytes.data(), bytes.size()) != crc) {
    core::throwFileError(path, "the checkpoint is damaged (its checksum does not match)");
  }
  CheckpointData data;
  try {
    const c10::IValue value = torch::pickle_load(bytes);
    const auto& items = value.toTupleRef().elements();
    if (items.size() != 5) {
      core::throwFileError(path, "not a Taxon checkpoint of this version");
    }
    const auto meta = nlohmann::json::parse(items[0].toStringRef());
    data.step = meta.at("step").get<std::int64_t>();
    data.epoch = meta.at("epoch").get<std::int64_t>();
    data.positionRecords = meta.at("position_records").get<std::int64_t>();
    data.positionBatches = meta.at("position_batches").get<std::int64_t>();
    if (meta.contains("replica_positions")) {
      data.replicaPositions = meta.at("replica_positions").get<std::vector<std::int64_t>>();
    }
    data.settingsJson = meta.at("settings").dump();
    data.categories = meta.at("categories").get<std::vector<std::string>>();
    data.metricsJson = meta.at("metrics").dump();
    data.model = zipNamed(meta.at("model"), items[1], path, "model");
    data.average = zipNamed(meta.at("average"), items[2], path, "weight average");
    data.optimizer = zipNamed(meta.at("optimizer"), items[3], path, "optimizer");
    data.generators = zipNamed(meta.at("generators"), items[4], path, "generator");
  } catch (const core::Error&) {
    throw;
  } catch (const std::exception& e) {
    core::throwFileError(path, std::string("not a readable Taxon checkpoint: ") + e.what());
  }
  return data;
}

std::optional<CheckpointData> readLatestCheckpoint(const fs::path& directory,
                                                   std::vector<std::string>* warnings,
                                                   fs::path* chosen) {
  std::error_code error;
  if (fs::is_regular_file(directory, error)) {
    if (chosen != nullptr) {
      *chosen = directory;
    }
    return readCheckpoint(directory);
  }
  const auto all = listCheckpoints(directory);
  std::string problems;
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    try {
      CheckpointData data = readCheckpoint(it->path);
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
