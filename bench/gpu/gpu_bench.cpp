// taxon-gpu-bench: the GPU checks and the training benchmark that bench/gpu/run.sh runs on a
// machine with a CUDA GPU. It builds from the engine's model, optimizer and device-side data
// code alone (no OpenCV, no Qt; see bench/gpu/CMakeLists.txt), so it builds on a GPU server that
// has only PyTorch, CMake and ninja.
//
// Checks (each prints "check NAME: ok|FAILED ..." and fails the exit code when it fails):
//   scale       the fused uint8 -> [-1, 1] CUDA kernel equals the CPU path (both layouts)
//   stager      batches through pinned memory and the side stream equal the synchronous copy
//   learns      a reduced Inception-v3 on CUDA lowers its loss on learnable synthetic data
//   syncbn      synchronized batch norm's fused CUDA kernels agree with its portable path
//   bf16        one step in bf16 autocast agrees with fp32 (loss and gradients, stated tolerance)
// Benchmark: the trainer's own step (train/TrainStep) on the full Inception-v3 (aux head, 1,000
// classes) at 299 x 299, the seed's RMSProp, label smoothing, aux loss, weight average and
// batch-norm decay, bf16 autocast, channels-last, cuDNN autotuning; images/sec:
//   device      one synthetic float batch kept on the GPU (what the Python peer measures)
//   pipeline    synthetic uint8 host batches moved as the trainer moves them: pinned memory,
//               side-stream copy overlapping the step, the fused scaling kernel
// Output: lines for people, and one JSON object on the last line.
#include <c10/cuda/CUDAFunctions.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "data/torch/BatchStager.hpp"
#include "data/torch/ScaleToUnitRange.hpp"
#include "model/InceptionV3.hpp"
#include "model/SyncBatchNorm.hpp"
#include "settings/TrainSettings.hpp"
#include "train/Optimizer.hpp"
#include "train/StepPrecision.hpp"
#include "train/TrainStep.hpp"

