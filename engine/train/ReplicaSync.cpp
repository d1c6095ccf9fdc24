#include "train/ReplicaSync.hpp"

#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>

#include <cstring>
#include <mutex>

#include "checkpoint/Checkpoint.hpp"
#include "dist/Distributed.hpp"
#include "model/TorchvisionWeights.hpp"
#include "model/WeightInit.hpp"

namespace taxon::train {

namespace {

// Dropout's random generator of each replica (see InceptionV3Impl::setDropoutGenerator): on a
// GPU the device's default generator, which only its replica uses; on the CPU one of its own, as
// CPU replica threads would otherwise share the global one. Rank 0 continues the generator that
// drew the initial weights, which is exactly what a single-replica run drew dropout from before
// replicas had their own; rank r > 0 starts from another seed.
constexpr std::uint64_t kRankSeedStride = 0x9E3779B97F4A7C15ULL;

std::uint64_t replicaSeed(std::uint64_t seed, int rank) {
  return seed + kRankSeedStride * static_cast<std::uint64_t>(rank);
}

at::Tensor generatorState(at::Generator generator) {
  const std::lock_guard lock(generator.mutex());
  return generator.get_state();
}

void setGeneratorState(at::Generator& generator, const at::Tensor& state) {
  const std::lock_guard lock(generator.mutex());
  generator.set_state(state);
}

// A replica's saved generator state in a checkpoint: "dropout/RANK", or, in checkpoints written
// before replicas had their own, the global generator rank 0's dropout drew from ("cpu", "cuda:N").
const at::Tensor* savedGenerator(const NamedTensors& saved, int rank, const c10::Device& device) {
  const std::string name = generatorName(rank);
  bool anyReplica = false;
  for (const auto& [key, tensor] : saved) {
    if (key == name) {
      return &tensor;
    }
    anyReplica = anyReplica || key.rfind("dropout/", 0) == 0;
  }
  if (anyReplica || rank != 0) {
    return nullptr;
  }
  const std::string legacy = device.is_cuda() ? device.str() : "cpu";
  for (const auto& [key, tensor] : saved) {
    if (key == legacy) {
      return &tensor;
    }
  }
  return nullptr;
}

// Generator states travel between replicas as whole numbers: [byte count, bytes packed 8 a word].
std::vector<std::int64_t> packBytes(const at::Tensor& bytes) {
  const auto n = bytes.numel();
  std::vector<std::int64_t> words(1 + static_cast<std::size_t>((n + 7) / 8), 0);
  words[0] = n;
  std::memcpy(words.data() + 1, bytes.contiguous().data_ptr<std::uint8_t>(),
              static_cast<std::size_t>(n));
  return words;
}

at::Tensor unpackBytes(const std::int64_t* words) {
  auto bytes = at::empty({words[0]}, at::kByte);
  std::memcpy(bytes.data_ptr<std::uint8_t>(), words + 1, static_cast<std::size_t>(words[0]));
  return bytes;
}

// Sum and sum of squares of every parameter, in double: equal on every replica exactly when the
// replicas hold the same weights (they apply the same averaged gradients).
std::vector<double> parameterChecksum(torch::nn::Module& module) {
  torch::NoGradGuard noGrad;
  std::vector<torch::Tensor> sums, squares;
  for (const auto& p : module.parameters()) {
    sums.push_back(p.detach().sum(torch::kDouble));
    squares.push_back(p.detach().square().sum(torch::kDouble));
  }
  // One copy to the host for all of them.
  const auto host =
      torch::stack({torch::stack(sums).sum(), torch::stack(squares).sum()}).to(torch::kCPU);
  return {host[0].item<double>(), host[1].item<double>()};
}

// SyncBatchNorm's collectives over the replica group.
class GroupCollectives : public model::ReplicaGroup {
 public:
  explicit GroupCollectives(dist::Group& group) : group_(group) {}
  void sum(torch::Tensor& tensor) override { group_.allReduceSum(tensor); }
  torch::Tensor gather(const torch::Tensor& tensor) override {
    return group_.allGatherTensor(tensor);
  }

