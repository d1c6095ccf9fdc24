// Turns a batch of decoded 8-bit images into the network's input: N x H x W x C uint8 (the
// loader's layout, 4x smaller to copy to a GPU than floats) becomes N x C x H x W float32 scaled
// to [-1, 1] as Inception expects (x / 127.5 - 1). On a CUDA tensor one fused kernel does the
// layout change and the scaling on the current stream of the tensor's GPU; on the CPU, one pass
// through a table.
//
// Channels-last output (the layout tensor cores prefer) keeps the input's byte order, so on a GPU
// it is a plain element-wise map, written straight into the output without a second pass.
#pragma once

#include <ATen/core/Tensor.h>

namespace taxon::data {

// `images`: uint8, 4-D, N x H x W x C, on any device. Returns a new float tensor on the same
// device, N x C x H x W, contiguous in `format` (Contiguous or ChannelsLast). Throws core::Error
// when the input has the wrong type or shape.
at::Tensor scaleToUnitRange(const at::Tensor& images,
                            at::MemoryFormat format = at::MemoryFormat::Contiguous);

}  // namespace taxon::data
