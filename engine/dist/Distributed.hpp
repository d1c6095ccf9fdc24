// Data-parallel replicas on torch.distributed's collectives (c10d): how a run learns its place in
// the world, how replicas meet, and the few collectives the trainer needs. c10d's headers stay in
// Distributed.cpp; this header has only ATen's tensor type.
//
// Two ways to run N replicas, one code path:
//   - threads: one process starts `replicas` replica threads (one per GPU, or N CPU ranks for
//     tests) that meet through an in-memory store (c10d::HashStore);
//   - processes: torchrun or srun starts one process per node or per GPU; they meet through
//     c10d::TCPStore on MASTER_ADDR:MASTER_PORT (the rank-0 process hosts it). A process may
//     itself run several replica threads: global rank = RANK x replicas + thread.
// Backends: NCCL for CUDA tensors, Gloo for the CPU (and for the small host-side messages).
//
// Failures: every collective has a timeout, so a replica that hangs or dies ends the others with
// an error within that time (a dead process usually much sooner: its sockets close). Each replica
// writes a heartbeat to the store every second and, when it fails, its reason; describeFailure()
// reads them to name the rank that went first.
#pragma once

#include <ATen/core/Tensor.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace taxon::dist {

// The reason in an exception's message from c10 (c10 appends a C++ stack trace; people need the
// first part).
std::string errorText(const std::string& what);

// The process's place in a multi-process launch, from the environment: torchrun's MASTER_ADDR,
// MASTER_PORT, WORLD_SIZE, RANK and LOCAL_RANK, or Slurm's SLURM_NTASKS, SLURM_PROCID and
// SLURM_LOCALID (MASTER_ADDR then defaults to SLURM_LAUNCH_NODE_IPADDR). Without either, one
// process: processes = 1.
struct Launch {
  int processes = 1;
  int processRank = 0;
  int localRank = 0;  // the process's index on its node (picks its GPUs)
  std::string masterAddr = "127.0.0.1";
  int masterPort = 29500;
  std::string source = "single process";  // "torchrun environment", "Slurm environment"
};

// Reads the environment. Throws core::UsageError naming the variable that is missing or wrong.
Launch launchFromEnvironment();

// Where the replicas of one run meet: a key-value store shared by all of them.
class Rendezvous {
 public:
  // For replica threads of one process.
  static std::shared_ptr<Rendezvous> inMemory();
  // For processes: the store on launch.masterAddr:masterPort, hosted by process rank 0.
  // Waits up to `timeout` for every process to connect.
  static std::shared_ptr<Rendezvous> tcp(const Launch& launch, std::chrono::milliseconds timeout);

  ~Rendezvous();
  Rendezvous(const Rendezvous&) = delete;
  Rendezvous& operator=(const Rendezvous&) = delete;

  struct State;
  State& state() const { return *state_; }

 private:
  explicit Rendezvous(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

struct GroupOptions {
  int rank = 0;
  int size = 1;
  std::string device = "cpu";  // "cpu" (Gloo) or "cuda:N" (NCCL, with Gloo for host messages)
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};  // of every collective
  std::string name = "train";  // keys in the store are prefixed with it
};

// One replica's membership of the group. Construction blocks until all `size` replicas have
// joined (or the timeout passes: core::Error). Methods are for the replica's own thread.
class Group {
 public:
  Group(const Rendezvous& rendezvous, const GroupOptions& options);
  ~Group();
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;

  int rank() const;
  int size() const;

  // In place, on the group's device (or the CPU). Sum over replicas.
  void allReduceSum(at::Tensor& tensor);
  // In place: every tensor takes root's values.
  void broadcast(std::vector<at::Tensor>& tensors, int root = 0);
  // Host values: every replica's, in rank order.
  std::vector<std::int64_t> allGather(const std::vector<std::int64_t>& mine);
  std::vector<double> allGatherDoubles(const std::vector<double>& mine);
  // Every replica's tensor (the same shape everywhere, on the group's device or the CPU),
  // stacked in rank order: size() x tensor's shape.
  at::Tensor allGatherTensor(const at::Tensor& tensor);

  // Tells the others why this replica stops (read by their describeFailure()).
  void reportFailure(const std::string& reason) noexcept;
  // After a collective failed here: which rank failed first and why, as far as the store knows
  // ("rank 1 stopped: ...", "rank 1 stopped sending heartbeats 12 s ago", or the store being
  // unreachable, which means its host, rank 0, is gone). Never throws.
  std::string describeFailure() noexcept;

  struct State;
  State& state() const { return *state_; }

 private:
  std::unique_ptr<State> state_;
};

// Gradient averaging as torch's DistributedDataParallel does it: c10d::Reducer puts the
// parameters' gradients in buckets of about `bucketMiB` and all-reduces each bucket as soon as the
// backward pass has produced all of its gradients, overlapping communication with the rest of the
// backward pass; when backward() returns, every replica's gradients hold the average.
class GradientAverager {
 public:
  GradientAverager(Group& group, const std::vector<at::Tensor>& parameters,
                   double bucketMiB = 25.0);
  ~GradientAverager();
  GradientAverager(const GradientAverager&) = delete;
  GradientAverager& operator=(const GradientAverager&) = delete;

  // Before each forward pass (of a step whose backward pass is averaged). Throws (c10::Error)
  // when the previous step's backward pass left a parameter without a gradient: leave such
  // parameters out (requires_grad false) before constructing the averager.
  void prepare();
  // How many times the buckets were rebuilt in gradient order: 1 from the second step on.
  int rebuilds() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace taxon::dist
