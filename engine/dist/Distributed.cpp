#include "dist/Distributed.hpp"

#include <torch/torch.h>

#include <torch/csrc/distributed/c10d/HashStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "core/Error.hpp"
#include "core/Version.hpp"
#include "core/torch/Device.hpp"
#include "dist/NcclBackend.hpp"

namespace taxon::dist {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kHeartbeatInterval = std::chrono::milliseconds(500);

// LibTorch's collective flight recorder (on by default, 2000 entries) records every collective of
// every process group in one process-wide table, and adds a group to it on the group's first
// collective without taking its lock (torch 2.11, FlightRecorderDetail.hpp). Replicas of one
// process (one thread and one group per GPU, or CPU replicas in the tests) start their first
// collectives together and corrupt that table: a crash in std::map's insert, seen about once in
// 15 runs of two CPU replicas. It also captures a stack trace per collective. Taxon reports lost
// and failed ranks itself (describeFailure), so the recorder is off unless the user sets its size
// (TORCH_FR_BUFFER_SIZE, or the older TORCH_NCCL_TRACE_BUFFER_SIZE) to debug a hang; with it on,
// run one replica per process. The recorder reads its size once, when the first process group
// records; this runs before main, while the process has one thread, so setenv is safe.
const bool kFlightRecorderOff = [] {
  if (std::getenv("TORCH_FR_BUFFER_SIZE") == nullptr &&
      std::getenv("TORCH_NCCL_TRACE_BUFFER_SIZE") == nullptr) {
    setenv("TORCH_FR_BUFFER_SIZE", "0", 0);
  }
  return true;
}();

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    return std::nullopt;
  }
  return std::string(value);
}

int envInt(const char* name, int fallback, int minimum) {
  const auto text = env(name);
  if (!text) {
    return fallback;
  }
  int value = 0;
  const auto* end = text->data() + text->size();
  const auto [ptr, error] = std::from_chars(text->data(), end, value);
  if (error != std::errc() || ptr != end || value < minimum) {
    throw core::UsageError("environment variable " + std::string(name) + "='" + *text +
                           "' is not a whole number of at least " + std::to_string(minimum));
  }
  return value;
}

std::vector<std::uint8_t> bytes(const std::string& text) {
  return {text.begin(), text.end()};
}

std::string text(const std::vector<std::uint8_t>& bytes) {
  return {bytes.begin(), bytes.end()};
}

std::string seconds(std::chrono::milliseconds duration) {
  return std::to_string(duration.count() / 1000.0).substr(0, 5) + " s";
}

}  // namespace

std::string errorText(const std::string& what) {
  auto end = what.find("\nException raised from");
  if (end == std::string::npos) {
    end = what.find("Exception raised from");
  }
  std::string reason = what.substr(0, end);
  while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) {
    reason.pop_back();
  }
  return reason;
}

#if !TAXON_NCCL_BACKEND
c10::intrusive_ptr<c10d::Backend> makeNcclBackend(const c10::intrusive_ptr<c10d::Store>&, int, int,
                                                  const c10::Device&, std::chrono::milliseconds) {
  throw core::Error(
      "this build of taxon has no NCCL backend (built without CUDA, or against a "
      "LibTorch without NCCL), so it cannot train on several GPUs");
}
#endif

Launch launchFromEnvironment() {
  Launch launch;
  if (env("WORLD_SIZE")) {
    launch.source = "torchrun environment";
    launch.processes = envInt("WORLD_SIZE", 1, 1);
    if (launch.processes > 1 && !env("RANK")) {
      throw core::UsageError("WORLD_SIZE=" + std::to_string(launch.processes) +
                             " but RANK is not set (launch with torchrun, or set RANK, "
                             "MASTER_ADDR and MASTER_PORT for every process)");
    }
    launch.processRank = envInt("RANK", 0, 0);
    launch.localRank = envInt("LOCAL_RANK", 0, 0);
  } else if (env("SLURM_NTASKS") && env("SLURM_PROCID")) {
    launch.source = "Slurm environment";
    launch.processes = envInt("SLURM_NTASKS", 1, 1);
    launch.processRank = envInt("SLURM_PROCID", 0, 0);
    launch.localRank = envInt("SLURM_LOCALID", 0, 0);
    if (const auto host = env("SLURM_LAUNCH_NODE_IPADDR")) {
      launch.masterAddr = *host;
    }
  }
  if (launch.processRank >= launch.processes) {
    throw core::UsageError("rank " + std::to_string(launch.processRank) +
                           " is not below the world size " + std::to_string(launch.processes) +
                           " (" + launch.source + ")");
  }
  if (const auto host = env("MASTER_ADDR")) {
    launch.masterAddr = *host;
  } else if (launch.processes > 1 && launch.source == "torchrun environment") {
    throw core::UsageError("WORLD_SIZE=" + std::to_string(launch.processes) +
                           " but MASTER_ADDR is not set: the address of the rank-0 process");
  }
  launch.masterPort = envInt("MASTER_PORT", launch.masterPort, 1);
  if (launch.masterPort > 65535) {
    throw core::UsageError("MASTER_PORT=" + std::to_string(launch.masterPort) +
                           " is not a TCP port");
  }
  return launch;
}

