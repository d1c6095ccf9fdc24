// Moves training batches to the device ahead of their step. On a CUDA device each batch's bytes
// go into pinned (page-locked) host memory and from there to the GPU on a side stream, so that
// the copy of batch k+1 runs while the GPU computes step k; the compute stream waits for the copy
// on the GPU (an event), the host never does. Two pinned buffers alternate: one being copied
// while the next batch is written into the other. On the CPU, stage() does nothing and take() is
// toTensors(). One stager per replica thread; not thread-safe.
#pragma once

#include <c10/core/Device.h>

#include <cstdint>
#include <memory>

#include "data/torch/BatchTensors.hpp"

namespace taxon::data {

class BatchStager {
 public:
  // channelsLast: take() returns the images in channels-last memory order (on a GPU written so
  // by the scaling kernel itself).
  explicit BatchStager(const c10::Device& device, bool channelsLast = false);
  ~BatchStager();
  BatchStager(const BatchStager&) = delete;
  BatchStager& operator=(const BatchStager&) = delete;

  // Starts moving `batch` to the device (CUDA only). Its bytes are copied at once, so the batch
  // may be destroyed after the call.
  void stage(const Batch& batch);
  // `batch` on the device, scaled (as toTensors): the staged copy when stage() got this batch
  // last, otherwise moved now. Ready for use on the current stream.
  BatchTensors take(const Batch& batch);
  // Batches take() found staged (the copy overlapped the previous step), for tests and logs.
  std::int64_t stagedHits() const { return hits_; }

 private:
  struct Cuda;
  c10::Device device_;
  bool channelsLast_ = false;
  std::unique_ptr<Cuda> cuda_;
  std::int64_t hits_ = 0;
};

}  // namespace taxon::data
