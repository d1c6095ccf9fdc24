// The tensor side of the loader: a Batch of 8-bit images (see Loader.hpp) becomes the network's
// input. The images travel as uint8 N x H x W x 3 (4x less to copy to a GPU than floats) and
// become float N x 3 x H x W in [-1, 1] on the target device (scaleToUnitRange: one fused CUDA
// kernel on a GPU, ATen on the CPU). Call from the thread that feeds the model.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "data/Batch.hpp"

namespace taxon::data {

struct BatchTensors {
  at::Tensor images;  // float32, N x 3 x H x W, values in [-1, 1], on the device, in the format
                      // asked for (contiguous by default)
  at::Tensor labels;  // int64, N, the labels as stored (the seed's: 1-based, 0 = background)
};

// Copies `batch` to `device` and scales it. The batch may be destroyed afterwards: nothing refers
// to its memory. The host-to-device copy is synchronous (the batch's memory is pageable).
// Throws core::Error when the batch's sizes do not agree with each other.
BatchTensors toTensors(const Batch& batch, const c10::Device& device = c10::Device(c10::kCPU),
                       at::MemoryFormat format = at::MemoryFormat::Contiguous);

}  // namespace taxon::data