// --- rendezvous -----------------------------------------------------------------------------

struct Rendezvous::State {
  c10::intrusive_ptr<c10d::Store> store;
  bool inMemory = true;
  bool loopback = true;  // all replicas on this machine: Gloo talks over 127.0.0.1
  std::string where;     // for messages
};

Rendezvous::Rendezvous(std::unique_ptr<State> state) : state_(std::move(state)) {}
Rendezvous::~Rendezvous() = default;

std::shared_ptr<Rendezvous> Rendezvous::inMemory() {
  auto state = std::make_unique<State>();
  state->store = c10::make_intrusive<c10d::HashStore>();
  state->where = "the in-memory store";
  return std::shared_ptr<Rendezvous>(new Rendezvous(std::move(state)));
}

std::shared_ptr<Rendezvous> Rendezvous::tcp(const Launch& launch,
                                            std::chrono::milliseconds timeout) {
  auto state = std::make_unique<State>();
  state->inMemory = false;
  state->loopback = launch.masterAddr == "localhost" || launch.masterAddr.rfind("127.", 0) == 0;
  state->where = launch.masterAddr + ":" + std::to_string(launch.masterPort);
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(launch.masterPort);
  options.isServer = launch.processRank == 0;
  options.numWorkers = static_cast<std::size_t>(launch.processes);
  options.waitWorkers = true;
  options.timeout = timeout;
  try {
    state->store = c10::make_intrusive<c10d::TCPStore>(launch.masterAddr, options);
  } catch (const std::exception& e) {
    throw core::Error(std::string(launch.processRank == 0 ? "cannot host" : "cannot reach") +
                      " the rendezvous store at " + state->where +
                      " (MASTER_ADDR, MASTER_PORT) with all " + std::to_string(launch.processes) +
                      " processes within " + seconds(timeout) + ": " + errorText(e.what()));
  }
  return std::shared_ptr<Rendezvous>(new Rendezvous(std::move(state)));
}

// --- group ----------------------------------------------------------------------------------

struct Group::State {
  GroupOptions options;
  c10::Device device{c10::kCPU};
  c10::intrusive_ptr<c10d::Store> health;  // heartbeats and failure reasons
  c10::intrusive_ptr<c10d::ProcessGroup> group;
  std::string where;

  std::mutex mutex;
  std::condition_variable changed;
  bool stopping = false;
  std::thread heartbeat;

  ~State() {
    {
      const std::lock_guard lock(mutex);
      stopping = true;
    }
    changed.notify_all();
    if (heartbeat.joinable()) {
      heartbeat.join();
    }
  }

  void beat() {
    const std::string key = "alive/" + std::to_string(options.rank);
    std::unique_lock lock(mutex);
    while (!stopping) {
      lock.unlock();
      try {
        health->add(key, 1);
      } catch (...) {
        // The store's host is gone; the next collective reports it.
      }
      lock.lock();
      changed.wait_for(lock, kHeartbeatInterval, [&] { return stopping; });
    }
  }
};

