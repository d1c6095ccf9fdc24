// In-process inference latency of a trained model: Taxon's inference form (GraphRunner) in fp32
// and bf16, and the module tree it replaces, on random inputs of the model's size.
//   taxon_bench_infer CHECKPOINT_DIR THREADS BATCH [BATCH...]
// Prints one line per form and batch: "form batch median_ms images_per_sec". Medians of repeated
// runs after two warm-up runs; the first prediction (weights reordered for the shape) is not
// timed here but by `taxon classify` in run.sh.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "checkpoint/TrainedModel.hpp"
#include "core/torch/Device.hpp"
#include "deploy/torch/GraphRunner.hpp"
#include "deploy/torch/InceptionOnnx.hpp"

namespace {

using namespace taxon;

template <typename Fn>
double medianMs(Fn&& fn, int rounds) {
  fn();
  fn();
  std::vector<double> times;
  for (int i = 0; i < rounds; ++i) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    times.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

void report(const char* form, std::int64_t batch, double ms) {
  std::printf("%-22s %3lld %9.1f %8.1f\n", form, static_cast<long long>(batch), ms,
              1000.0 * static_cast<double>(batch) / ms);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s CHECKPOINT_DIR THREADS BATCH [BATCH...]\n", argv[0]);
    return 2;
  }
  torch::set_num_threads(std::stoi(argv[2]));
  auto trained = checkpoint::loadTrainedModel(argv[1], "cpu");
  deploy::OnnxProvenance provenance;
  provenance.categories = trained.categories;
  const auto graph = deploy::inceptionToOnnx(*trained.model, provenance);
  const auto side = trained.model->settings().imageSize;
  std::vector<std::pair<const char*, deploy::Precision>> forms = {
      {"taxon-fp32", deploy::Precision::Float32}};
  if (core::nativeBf16(c10::Device(c10::kCPU))) {
    forms.push_back({"taxon-bf16", deploy::Precision::BFloat16});
  }
  for (int a = 3; a < argc; ++a) {
    const std::int64_t batch = std::stoll(argv[a]);
    const int rounds = batch == 1 ? 21 : 5;
    const auto x = torch::rand({batch, 3, side, side}) * 2 - 1;
    for (const auto& [name, precision] : forms) {
      deploy::RunnerSettings settings;
      settings.precision = precision;
      const deploy::GraphRunner runner(graph, settings);
      report(name, batch, medianMs([&] { runner.run(x); }, rounds));
    }
    c10::InferenceMode inference;
    report("taxon-module-tree-fp32", batch, medianMs([&] { trained.model->forward(x); }, rounds));
  }
  return 0;
}