namespace {

using taxon::checkpoint::NamedTensors;
using taxon::train::Autocast;

struct Options {
  int batch = 256;
  int imageSize = 299;
  int steps = 60;
  int warmup = 15;
  bool checks = true;
  bool bench = true;
};

struct Net {
  taxon::model::InceptionV3 model{nullptr};
  NamedTensors parameters;
  std::vector<bool> decay;
};

Net makeNet(const taxon::model::InceptionSettings& settings, const c10::Device& device,
            bool channelsLast, std::uint64_t seed) {
  torch::manual_seed(seed);
  Net net;
  net.model = taxon::model::InceptionV3(settings);
  net.model->to(device);
  if (channelsLast) {
    taxon::train::toChannelsLast(*net.model);
  }
  for (const auto& item : net.model->named_parameters()) {
    net.parameters.emplace_back(item.key(), item.value());
    net.decay.push_back(item.value().dim() > 1);
  }
  return net;
}

// The trainer's loss (TrainStep::lossOf) with the auxiliary head at its default weight.
torch::Tensor stepLoss(Net& net, const torch::Tensor& images, const torch::Tensor& labels,
                       bool bf16, double smoothing) {
  const Autocast autocast(c10::DeviceType::CUDA, bf16);
  taxon::train::StepOptions options;
  options.auxWeight = 0.4;
  options.labelSmoothing = smoothing;
  return taxon::train::TrainStep::lossOf(net.model->forward(images), labels, options).loss;
}

bool report(const char* name, bool ok, const std::string& detail, std::string& json) {
  std::printf("check %s: %s %s\n", name, ok ? "ok" : "FAILED", detail.c_str());
  json +=
      std::string(json.empty() ? "" : ", ") + "\"check_" + name + "\": " + (ok ? "true" : "false");
  return ok;
}

std::string fmt(const char* format, double a, double b = 0.0) {
  char text[256];
  std::snprintf(text, sizeof text, format, a, b);
  return text;
}

bool runChecks(const c10::Device& cuda, std::string& json) {
  bool all = true;
  {  // scale
    torch::manual_seed(3);
    const auto images = torch::randint(0, 256, {4, 37, 53, 3}, torch::kByte);
    const auto cpu = taxon::data::scaleToUnitRange(images);
    const auto gpu = taxon::data::scaleToUnitRange(images.to(cuda)).cpu();
    const auto last =
        taxon::data::scaleToUnitRange(images.to(cuda), at::MemoryFormat::ChannelsLast);
    const double diff = std::max((cpu - gpu).abs().max().item<double>(),
                                 (cpu - last.cpu()).abs().max().item<double>());
    const bool layout = last.is_contiguous(at::MemoryFormat::ChannelsLast);
    all &= report(
        "scale", diff <= 1e-6 && layout,
        fmt("(largest difference %.2g, channels-last output %s)", diff, layout ? 1.0 : 0.0), json);
  }
  {  // stager
    taxon::data::BatchStager stager(cuda);
    bool same = true;
    std::vector<taxon::data::Batch> batches(5);
    for (std::size_t k = 0; k < batches.size(); ++k) {
      auto& b = batches[k];
      b.index = static_cast<std::int64_t>(k);
      b.size = 16;
      b.height = 75;
      b.width = 75 + static_cast<int>(k % 2);
      const auto pixels = torch::randint(0, 256, {16 * 75 * b.width * 3}, torch::kByte);
      b.images.assign(pixels.data_ptr<std::uint8_t>(),
                      pixels.data_ptr<std::uint8_t>() + pixels.numel());
      for (int i = 0; i < 16; ++i) {
        b.labels.push_back(static_cast<std::int64_t>(k * 16 + i));
      }
    }
    for (std::size_t k = 0; k < batches.size(); ++k) {
      const auto staged = stager.take(batches[k]);
      if (k + 1 < batches.size()) {
        stager.stage(batches[k + 1]);
      }
      const auto direct = taxon::data::toTensors(batches[k], cuda);
      same &= torch::equal(staged.images.cpu(), direct.images.cpu()) &&
              torch::equal(staged.labels.cpu(), direct.labels.cpu());
    }
    all &= report(
        "stager", same && stager.stagedHits() == 4,
        fmt("(%.0f of 4 batches were staged ahead)", static_cast<double>(stager.stagedHits())),
        json);
  }
  {  // learns: 10 classes whose images differ in mean brightness
    taxon::model::InceptionSettings small;
    small.numClasses = 10;
    small.depthMultiplier = 0.25;
    small.imageSize = 75;
    small.dropout = 0.0;
    Net net = makeNet(small, cuda, true, 1);
    taxon::settings::TrainSettings recipe;  // SGD with momentum, as the small-data recipe
    recipe.optimizer = taxon::settings::OptimizerKind::kSgd;
    taxon::train::Optimizer optimizer(net.parameters, net.decay, recipe);
    torch::manual_seed(2);
    const auto labels = torch::arange(64, torch::kLong).remainder(10).to(cuda);
    const auto images = (torch::randn({64, 3, 75, 75}) * 0.3 +
                         (labels.cpu().to(torch::kFloat) / 5.0 - 0.9).view({64, 1, 1, 1}))
                            .to(cuda)
                            .contiguous(at::MemoryFormat::ChannelsLast);
    double first = 0.0;
    double last = 0.0;
    for (int step = 0; step < 40; ++step) {
      const auto loss = stepLoss(net, images, labels, true, 0.0);
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step(0.05);
      const double value = loss.item<double>();
      first += step < 5 ? value / 5 : 0.0;
      last += step >= 35 ? value / 5 : 0.0;
    }
    all &= report("learns", std::isfinite(last) && last < 0.5 * first,
                  fmt("(mean loss of steps 1-5 %.3f, of steps 36-40 %.3f)", first, last), json);
  }
  {  // syncbn: ATen's fused CUDA kernels against the portable path, two replica threads with
     // batches of 6 and 10 (bf16 too: the fused path keeps the input's type)
    double worst = 0.0;
    for (const bool bf16 : {false, true}) {
      torch::manual_seed(8);
      const auto type = bf16 ? torch::kBFloat16 : torch::kFloat;
      const auto x = (torch::randn({16, 8, 9, 9}) * 2.0 + 3.0).to(cuda).to(type);
      const auto upstream = torch::randn({16, 8, 9, 9}).to(cuda).to(type);
      std::vector<std::vector<torch::Tensor>> results(2);
      for (const auto kernels : {taxon::model::SyncBatchNormKernels::kAuto,
                                 taxon::model::SyncBatchNormKernels::kPortable}) {
        const auto groups = taxon::model::inProcessReplicas(2);
        std::vector<std::vector<torch::Tensor>> parts(2);
        std::vector<std::thread> threads;
        for (int r = 0; r < 2; ++r) {
          threads.emplace_back([&, r] {
            const std::int64_t begin = r == 0 ? 0 : 6;
            const std::int64_t size = r == 0 ? 6 : 10;
            torch::nn::BatchNorm2d bn(torch::nn::BatchNormOptions(8).eps(0.001));
            bn->to(cuda);
            auto part = x.slice(0, begin, begin + size).clone().requires_grad_(true);
            const auto y = taxon::model::syncBatchNorm(part, *bn, groups[r], kernels);
            (y.to(torch::kFloat) * upstream.slice(0, begin, begin + size).to(torch::kFloat))
                .sum()
                .backward();
            parts[r] = {y.to(torch::kFloat), part.grad().to(torch::kFloat), bn->weight.grad(),
                        bn->running_mean, bn->running_var};
          });
        }
        for (auto& t : threads) {
          t.join();
        }
        std::vector<torch::Tensor> joined;
        for (std::size_t k = 0; k < parts[0].size(); ++k) {
          joined.push_back(k < 2 ? torch::cat({parts[0][k], parts[1][k]})
                                 : (k == 2 ? parts[0][k] + parts[1][k] : parts[0][k]));
        }
        results[kernels == taxon::model::SyncBatchNormKernels::kAuto ? 0 : 1] = joined;
      }
      for (std::size_t k = 0; k < results[0].size(); ++k) {
        const auto scale = results[1][k].abs().max().item<double>() + 1e-12;
        worst = std::max(worst, (results[0][k] - results[1][k]).abs().max().item<double>() / scale /
                                    (bf16 ? 10.0 : 1.0));
      }
    }
    // Tolerance: float32 statistics against double sums, 1e-4 of the largest value (bf16 inputs:
    // 1e-3, scaled down by 10 above).
    all &=
        report("syncbn", worst <= 1e-4,
               fmt("(largest difference %.2g of the largest value; tolerance 1e-4)", worst), json);
  }
  {  // bf16 against fp32: same weights, same batch, one forward and backward each
    taxon::model::InceptionSettings full;  // the paper's model
    full.dropout = 0.0;
    torch::manual_seed(5);
    const auto images =
        torch::randn({32, 3, 299, 299}).to(cuda).contiguous(at::MemoryFormat::ChannelsLast);
    const auto labels = torch::randint(0, 1000, {32}, torch::kLong).to(cuda);
    std::vector<double> losses;
    std::vector<torch::Tensor> grads;
    for (const bool bf16 : {false, true}) {
      Net net = makeNet(full, cuda, true, 7);
      const auto loss = stepLoss(net, images, labels, bf16, 0.1);
      loss.backward();
      std::vector<torch::Tensor> flat;
      for (const auto& [name, p] : net.parameters) {
        flat.push_back(p.grad().defined() ? p.grad().flatten().to(torch::kFloat)
                                          : torch::zeros({p.numel()}, p.options()));
      }
      grads.push_back(torch::cat(flat));
      losses.push_back(loss.item<double>());
    }
    const double lossDiff = std::abs(losses[1] - losses[0]) / std::abs(losses[0]);
    const double cosine = (grads[0] * grads[1]).sum().item<double>() /
                          (grads[0].norm().item<double>() * grads[1].norm().item<double>() + 1e-30);
    // Tolerance: bf16 keeps 8 bits of mantissa (relative rounding 2^-9 per operation).
    all &= report("bf16", lossDiff <= 0.01 && cosine >= 0.99,
                  fmt("(loss differs by %.2g relative, gradient cosine %.5f; tolerance 0.01 and "
                      "0.99)",
                      lossDiff, cosine),
                  json);
  }
  return all;
}

// Times the trainer's own step (train/TrainStep: batch-norm decay, forward and backward, the
// figures with the L2 term read one step late, the optimizer and the weight average), with the
// seed's recipe on the paper's model.
double benchmark(const c10::Device& cuda, const Options& o, bool pipeline) {
  const taxon::settings::TrainSettings
      recipe;  // the seed's: RMSProp 0.9/0.9/1.0, weight decay 4e-5
  taxon::model::InceptionSettings full;
  full.dropout = recipe.dropout;
  Net net = makeNet(full, cuda, true, 11);
  taxon::train::Optimizer optimizer(net.parameters, net.decay, recipe);
  taxon::train::WeightAverage average(net.parameters, recipe.emaDecay);
  taxon::train::StepOptions stepOptions;
  stepOptions.auxWeight = recipe.auxWeight;
  stepOptions.labelSmoothing = recipe.labelSmoothing;
  stepOptions.weightDecay = recipe.weightDecay;
  stepOptions.batchNormDecay = recipe.batchNormDecay;
  stepOptions.bf16 = true;
  stepOptions.numClasses = full.numClasses;
  taxon::train::TrainStep trainStep(net.model, optimizer, &average, net.parameters, net.decay,
                                    stepOptions);
  const double lr = 0.1 * o.batch / 256.0;
  const auto labels = torch::randint(0, 1000, {o.batch}, torch::kLong);
  const auto deviceImages = torch::randn({o.batch, 3, o.imageSize, o.imageSize})
                                .to(cuda)
                                .contiguous(at::MemoryFormat::ChannelsLast);
  const auto deviceLabels = labels.to(cuda);
  // Two host batches of uint8 pixels that alternate, as the loader delivers them.
  std::vector<taxon::data::Batch> host(2);
  for (std::size_t k = 0; k < host.size(); ++k) {
    auto& b = host[k];
    b.size = o.batch;
    b.height = o.imageSize;
    b.width = o.imageSize;
    const auto pixels = torch::randint(
        0, 256, {std::int64_t{o.batch} * o.imageSize * o.imageSize * 3}, torch::kByte);
    b.images.assign(pixels.data_ptr<std::uint8_t>(),
                    pixels.data_ptr<std::uint8_t>() + pixels.numel());
    b.labels.assign(labels.data_ptr<std::int64_t>(), labels.data_ptr<std::int64_t>() + o.batch);
  }
  taxon::data::BatchStager stager(cuda, /*channelsLast=*/true);
  std::chrono::steady_clock::time_point start;
  double lastLoss = 0.0;
  for (int step = 0; step < o.warmup + o.steps; ++step) {
    if (step == o.warmup) {
      while (trainStep.pending() > 0) {
        lastLoss = trainStep.takeFigures()->loss;
      }
      c10::cuda::device_synchronize();
      start = std::chrono::steady_clock::now();
    }
    torch::Tensor images = deviceImages;
    torch::Tensor target = deviceLabels;
    taxon::train::StepHooks hooks;
    if (pipeline) {
      auto& batch = host[static_cast<std::size_t>(step % 2)];
      batch.index = step;
      auto tensors = stager.take(batch);
      images = tensors.images;
      target = tensors.labels;
      hooks.afterBackward = [&] {  // the next batch's copy overlaps this step's kernels
        auto& next = host[static_cast<std::size_t>((step + 1) % 2)];
        next.index = step + 1;
        stager.stage(next);
      };
    }
    trainStep.run(images, target, lr, step, hooks);
    while (trainStep.pending() > 1) {  // as the trainer reads them: one step late
      lastLoss = trainStep.takeFigures()->loss;
    }
  }
  while (trainStep.pending() > 0) {
    lastLoss = trainStep.takeFigures()->loss;
  }
  c10::cuda::device_synchronize();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!std::isfinite(lastLoss)) {
    std::printf("warning: the benchmark's last loss is %g\n", lastLoss);
  }
  return o.batch * static_cast<double>(o.steps) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&] { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
    if (a == "--batch_size") {
      o.batch = value();
    } else if (a == "--image_size") {
      o.imageSize = value();
    } else if (a == "--steps") {
      o.steps = value();
    } else if (a == "--warmup_steps") {
      o.warmup = value();
    } else if (a == "--checks_only") {
      o.bench = false;
    } else if (a == "--bench_only") {
      o.checks = false;
    } else {
      std::fprintf(stderr,
                   "usage: taxon-gpu-bench [--batch_size 256] [--image_size 299] [--steps 60] "
                   "[--warmup_steps 15] [--checks_only | --bench_only]\n");
      return 2;
    }
  }
  if (!torch::cuda::is_available()) {
    std::printf("{\"error\": \"no CUDA device\"}\n");
    return 1;
  }
  const c10::Device cuda(c10::kCUDA, 0);
  at::globalContext().setBenchmarkCuDNN(true);
  std::string json;
  bool ok = true;
  if (o.checks) {
    ok = runChecks(cuda, json);
  }
  if (o.bench) {
    for (const bool pipeline : {false, true}) {
      const double rate = benchmark(cuda, o, pipeline);
      std::printf("Inception-v3 %dx%d, batch %d, bf16, channels-last, %s: %.1f images/sec\n",
                  o.imageSize, o.imageSize, o.batch,
                  pipeline ? "uint8 host batches (pinned, side stream)" : "batch on the GPU", rate);
      json += std::string(json.empty() ? "" : ", ") + "\"images_per_sec_" +
              (pipeline ? "pipeline" : "device") + "\": " + std::to_string(rate);
    }
    json += ", \"batch\": " + std::to_string(o.batch) + ", \"steps\": " + std::to_string(o.steps);
  }
  std::printf("{%s}\n", json.c_str());
  return ok ? 0 : 1;
}
