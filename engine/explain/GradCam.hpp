// Grad-CAM (Selvaraju et al., ICCV 2017) on Inception-v3's last mixed block (Mixed_7c): for a
// category c and the block's map A (channels k, positions i, j), the weights
// alpha_k = mean_ij d logit_c / d A_kij and the map ReLU(sum_k alpha_k A_k), upsampled to the
// input. With Inception's average pool and single fc layer behind Mixed_7c, alpha_k is
// fc.weight[c, k] / (h * w), so the map is the class activation map (Zhou et al., 2016) up to
// scale; it is computed here through autograd, as Grad-CAM defines it.
//
// Mixed_7c's map is 8 x 8 at 299 x 299 but 1 x 1 below 139 x 139 (Fashion-MNIST's runs train at
// 75 or 99), where a map can say nothing about where. explainedBlock() therefore takes the last
// mixed block whose map is at least kMinMapSide a side: Mixed_7c from 203 x 203 inputs, Mixed_6e
// (the 17 x 17 grid's last) from 107, Mixed_5d below; Grad-CAM's weights then come through the
// blocks after it (Selvaraju et al. show such layers too, less class-specific the earlier).
#pragma once

#include <ATen/core/Tensor.h>

#include "model/InceptionV3.hpp"

namespace taxon::explain {

inline constexpr std::int64_t kMinMapSide = 5;

// The block explained for side x side inputs (see above).
model::MixedBlock explainedBlock(std::int64_t imageSide);

struct GradCamMaps {
  // N x K x H x W on the CPU, float: image n's map for its k-th category, bilinearly upsampled to
  // the input's H x W and divided by its maximum (1 at the peak; all 0 where nothing in the
  // image speaks for the category).
  at::Tensor maps;
  // N x K, float: each map's maximum before that division (the evidence's strength in logit
  // units per position; 0 for an empty map).
  at::Tensor peaks;
  // N x K x 2, int64: the input pixel (x, y) where each map peaks: the map position with the
  // largest value, at the pixel its receptive field is centred on (the first such position when
  // several tie, as in an empty map).
  at::Tensor peakAt;
  // N x classes on the CPU, float: the softmax of the logits.
  at::Tensor probabilities;
};

// `model` in eval mode; `images` N x 3 x H x W in [-1, 1] on the model's device; `categories`
// int64 N x K (any device), class indices; the maps of `block`. Throws core::Error when an index
// is out of range.
GradCamMaps gradCam(model::InceptionV3Impl& model, const at::Tensor& images,
                    const at::Tensor& categories, model::MixedBlock block);

}  // namespace taxon::explain
