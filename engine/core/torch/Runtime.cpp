#include "core/torch/Runtime.hpp"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/version.h>

#include "core/LibraryVersions.hpp"
#include "core/Version.hpp"

#ifdef TAXON_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

namespace taxon::core {

namespace {

std::string dottedVersion(long packed, long majorUnit, long minorUnit) {
  if (packed <= 0) {
    return {};
  }
  const long major = packed / majorUnit;
  const long minor = (packed % majorUnit) / minorUnit;
  const long patch = packed % minorUnit;
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

}  // namespace

RuntimeInfo queryRuntime() {
  RuntimeInfo info;
  info.taxonVersion = kVersion;
  info.gitRevision = kGitRevision;
  info.torchVersion = TORCH_VERSION;
  info.cpuThreads = at::get_num_threads();
  const LibraryVersions libraries = libraryVersions();
  info.opencvVersion = libraries.opencv;
  info.protobufVersion = libraries.protobuf;
  info.sqliteVersion = libraries.sqlite;

  const auto& hooks = at::detail::getCUDAHooks();
  info.torchHasCuda = at::hasCUDA() || hooks.versionCUDART() > 0;
  if (const long cudart = hooks.versionCUDART(); cudart > 0) {
    // CUDART_VERSION packs major * 1000 + minor * 10.
    info.torchCudaVersion =
        std::to_string(cudart / 1000) + "." + std::to_string((cudart % 1000) / 10);
  }
  if (hooks.hasCuDNN()) {
    info.cudnnVersion = dottedVersion(hooks.versionCuDNN(), 10000, 100);
  }
  info.ncclCompiled = kHaveNccl;

  const int devices = hooks.getNumGPUs();
  info.cudaAvailable = devices > 0;
#ifdef TAXON_HAVE_CUDA
  for (int index = 0; index < devices; ++index) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, index) != cudaSuccess) {
      continue;
    }
    info.cudaDevices.push_back(CudaDevice{index, prop.name,
                                          static_cast<double>(prop.totalGlobalMem) / (1 << 30),
                                          prop.major, prop.minor});
  }
#endif
  return info;
}

std::string versionLine(const RuntimeInfo& info) {
  std::string line = "taxon " + info.taxonVersion + " (LibTorch " + info.torchVersion;
  if (!info.torchCudaVersion.empty()) {
    line += ", CUDA " + info.torchCudaVersion;
  } else {
    line += ", CPU only";
  }
  if (!info.cudnnVersion.empty()) {
    line += ", cuDNN " + info.cudnnVersion;
  }
  return line + ")";
}

}  // namespace taxon::core
