#include "train/Trainer.hpp"

#include <torch/torch.h>

#include <c10/core/DeviceGuard.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <thread>

#include "core/Clock.hpp"
#include "core/Error.hpp"
#include "core/torch/Device.hpp"
#include "dist/Distributed.hpp"
#include "records/RecordSet.hpp"
#include "train/RunState.hpp"
#include "train/Teacher.hpp"
#include "train/TrainLoop.hpp"

namespace taxon::train {

std::string seedLogLine(const StepMetrics& m) {
  auto seconds = static_cast<std::time_t>(std::floor(m.wallTime));
  auto micros = std::lround((m.wallTime - std::floor(m.wallTime)) * 1e6);
  if (micros >= 1000000) {
    ++seconds;
    micros -= 1000000;
  }
  std::tm local{};
  localtime_r(&seconds, &local);
  char time[64];
  std::strftime(time, sizeof time, "%Y-%m-%d %H:%M:%S", &local);
  char line[256];
  std::snprintf(line, sizeof line,
                "%s.%06ld: step %lld, loss = %.2f (%.1f examples/sec; %.3f sec/batch)", time,
                micros, static_cast<long long>(m.step), m.loss, m.examplesPerSec, m.secPerBatch);
  return line;
}

namespace {

TrainResult trainReplica(const settings::TrainSettings& settings, bool resume,
                         const TrainCallbacks& callbacks, std::stop_token stop,
                         const Replica& replica) {
  // Rank 0's run-state.json says "failed" when the run it started ends in an error.
  const double began = core::unixSecondsNow();
  try {
    TrainLoop loop(settings, resume, callbacks, std::move(stop), replica);
    return loop.run();
  } catch (const std::exception& e) {
    if (replica.rank == 0) {
      recordRunFailure(settings.trainDir, began, e.what());
    }
    throw;
  }
}

// Devices of this process's replicas: the CPU for all, or consecutive GPUs from the asked index
// (offset by the process's LOCAL_RANK when each process of a node drives its own GPUs).
std::vector<c10::Device> replicaDevices(const settings::TrainSettings& settings,
                                        const dist::Launch& launch) {
  std::vector<c10::Device> devices;
  if (settings.device.rfind("cuda", 0) != 0) {
    devices.assign(static_cast<std::size_t>(settings.replicas), core::parseDevice(settings.device));
    return devices;
  }
  const auto colon = settings.device.find(':');
  const int asked = colon == std::string::npos ? 0 : std::atoi(settings.device.c_str() + colon + 1);
  const int first = asked + launch.localRank * settings.replicas;
  const int needed = first + settings.replicas;
  const auto available = static_cast<int>(torch::cuda::device_count());
  if (available < needed) {
    throw core::UsageError(
        (settings.replicas > 1 ? "--num_gpus " + std::to_string(settings.replicas)
                               : "--device " + settings.device) +
        ": " + std::to_string(settings.replicas) + " GPU(s) asked for" +
        (first > 0 ? " from cuda:" + std::to_string(first) : std::string()) + ", but this machine" +
        (available == 0 ? " has no usable CUDA GPU" : " has only " + std::to_string(available)) +
        (launch.processes > 1 ? " (LOCAL_RANK " + std::to_string(launch.localRank) + ")" : "") +
        (available > first ? "; use --num_gpus " + std::to_string(available - first)
                           : "; train on the CPU with --device cpu (--replicas N for CPU ranks)"));
  }
  for (int i = 0; i < settings.replicas; ++i) {
    devices.emplace_back(c10::kCUDA, static_cast<c10::DeviceIndex>(first + i));
  }
  return devices;
}

}  // namespace

TrainResult train(const settings::TrainSettings& given, bool resume,
                  const TrainCallbacks& callbacks, std::stop_token stop) {
  core::throwIfInvalid("training", given.validate());
  // A new distillation run records which teacher checkpoint it learns from, once for every
  // replica (a teacher still training may write a newer one meanwhile).
  settings::TrainSettings asked = given;
  if (asked.distilling() && asked.teacherStep == 0 && !resume) {
    recordTeacher(asked, records::openRecordSet(asked.dataDir).categories);
  }
  const dist::Launch launch = dist::launchFromEnvironment();
  const int local = asked.replicas;
  const int world = launch.processes * local;
  if (asked.batchSize % world != 0) {
    throw core::UsageError("the global batch (" + std::to_string(asked.batchSize) +
                           ") must split evenly between the " + std::to_string(world) +
                           " replicas of " + std::to_string(launch.processes) + " process(es)");
  }
  const auto devices = replicaDevices(asked, launch);
  if (asked.torchThreads > 0) {
    torch::set_num_threads(asked.torchThreads);
  }
  if (world == 1) {
    return trainReplica(asked, resume, callbacks, stop, Replica{0, 1, nullptr, devices[0]});
  }

  const auto timeout =
      std::chrono::milliseconds(static_cast<std::int64_t>(asked.collectiveTimeoutSeconds * 1000.0));
  const auto rendezvous =
      launch.processes > 1 ? dist::Rendezvous::tcp(launch, timeout) : dist::Rendezvous::inMemory();
  // Replica threads other than rank 0 pass on only warnings and skips, each under its rank.
  std::mutex logMutex;
  const auto replicaCallbacks = [&](int rank) {
    if (rank == 0) {
      return callbacks;
    }
    TrainCallbacks quiet;
    quiet.pauseRequested = callbacks.pauseRequested;  // every replica holds (see TrainCallbacks)
    quiet.holdWhilePaused = callbacks.holdWhilePaused;
    if (callbacks.onLog) {
      quiet.onLog = [&, rank](const std::string& text) {
        const std::lock_guard lock(logMutex);
        callbacks.onLog(text.rfind("rank ", 0) == 0 ? text
                                                    : "rank " + std::to_string(rank) + ": " + text);
      };
    }
    return quiet;
  };
  const auto run = [&](int index) {
    const int rank = launch.processRank * local + index;
    dist::GroupOptions options;
    options.rank = rank;
    options.size = world;
    options.device = devices[static_cast<std::size_t>(index)].str();
    options.timeout = timeout;
    // The replica's GPU is the thread's current device from here on (the NCCL backend's
    // construction included); trainReplica keeps it so.
    const auto device = devices[static_cast<std::size_t>(index)];
    const c10::OptionalDeviceGuard onDevice(device.is_cuda() ? std::make_optional(device)
                                                             : std::nullopt);
    dist::Group group(*rendezvous, options);
    try {
      return trainReplica(asked, resume, replicaCallbacks(rank), stop,
                          Replica{rank, world, &group, devices[static_cast<std::size_t>(index)]});
    } catch (const CollectiveError&) {
      throw;
    } catch (const std::exception& e) {
      group.reportFailure(dist::errorText(e.what()));
      throw;
    }
  };
  if (local == 1) {
    return run(0);
  }
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(local));
  std::vector<bool> collectiveErrors(static_cast<std::size_t>(local), false);
  TrainResult result;
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < local; ++i) {
      threads.emplace_back([&, i] {
        try {
          auto r = run(i);
          if (i == 0) {
            result = std::move(r);
          }
        } catch (const CollectiveError&) {
          collectiveErrors[static_cast<std::size_t>(i)] = true;
          errors[static_cast<std::size_t>(i)] = std::current_exception();
        } catch (...) {
          errors[static_cast<std::size_t>(i)] = std::current_exception();
        }
      });
    }
  }
  // The cause first: a replica's own failure, then the others' reports of losing it.
  for (int i = 0; i < local; ++i) {
    if (errors[static_cast<std::size_t>(i)] && !collectiveErrors[static_cast<std::size_t>(i)]) {
      std::rethrow_exception(errors[static_cast<std::size_t>(i)]);
    }
  }
  for (const auto& error : errors) {
    if (error) {
      std::rethrow_exception(error);
    }
  }
  return result;
}

}  // namespace taxon::train
