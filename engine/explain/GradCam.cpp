#include "explain/GradCam.hpp"

#include <torch/torch.h>

#include <string>

#include "core/Error.hpp"

namespace taxon::explain {

namespace F = torch::nn::functional;

model::MixedBlock explainedBlock(std::int64_t imageSide) {
  for (const auto block : {model::MixedBlock::Mixed7c, model::MixedBlock::Mixed6e}) {
    if (model::mixedMapSide(block, imageSide) >= kMinMapSide) {
      return block;
    }
  }
  return model::MixedBlock::Mixed5d;
}

GradCamMaps gradCam(model::InceptionV3Impl& model, const at::Tensor& images,
                    const at::Tensor& categories, model::MixedBlock block) {
  if (categories.dim() != 2 || categories.size(0) != images.size(0)) {
    throw core::Error("Grad-CAM needs one row of categories per image");
  }
  const auto wanted = categories.to(torch::kCPU, torch::kLong);
  const auto classes = model.settings().numClasses;
  if (wanted.numel() > 0 &&
      (wanted.min().item<std::int64_t>() < 0 || wanted.max().item<std::int64_t>() >= classes)) {
    throw core::Error("Grad-CAM: a category index is outside the model's " +
                      std::to_string(classes) + " categories");
  }
  torch::Tensor activations;
  {
    torch::NoGradGuard noGrad;  // the trunk needs no graph: the gradients stop at the map
    activations = model.mixedMap(images, block);
  }
  activations.requires_grad_(true);
  torch::Tensor logits;
  {
    torch::AutoGradMode withGrad(true);
    logits = model.logitsFromMixed(activations, block);
  }
  const auto n = images.size(0);
  const auto k = wanted.size(1);
  const auto device = logits.device();
  const auto rows = torch::arange(n, torch::TensorOptions().dtype(torch::kLong).device(device));
  std::vector<torch::Tensor> maps;
  for (std::int64_t j = 0; j < k; ++j) {
    // The images are independent in eval mode: one backward pass gives every image's gradient
    // for its j-th category.
    const auto column = wanted.select(1, j).to(device);
    const auto target = logits.index({rows, column}).sum();
    const auto gradient = torch::autograd::grad({target}, {activations}, {},
                                                /*retain_graph=*/j + 1 < k)[0];
    const auto alpha = gradient.mean({2, 3}, /*keepdim=*/true);          // N x C x 1 x 1
    maps.push_back(torch::relu((alpha * activations.detach()).sum(1)));  // N x h x w
  }
  GradCamMaps out;
  out.probabilities = torch::softmax(logits.detach(), 1).to(torch::kCPU, torch::kFloat);
  if (k == 0) {
    out.maps = torch::zeros({n, 0, images.size(2), images.size(3)});
    out.peaks = torch::zeros({n, 0});
    out.peakAt = torch::zeros({n, 0, 2}, torch::kLong);
    return out;
  }
  // Each map position over the input pixel its receptive field is centred on
  // (model::mixedMapGeometry), bilinear in between, the edge positions' values beyond them.
  const auto stacked = torch::stack(maps, 1).to(torch::kFloat);  // N x K x h x w
  const auto geometry = model::mixedMapGeometry(block);
  const auto axis = [&](std::int64_t pixels, std::int64_t positions) {
    // grid_sample's coordinates with align_corners: -1 at the first position, 1 at the last.
    const auto u = (torch::arange(pixels, torch::TensorOptions().dtype(torch::kFloat)) -
                    static_cast<double>(geometry.offset)) /
                   static_cast<double>(geometry.stride);
    return positions > 1 ? u * (2.0 / static_cast<double>(positions - 1)) - 1.0
                         : torch::zeros({pixels});
  };
  const auto xs = axis(images.size(3), stacked.size(3)).to(device);
  const auto ys = axis(images.size(2), stacked.size(2)).to(device);
  const auto grid = torch::stack({xs.view({1, -1}).expand({images.size(2), images.size(3)}),
                                  ys.view({-1, 1}).expand({images.size(2), images.size(3)})},
                                 2)
                        .unsqueeze(0)
                        .expand({n, images.size(2), images.size(3), 2});
  const auto upsampled = F::grid_sample(stacked, grid,
                                        F::GridSampleFuncOptions()
                                            .mode(torch::kBilinear)
                                            .padding_mode(torch::kBorder)
                                            .align_corners(true));
  // The maximum of a bilinear map is at a position; beyond the outer positions the map is flat,
  // so the pixel the peak is reported at is the position's own.
  const auto flat = stacked.flatten(2);  // N x K x (h * w)
  const auto [peaks, where] = flat.max(2);
  const auto w = stacked.size(3);
  out.peakAt = torch::stack({torch::remainder(where, w) * geometry.stride + geometry.offset,
                             torch::div(where, w, "floor") * geometry.stride + geometry.offset},
                            2)
                   .to(torch::kCPU);
  out.maps = (upsampled / peaks.clamp_min(1e-12).unsqueeze(2).unsqueeze(3))
                 .clamp(0.0, 1.0)
                 .to(torch::kCPU);
  out.peaks = peaks.to(torch::kCPU);
  return out;
}

}  // namespace taxon::explain