Group::Group(const Rendezvous& rendezvous, const GroupOptions& options)
    : state_(std::make_unique<State>()) {
  auto& s = *state_;
  s.options = options;
  s.device = core::parseDevice(options.device);
  s.where = rendezvous.state().where;
  const auto base = rendezvous.state().store;
  s.health = c10::make_intrusive<c10d::PrefixStore>(options.name + "/health", base);
  try {
    auto glooOptions = c10d::ProcessGroupGloo::Options::create(options.timeout);
    if (const auto interface = env("GLOO_SOCKET_IFNAME")) {
      glooOptions->devices.push_back(
          c10d::ProcessGroupGloo::createDeviceForInterface(*interface, false));
    } else if (rendezvous.state().loopback) {
      glooOptions->devices.push_back(
          c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1", false));
    } else {
      glooOptions->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice(false));
    }
    glooOptions->threads = 2;
    auto gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(
        c10::make_intrusive<c10d::PrefixStore>(options.name + "/gloo", base), options.rank,
        options.size, glooOptions);
    s.group = c10::make_intrusive<c10d::ProcessGroup>(
        c10::make_intrusive<c10d::PrefixStore>(options.name, base), options.rank, options.size);
    s.group->setBackend(c10::kCPU, c10d::ProcessGroup::BackendType::GLOO, gloo);
    s.group->setDefaultBackend(c10d::ProcessGroup::BackendType::GLOO);
    if (s.device.is_cuda()) {
      auto nccl =
          makeNcclBackend(c10::make_intrusive<c10d::PrefixStore>(options.name + "/nccl", base),
                          options.rank, options.size, s.device, options.timeout);
      s.group->setBackend(c10::kCUDA, c10d::ProcessGroup::BackendType::NCCL, nccl);
      s.group->setDefaultBackend(c10d::ProcessGroup::BackendType::NCCL);
    }
  } catch (const core::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw core::Error("replica " + std::to_string(options.rank) + " of " +
                      std::to_string(options.size) + " cannot join the others through " + s.where +
                      " within " + seconds(options.timeout) + ": " + errorText(e.what()));
  }
  s.heartbeat = std::thread([&s] { s.beat(); });
}

Group::~Group() {
  // Stop the heartbeat first, then end the backends' work and connections explicitly (NCCL
  // warns about, and may hang on, a communicator left to process exit).
  auto& s = *state_;
  {
    const std::lock_guard lock(s.mutex);
    s.stopping = true;
  }
  s.changed.notify_all();
  if (s.heartbeat.joinable()) {
    s.heartbeat.join();
  }
  try {
    if (s.group) {
      s.group->shutdown();
    }
  } catch (...) {
    // Shutting down after a failure: nothing more to do.
  }
}

int Group::rank() const {
  return state_->options.rank;
}
int Group::size() const {
  return state_->options.size;
}

void Group::allReduceSum(at::Tensor& tensor) {
  std::vector<at::Tensor> tensors{tensor};
  state_->group->allreduce(tensors)->wait();
}

void Group::broadcast(std::vector<at::Tensor>& tensors, int root) {
  // One message per dtype and device: the tensors are flattened into one buffer.
  std::map<std::pair<int, std::string>, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    groups[{static_cast<int>(tensors[i].scalar_type()), tensors[i].device().str()}].push_back(i);
  }
  c10d::BroadcastOptions options;
  options.rootRank = root;
  for (const auto& [key, indices] : groups) {
    std::vector<at::Tensor> flat;
    for (const auto i : indices) {
      flat.push_back(tensors[i].detach().reshape({-1}));
    }
    std::vector<at::Tensor> buffer{torch::cat(flat)};
    state_->group->broadcast(buffer, options)->wait();
    torch::NoGradGuard noGrad;
    std::int64_t offset = 0;
    for (const auto i : indices) {
      const auto n = tensors[i].numel();
      tensors[i].detach().copy_(buffer[0].slice(0, offset, offset + n).view(tensors[i].sizes()));
      offset += n;
    }
  }
}

namespace {

// Every replica's values, in rank order, through the group's CPU backend.
template <typename T>
std::vector<T> gatherValues(c10d::ProcessGroup& group, int size, const std::vector<T>& mine) {
  auto in = torch::tensor(mine, torch::CppTypeToScalarType<T>::value);
  std::vector<std::vector<at::Tensor>> out(1);
  for (int r = 0; r < size; ++r) {
    out[0].push_back(torch::empty_like(in));
  }
  std::vector<at::Tensor> input{in};
  group.allgather(out, input)->wait();
  std::vector<T> all;
  for (const auto& t : out[0]) {
    const auto* data = t.data_ptr<T>();
    all.insert(all.end(), data, data + t.numel());
  }
  return all;
}

}  // namespace

std::vector<std::int64_t> Group::allGather(const std::vector<std::int64_t>& mine) {
  return gatherValues(*state_->group, size(), mine);
}

std::vector<double> Group::allGatherDoubles(const std::vector<double>& mine) {
  return gatherValues(*state_->group, size(), mine);
}

at::Tensor Group::allGatherTensor(const at::Tensor& tensor) {
  const auto input = tensor.contiguous();
  std::vector<std::vector<at::Tensor>> out(1);
  for (int r = 0; r < size(); ++r) {
    out[0].push_back(at::empty_like(input));
  }
  std::vector<at::Tensor> in{input};
  state_->group->allgather(out, in)->wait();
  return at::stack(out[0]);
}

