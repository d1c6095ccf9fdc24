// What keeps a run's replicas identical (see Trainer.hpp, data parallel): they draw the same
// initial weights, start from rank 0's state (its checkpoint's, when resuming), agree on each
// step's figures and on stop and pause requests in one small message, and compare their weights
// before each checkpoint. Each replica has its own dropout generator, saved in checkpoints as
// "dropout/RANK". A single replica (no group) takes the same calls, which then do only the local
// part. One object per replica thread; its calls are collectives: every replica makes them in the
// same order.
#pragma once

#include <ATen/core/Generator.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/Error.hpp"
#include "data/Loader.hpp"
#include "model/InceptionV3.hpp"
#include "train/Optimizer.hpp"

namespace taxon::dist {
class Group;
}
namespace taxon::checkpoint {
struct CheckpointData;
}

namespace taxon::train {

// One replica's place in the run.
struct Replica {
  int rank = 0;
  int world = 1;
  dist::Group* group = nullptr;  // null: a single replica
  c10::Device device{c10::kCPU};
  bool leader() const { return rank == 0; }
};

// Thrown where replicas lost each other (a collective failed): the trainer tells it apart from
// the failure that caused it.
class CollectiveError : public core::Error {
 public:
  using core::Error::Error;
};

// A new network with the run's initial weights, the same on every replica (and those of a
// single-replica run with the same seed), and the replica's dropout generator, set on it.
struct ReplicaNetwork {
  model::InceptionV3 net{nullptr};
  at::Generator dropout;
};
ReplicaNetwork createReplicaNetwork(const model::InceptionSettings& settings, std::uint64_t seed,
                                    const Replica& replica);

// Where the run starts: step, epoch and every saved replica's loader position.
struct StartPoint {
  bool resumed = false;
  std::int64_t step = 0;
  std::int64_t epoch = 0;
  std::vector<std::int64_t> positions;  // (records, batches) per replica of the saved run
};

// Before a checkpoint: every replica's loader position and dropout generator state.
struct ReplicaStates {
  std::vector<std::int64_t> positions;  // (records, batches) per replica
  std::vector<at::Tensor> generators;   // per rank
};

class ReplicaSync {
 public:
  explicit ReplicaSync(const Replica& replica) : replica_(replica) {}

  const Replica& replica() const { return replica_; }
  bool leader() const { return replica_.leader(); }
  bool single() const { return replica_.group == nullptr; }

  // Runs `call`, a part that takes part in collectives; its failure becomes CollectiveError
  // naming the rank that went first.
  void collective(const std::function<void()>& call) const;

  // Every replica takes rank 0's start point, network state, optimizer state (when resuming)
  // and its own dropout generator's state from `checkpoint` (rank 0's; null elsewhere or when
  // starting). A single replica only restores its generator.
  void startFromLeader(StartPoint& start, torch::nn::Module& net, Optimizer& optimizer,
                       at::Generator& dropout, const checkpoint::CheckpointData* checkpoint) const;

  // The values of `message` summed over the replicas, the first `averaged` of them divided by
  // the replica count.
  void agree(std::vector<double>& message, std::size_t averaged) const;

  // Gathers every replica's position and generator, and checks that all hold the same weights
  // (core::Error naming the rank that diverged after `step`).
  ReplicaStates gatherForCheckpoint(const data::LoaderPosition& position,
                                    const at::Generator& dropout, torch::nn::Module& net,
                                    std::int64_t step) const;

 private:
  Replica replica_;
};

// Synchronized batch norm's collectives over `group` (which must outlive them).
std::shared_ptr<model::ReplicaGroup> batchNormCollectives(dist::Group& group);

// A module's parameters, and its whole state (parameters and buffers), by name.
NamedTensors namedParameters(torch::nn::Module& module);
NamedTensors namedState(torch::nn::Module& module);

// The name of rank's dropout generator in a checkpoint.
std::string generatorName(int rank);

// This replica's loader position from the saved run's (`saved`, (records, batches) per replica):
// its own when the replica count is the same (the rest of the epoch is exactly the uninterrupted
// run's), else the same global position split evenly (then `log` says so on rank 0). On another
// count the ranks' shares of the epoch change (another deal of whole shards, or another stride),
// so the records passed over are not exactly the ones consumed: in the rest of that epoch at most
// as many images as were consumed may come again and as many be left out; later epochs are whole.
data::LoaderPosition replicaPosition(const std::vector<std::int64_t>& saved, const Replica& replica,
                                     std::int64_t epoch, std::int64_t trainRecords,
                                     const std::function<void(const std::string&)>& log);

}  // namespace taxon::train
