// Throughput of the training loader: TFRecord shards -> decode -> Inception training
// preprocessing -> batches, with a fixed number of decode threads.
//   taxon_bench_loader SHARD_DIR [THREADS=2] [BATCH=32] [SIZE=299]
// Prints two lines "ours-uint8 ..." (the batches the trainer receives; on a GPU the scaling to
// [-1, 1] runs there) and "ours-float ..." (the same plus toTensors() on the CPU, i.e. float
// N x 3 x H x W in [-1, 1], the same output as torchvision's pipeline), each with images/sec
// measured from the first batch to the end of the epoch (thread and buffer start-up excluded).
#include <chrono>
#include <cstdio>
#include <string>

#include "data/Loader.hpp"
#include "data/torch/BatchTensors.hpp"
#include "records/RecordSet.hpp"

using namespace taxon;
using Clock = std::chrono::steady_clock;

namespace {

double run(const data::LoaderSettings& settings, bool tensors, std::int64_t& images) {
  data::Loader loader(settings);
  auto batch = loader.next();
  if (!batch) {
    return 0.0;
  }
  const auto start = Clock::now();
  images = 0;
  double checksum = 0.0;
  while ((batch = loader.next())) {
    images += batch->size;
    if (tensors) {
      checksum += data::toTensors(*batch).images[0][0][0][0].item<float>();
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (loader.stats().imagesSkipped > 0) {
    std::fprintf(stderr, "warning: %lld images skipped\n",
                 static_cast<long long>(loader.stats().imagesSkipped));
  }
  (void)checksum;
  return static_cast<double>(images) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s SHARD_DIR [THREADS=2] [BATCH=32] [SIZE=299]\n", argv[0]);
    return 2;
  }
  try {
    data::LoaderSettings settings;
    settings.shards = records::listShards(argv[1], "train-");
    settings.workerThreads = argc > 2 ? std::stoi(argv[2]) : 2;
    settings.batchSize = argc > 3 ? std::stoi(argv[3]) : 32;
    const int size = argc > 4 ? std::stoi(argv[4]) : 299;
    settings.preprocess.width = size;
    settings.preprocess.height = size;
    settings.readerThreads = 1;
    settings.shuffleBuffer = 1024;
    for (const bool tensors : {false, true}) {
      std::int64_t images = 0;
      const double rate = run(settings, tensors, images);
      std::printf("%s threads=%d images=%lld images_per_sec=%.1f\n",
                  tensors ? "ours-float" : "ours-uint8", settings.workerThreads,
                  static_cast<long long>(images), rate);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