 private:
  dist::Group& group_;
};

}  // namespace

std::shared_ptr<model::ReplicaGroup> batchNormCollectives(dist::Group& group) {
  return std::make_shared<GroupCollectives>(group);
}

NamedTensors namedParameters(torch::nn::Module& module) {
  NamedTensors out;
  for (const auto& item : module.named_parameters()) {
    out.emplace_back(item.key(), item.value());
  }
  return out;
}

NamedTensors namedState(torch::nn::Module& module) {
  NamedTensors out;
  for (const auto& item : model::stateDict(module)) {
    out.emplace_back(item.key(), item.value());
  }
  return out;
}

std::string generatorName(int rank) {
  return "dropout/" + std::to_string(rank);
}

ReplicaNetwork createReplicaNetwork(const model::InceptionSettings& settings, std::uint64_t seed,
                                    const Replica& replica) {
  // Replica threads share the CPU generator that draws the initial weights: one at a time, and no
  // other network built in between (model/WeightInit.hpp).
  ReplicaNetwork out;
  {
    const std::lock_guard lock(model::weightInitMutex());
    auto global = at::globalContext().defaultGenerator(c10::Device(c10::kCPU));
    {
      const std::lock_guard seeding(global.mutex());
      global.set_current_seed(seed);
    }
    out.net = model::InceptionV3(settings);
    if (!replica.device.is_cuda()) {
      if (replica.rank == 0) {
        const std::lock_guard cloning(global.mutex());
        out.dropout = global.clone();
      } else {
        out.dropout = at::detail::createCPUGenerator(replicaSeed(seed, replica.rank));
      }
    }
  }
  if (replica.device.is_cuda()) {
    out.dropout = at::globalContext().defaultGenerator(replica.device);
    const std::lock_guard seeding(out.dropout.mutex());
    out.dropout.set_current_seed(replicaSeed(seed, replica.rank));
  }
  out.net->setDropoutGenerator(out.dropout);
  return out;
}

void ReplicaSync::collective(const std::function<void()>& call) const {
  try {
    call();
  } catch (const CollectiveError&) {
    throw;
  } catch (const std::exception& e) {
    if (replica_.group == nullptr) {
      throw;
    }
    throw CollectiveError("rank " + std::to_string(replica_.rank) +
                          ": the replicas lost each other: " + replica_.group->describeFailure() +
                          " (here: " + dist::errorText(e.what()) + ")");
  }
}

void ReplicaSync::startFromLeader(StartPoint& start, torch::nn::Module& net, Optimizer& optimizer,
                                  at::Generator& dropout,
                                  const checkpoint::CheckpointData* checkpoint) const {
  dist::Group* const group = replica_.group;
  if (group == nullptr) {
    if (checkpoint != nullptr) {
      if (const auto* saved = savedGenerator(checkpoint->generators, 0, replica_.device)) {
        setGeneratorState(dropout, *saved);
      }
    }
    return;
  }
  collective([&] {
    auto header = torch::tensor({std::int64_t{start.resumed ? 1 : 0}, start.step, start.epoch,
                                 static_cast<std::int64_t>(start.positions.size())},
                                torch::kInt64);
    std::vector<at::Tensor> message{header};
    group->broadcast(message, 0);
    const auto* h = header.data_ptr<std::int64_t>();
    start.resumed = h[0] != 0;
    start.step = h[1];
    start.epoch = h[2];
    auto positions = leader() ? torch::tensor(start.positions, torch::kInt64)
                              : torch::zeros({h[3]}, torch::kInt64);
    if (h[3] > 0) {
      std::vector<at::Tensor> p{positions};
      group->broadcast(p, 0);
      start.positions.assign(positions.data_ptr<std::int64_t>(),
                             positions.data_ptr<std::int64_t>() + positions.numel());
    }
    std::vector<at::Tensor> state;
    for (const auto& [name, tensor] : namedState(net)) {
      state.push_back(tensor);
    }
    if (start.resumed) {
      for (const auto& [name, tensor] : optimizer.state()) {
        state.push_back(tensor);
      }
    }
    group->broadcast(state, 0);
    // Each replica's dropout generator, from the checkpoint (a replica that the saved run did
    // not have keeps its fresh seed).
    if (start.resumed) {
      const auto bytes = generatorState(dropout).numel();
      auto states = torch::zeros({replica_.world, bytes}, torch::kUInt8);
      auto present = torch::zeros({replica_.world}, torch::kInt64);
      if (leader()) {
        for (int r = 0; r < replica_.world; ++r) {
          const auto* saved = savedGenerator(checkpoint->generators, r, replica_.device);
          if (saved != nullptr && saved->numel() == bytes) {
            states[r].copy_(*saved);
            present[r] = 1;
          }
        }
      }
      std::vector<at::Tensor> generatorMessage{states, present};
      group->broadcast(generatorMessage, 0);
      if (present[replica_.rank].item<std::int64_t>() != 0) {
        setGeneratorState(dropout, states[replica_.rank].clone());
      }
    }
  });
}

void ReplicaSync::agree(std::vector<double>& message, std::size_t averaged) const {
  if (replica_.group == nullptr) {
    return;
  }
  auto sum = torch::tensor(message, torch::kDouble);
  collective([&] { replica_.group->allReduceSum(sum); });
  for (std::size_t i = 0; i < message.size(); ++i) {
    message[i] =
        sum[static_cast<std::int64_t>(i)].item<double>() / (i < averaged ? replica_.world : 1);
  }
}

ReplicaStates ReplicaSync::gatherForCheckpoint(const data::LoaderPosition& position,
                                               const at::Generator& dropout, torch::nn::Module& net,
                                               std::int64_t step) const {
  std::vector<std::int64_t> positions{position.records, position.batches};
  const auto own = packBytes(generatorState(dropout));
  std::vector<std::int64_t> generators = own;
  if (replica_.group != nullptr) {
    std::vector<double> sums;
    collective([&] {
      positions = replica_.group->allGather(positions);
      generators = replica_.group->allGather(own);
      sums = replica_.group->allGatherDoubles(parameterChecksum(net));
    });
    for (int r = 1; r < replica_.world; ++r) {
      if (sums[2 * r] != sums[0] || sums[2 * r + 1] != sums[1]) {
        throw core::Error("after step " + std::to_string(step) + " the weights of rank " +
                          std::to_string(r) + " differ from rank 0's: the replicas diverged");
      }
    }
  }
  ReplicaStates states;
  states.positions = std::move(positions);
  for (int r = 0; r < replica_.world; ++r) {
    states.generators.push_back(unpackBytes(generators.data() + r * own.size()));
  }
  return states;
}

data::LoaderPosition replicaPosition(const std::vector<std::int64_t>& saved, const Replica& replica,
                                     std::int64_t epoch, std::int64_t trainRecords,
                                     const std::function<void(const std::string&)>& log) {
  data::LoaderPosition position;
  if (saved.empty()) {
    return position;
  }
  const auto savedWorld = static_cast<int>(saved.size() / 2);
  if (savedWorld == replica.world) {
    return {saved[2 * replica.rank], saved[2 * replica.rank + 1]};
  }
  // Another replica count: each replica's part of the epoch changes, so continue from the same
  // global position (the records all replicas consumed) split evenly.
  std::int64_t consumed = 0;
  for (int r = 0; r < savedWorld; ++r) {
    consumed += saved[2 * r];
  }
  position.records = consumed / replica.world + (replica.rank < consumed % replica.world);
  position.batches = saved[1];
  if (replica.leader()) {
    log("the run was saved by " + std::to_string(savedWorld) + " replica(s) and continues on " +
        std::to_string(replica.world) + ": the rest of epoch " + std::to_string(epoch) +
        " is its remaining " + std::to_string(trainRecords - std::min(consumed, trainRecords)) +
        " images, split anew");
  }
  return position;
}

}  // namespace taxon::train
