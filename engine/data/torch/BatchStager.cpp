#include "data/torch/BatchStager.hpp"

#include <ATen/ATen.h>

#include <cstring>

#include "core/Error.hpp"
#include "data/torch/ScaleToUnitRange.hpp"

#ifdef TAXON_HAVE_CUDA
#include <c10/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace taxon::data {

#ifdef TAXON_HAVE_CUDA

struct BatchStager::Cuda {
  struct Slot {
    at::Tensor pinnedImages, pinnedLabels;  // page-locked host copies of the batch
    at::Tensor deviceImages, deviceLabels;  // their copies on the GPU (uint8, int64)
    c10::cuda::CUDAEvent copied;            // recorded on the side stream after the copies
    bool used = false;                      // `copied` was recorded at least once
    std::int64_t epoch = -1, index = -1;    // which batch the slot holds
    std::int64_t size = 0, height = 0, width = 0;
  };

  explicit Cuda(const c10::Device& device)
      : side(c10::cuda::getStreamFromPool(/*isHighPriority=*/false, device.index())) {}

  c10::cuda::CUDAStream side;
  Slot slots[2];
  int next = 0;     // the slot stage() fills next
  int staged = -1;  // the slot stage() filled last
};

namespace {

// `tensor` when it can hold `count` elements, else a new pinned tensor of that size.
at::Tensor pinnedAtLeast(const at::Tensor& tensor, std::int64_t count, at::ScalarType type) {
  if (tensor.defined() && tensor.numel() >= count) {
    return tensor;
  }
  return at::empty({count}, at::TensorOptions().dtype(type).pinned_memory(true));
}

}  // namespace

#else

struct BatchStager::Cuda {};

#endif

BatchStager::BatchStager(const c10::Device& device, bool channelsLast)
    : device_(device), channelsLast_(channelsLast) {
#ifdef TAXON_HAVE_CUDA
  if (device_.is_cuda()) {
    cuda_ = std::make_unique<Cuda>(device_);
  }
#endif
}

BatchStager::~BatchStager() = default;

void BatchStager::stage(const Batch& batch) {
#ifdef TAXON_HAVE_CUDA
  if (!cuda_) {
    return;
  }
  const auto n = static_cast<std::int64_t>(batch.size);
  const std::int64_t pixels = n * batch.height * batch.width * 3;
  if (n < 1 || static_cast<std::int64_t>(batch.images.size()) != pixels ||
      static_cast<std::int64_t>(batch.labels.size()) != n) {
    throw core::Error("stage: batch " + std::to_string(batch.index) + " of epoch " +
                      std::to_string(batch.epoch) + " has inconsistent sizes");
  }
  Cuda::Slot& slot = cuda_->slots[cuda_->next];
  if (slot.used) {
    slot.copied.synchronize();  // the copy out of this buffer (two batches ago) has finished
  }
  slot.pinnedImages = pinnedAtLeast(slot.pinnedImages, pixels, at::kByte);
  slot.pinnedLabels = pinnedAtLeast(slot.pinnedLabels, n, at::kLong);
  std::memcpy(slot.pinnedImages.data_ptr(), batch.images.data(), static_cast<std::size_t>(pixels));
  std::memcpy(slot.pinnedLabels.data_ptr(), batch.labels.data(),
              static_cast<std::size_t>(n) * sizeof(std::int64_t));
  {
    const c10::cuda::CUDAStreamGuard onSide(cuda_->side);
    // Allocated on the side stream; take() tells the allocator when the compute stream uses it.
    slot.deviceImages = slot.pinnedImages.narrow(0, 0, pixels).to(device_, /*non_blocking=*/true);
    slot.deviceLabels = slot.pinnedLabels.narrow(0, 0, n).to(device_, /*non_blocking=*/true);
    slot.copied.record(cuda_->side);
  }
  slot.used = true;
  slot.epoch = batch.epoch;
  slot.index = batch.index;
  slot.size = n;
  slot.height = batch.height;
  slot.width = batch.width;
  cuda_->staged = cuda_->next;
  cuda_->next = 1 - cuda_->next;
#else
  (void)batch;
#endif
}

BatchTensors BatchStager::take(const Batch& batch) {
#ifdef TAXON_HAVE_CUDA
  if (cuda_) {
    const bool staged = cuda_->staged >= 0 && cuda_->slots[cuda_->staged].epoch == batch.epoch &&
                        cuda_->slots[cuda_->staged].index == batch.index;
    if (staged) {
      ++hits_;
    } else {
      stage(batch);
    }
    Cuda::Slot& slot = cuda_->slots[cuda_->staged];
    const c10::cuda::CUDAStream compute = c10::cuda::getCurrentCUDAStream(device_.index());
    slot.copied.block(compute);  // the GPU waits for the copy, the host does not
    slot.deviceImages.record_stream(compute);
    slot.deviceLabels.record_stream(compute);
    BatchTensors tensors;
    tensors.images = scaleToUnitRange(
        slot.deviceImages.view({slot.size, slot.height, slot.width, 3}),
        channelsLast_ ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous);
    tensors.labels = slot.deviceLabels;
    cuda_->staged = -1;  // taken: the slot's device tensors now belong to the step
    return tensors;
  }
#endif
  return toTensors(batch, device_,
                   channelsLast_ ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous);
}

}  // namespace taxon::data