void Group::reportFailure(const std::string& reason) noexcept {
  try {
    state_->health->set("failed/" + std::to_string(rank()), bytes(reason));
  } catch (...) {
    // Nobody to tell.
  }
}

std::string Group::describeFailure() noexcept {
  auto& s = *state_;
  try {
    const auto failedKey = [](int r) { return "failed/" + std::to_string(r); };
    const auto aliveKey = [](int r) { return "alive/" + std::to_string(r); };
    std::vector<std::int64_t> before(static_cast<std::size_t>(size()), -1);
    for (int r = 0; r < size(); ++r) {
      if (r != rank() && s.health->check({aliveKey(r)})) {
        before[r] = s.health->add(aliveKey(r), 0);
      }
    }
    // A failing replica writes its reason at once; a dead one stops beating. Watch for a while.
    const auto deadline = Clock::now() + 4 * kHeartbeatInterval + std::chrono::seconds(1);
    while (Clock::now() < deadline) {
      for (int r = 0; r < size(); ++r) {
        if (r != rank() && s.health->check({failedKey(r)})) {
          return "rank " + std::to_string(r) + " failed: " + text(s.health->get(failedKey(r)));
        }
      }
      std::this_thread::sleep_for(kHeartbeatInterval / 2);
    }
    std::vector<int> silent;
    for (int r = 0; r < size(); ++r) {
      if (r != rank() && s.health->add(aliveKey(r), 0) == before[r]) {
        silent.push_back(r);
      }
    }
    if (silent.empty()) {
      return "every other rank is still alive (a collective timed out or was interrupted)";
    }
    std::string list;
    for (const auto r : silent) {
      list += (list.empty() ? "" : ", ") + std::to_string(r);
    }
    return std::string(silent.size() == 1 ? "rank " : "ranks ") + list + " stopped" +
           " (no heartbeat; the process or its machine died or hangs)";
  } catch (const std::exception&) {
    return "the rendezvous store at " + s.where +
           " is unreachable: the process of rank 0, which hosts it, stopped";
  } catch (...) {
    return "unknown";
  }
}

// --- gradient averaging ---------------------------------------------------------------------

struct GradientAverager::State {
  std::unique_ptr<c10d::Reducer> reducer;
  int rebuilds = 0;
};

GradientAverager::GradientAverager(Group& group, const std::vector<at::Tensor>& parameters,
                                   double bucketMiB)
    : state_(std::make_unique<State>()) {
  std::vector<at::Tensor> trained;
  for (const auto& p : parameters) {
    if (p.requires_grad()) {
      trained.push_back(p);
    }
  }
  const auto cap = static_cast<std::int64_t>(bucketMiB * 1024.0 * 1024.0);
  const std::vector<bool> sparse(trained.size(), false);
  auto [buckets, limits] = c10d::compute_bucket_assignment_by_size(
      trained,
      {static_cast<std::size_t>(c10d::kDefaultFirstBucketBytes), static_cast<std::size_t>(cap)},
      sparse);
  // Gradients appear roughly in reverse order of the parameters; so do the buckets.
  std::reverse(buckets.begin(), buckets.end());
  state_->reducer = std::make_unique<c10d::Reducer>(
      trained, std::move(buckets), group.state().group, sparse, cap,
      /*find_unused_parameters=*/false, /*gradient_as_bucket_view=*/false,
      std::unordered_map<std::size_t, std::string>{}, c10d::kDefaultFirstBucketBytes,
      /*skip_all_reduce_unused_params=*/false, /*use_python_reducer=*/false,
      std::vector<std::int64_t>{});
}

GradientAverager::~GradientAverager() = default;

void GradientAverager::prepare() {
  auto& reducer = *state_->reducer;
  reducer.prepare_for_forward();
  // As torch's DDP before each forward pass: checks that the previous step's reduction finished
  // (a parameter that got no gradient fails here, naming it, instead of leaving its bucket and
  // every later one unaveraged), and once, after the first step, rebuilds the buckets in the order
  // the gradients became ready (rank 0's order, on every rank). Until that rebuild the Reducer
  // records every ready gradient; without it the record grows at every step.
  if (reducer.rebuild_buckets()) {
    ++state_->rebuilds;
  }
  reducer.prepare_for_backward({});
}

int GradientAverager::rebuilds() const {
  return state_->rebuilds;
}

}  // namespace taxon::dist
