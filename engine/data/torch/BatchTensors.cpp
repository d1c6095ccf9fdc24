#include "data/torch/BatchTensors.hpp"

#include <ATen/ATen.h>

#include "core/Error.hpp"
#include "data/torch/ScaleToUnitRange.hpp"

namespace taxon::data {

BatchTensors toTensors(const Batch& batch, const c10::Device& device, at::MemoryFormat format) {
  const auto n = static_cast<std::int64_t>(batch.size);
  const auto pixels = n * batch.height * batch.width * 3;
  if (n < 0 || batch.height < 1 || batch.width < 1 ||
      static_cast<std::int64_t>(batch.images.size()) != pixels ||
      static_cast<std::int64_t>(batch.labels.size()) != n) {
    throw core::Error("toTensors: batch " + std::to_string(batch.index) + " of epoch " +
                      std::to_string(batch.epoch) + " has inconsistent sizes");
  }
  const auto labels = at::from_blob(const_cast<std::int64_t*>(batch.labels.data()), {n}, at::kLong);
  // A view of the batch's memory; to a GPU it is copied as bytes (4x less than floats) and
  // scaled there. scaleToUnitRange always returns new memory, so the view does not escape.
  const auto images = at::from_blob(const_cast<std::uint8_t*>(batch.images.data()),
                                    {n, batch.height, batch.width, 3}, at::kByte);
  BatchTensors tensors;
  tensors.images = scaleToUnitRange(device.is_cpu() ? images : images.to(device), format);
  tensors.labels = device.is_cpu() ? labels.clone() : labels.to(device);
  return tensors;
}

}  // namespace taxon::data
