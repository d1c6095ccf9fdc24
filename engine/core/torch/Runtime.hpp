// What this build of Taxon runs on: library versions and the compute devices found at run time.
// Used by `taxon info`, `taxon --version` and the app's About box. No torch types in this header.
#pragma once

#include <string>
#include <vector>

namespace taxon::core {

struct CudaDevice {
  int index = 0;
  std::string name;        // "NVIDIA H200"
  double memoryGiB = 0.0;  // total device memory
  int computeMajor = 0;    // compute capability, e.g. 9.0
  int computeMinor = 0;
};

struct RuntimeInfo {
  std::string taxonVersion;      // "0.1.0"
  std::string gitRevision;       // short hash of the source tree, or "unknown"
  std::string torchVersion;      // LibTorch version compiled against, "2.11.0"
  bool torchHasCuda = false;     // LibTorch was built with CUDA (the GPU paths are linked in)
  std::string torchCudaVersion;  // CUDA runtime LibTorch was built with, "13.0"; empty without CUDA
  std::string cudnnVersion;      // "9.19.0"; empty without cuDNN
  bool ncclCompiled = false;     // the engine's multi-GPU path (NCCL) is compiled in
  bool cudaAvailable = false;    // a usable CUDA driver and at least one GPU were found
  std::vector<CudaDevice> cudaDevices;
  int cpuThreads = 0;  // intra-op threads LibTorch uses on the CPU
  std::string opencvVersion;
  std::string protobufVersion;
  std::string sqliteVersion;
};

// Queries the libraries and devices. Safe on machines without a GPU or driver: the CUDA fields
// then say none was found. Thread-safe.
RuntimeInfo queryRuntime();

// One line for --version: "taxon 0.1.0 (LibTorch 2.11.0, CUDA 13.0, cuDNN 9.19.0)".
std::string versionLine(const RuntimeInfo& info);

}  // namespace taxon::core
