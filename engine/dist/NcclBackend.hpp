// The NCCL backend of a replica group (Distributed.cpp). NcclBackend.cpp is compiled only when
// the build has CUDA and LibTorch has NCCL (TAXON_NCCL_BACKEND=1); otherwise makeNcclBackend
// throws core::Error.
#pragma once

#include <c10/core/Device.h>
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include <chrono>

namespace taxon::dist {

c10::intrusive_ptr<c10d::Backend> makeNcclBackend(const c10::intrusive_ptr<c10d::Store>& store,
                                                  int rank, int size, const c10::Device& device,
                                                  std::chrono::milliseconds timeout);

}  // namespace taxon::dist
