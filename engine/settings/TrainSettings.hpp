// Everything that defines a training run: data, model, recipe, schedule and bookkeeping. Saved
// with every checkpoint (as JSON) so that a resumed run, `taxon eval` and `taxon classify` rebuild
// exactly the model that was trained. No torch types here: the CLI and the app fill it in.
//
// Recipes (each value can still be set on its own):
//   inception   the seed's (Szegedy et al. 2015 as TF-slim trains it): RMSProp with TensorFlow's
//               semantics (decay 0.9, momentum 0.9, epsilon 1.0), learning rate 0.1 per 256
//               images of global batch, x0.16 every 30 epochs (staircase), label smoothing 0.1,
//               auxiliary loss weight 0.4, weight decay 4e-5, batch-norm decay 0.9997, weight
//               average 0.9999, dropout 0.2 (keep 0.8).
//   small-data  for data sets of thousands to a few hundred thousand images trained for a few
//               epochs (Fashion-MNIST, transfer learning): SGD with momentum 0.9, learning
//               rate 0.4 per 256 images, one epoch of linear warm-up then a cosine decay to zero
//               over the run, batch-norm decay 0.99 and weight average 0.999 so that running
//               statistics and averages settle within an epoch, and random crops of at least
//               80% of the image and no colour distortion.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace taxon::settings {

enum class OptimizerKind { kRmsProp, kSgd };
enum class ScheduleKind { kStaircase, kCosine, kConstant };

struct TrainSettings {
  // --- where ---
  std::filesystem::path trainDir;  // checkpoints, metrics.jsonl, event files
  std::filesystem::path dataDir;   // record shards (see data/RecordSet.hpp)
  std::string device = "cpu";      // "cpu", "cuda" or "cuda:N"

  // --- model ---
  std::int64_t imageSize = 299;
  double depthMultiplier = 1.0;
  bool auxLogits = true;
  double dropout = 0.2;
  std::filesystem::path initFrom;  // torchvision state_dict to start from (empty: from scratch)

  // --- recipe ---
  std::string recipe = "inception";
  std::int64_t batchSize = 32;  // global batch
  OptimizerKind optimizer = OptimizerKind::kRmsProp;
  // Learning rate after warm-up; 0: learningRatePer256 x batchSize / 256.
  double learningRate = 0.0;
  double learningRatePer256 = 0.1;
  ScheduleKind schedule = ScheduleKind::kStaircase;
  double decayEpochs = 30.0;  // staircase: multiply by decayFactor every decayEpochs
  double decayFactor = 0.16;
  double warmupEpochs = 0.0;  // linear warm-up from 0 over this many epochs
  double rmsDecay = 0.9;
  double momentum = 0.9;
  double rmsEpsilon = 1.0;
  double labelSmoothing = 0.1;
  double auxWeight = 0.4;
  double weightDecay = 4e-5;       // L2 on convolution and fully connected weights
  double batchNormDecay = 0.9997;  // capped by (1 + step) / (10 + step), as the average
  double emaDecay = 0.9999;  // capped by (1 + step) / (10 + step), as TensorFlow's num_updates

  // --- distillation (Hinton et al. 2015): empty teacherDir trains on the labels alone ---
  // The teacher: another run's train dir (or one checkpoint file of it), used in evaluation form
  // (averaged weights). A new run records which checkpoint it learns from (teacherStep, and
  // teacherFingerprint, a checksum of its weights); a resumed run loads that one and checks it.
  std::filesystem::path teacherDir;
  std::int64_t teacherStep = 0;  // 0: not recorded yet (the newest checkpoint is taken)
  std::string teacherFingerprint;
  // Loss = (1 - distillWeight) x cross-entropy on the labels + distillWeight x temperature^2 x
  // KL(teacher's softened outputs || student's), both softened by the temperature.
  double temperature = 4.0;
  double distillWeight = 0.9;
  bool distilling() const { return !teacherDir.empty(); }

  // --- length ---
  std::int64_t maxSteps = 10000000;  // the seed's default; 0: no step limit
  double maxEpochs = 0.0;            // 0: no epoch limit; at least one of the two must be set

  // --- data pipeline ---
  std::uint64_t seed = 1;
  int loaderThreads = 0;  // decode threads; 0: one per core
  int shuffleBuffer = 8192;
  // Training images get a random crop, flip and colour change (the seed's distortions); off: each
  // image whole, resized (for tests that must memorize, and for ablations).
  bool distort = true;
  // Smallest random crop, as a fraction of the image's area: the seed's 0.05 suits ImageNet's
  // large photos; small-data uses 0.8 (a crop of 5% of a 28 x 28 image is 6 x 6 pixels; even 0.5
  // slowed learning on Fashion-MNIST to 73% after an epoch).
  double minCropArea = 0.05;
  // The seed's random brightness, saturation, hue and contrast (off in small-data: on a few
  // thousand steps they slow learning more than they help; measured on Fashion-MNIST).
  bool colourDistort = true;
  int torchThreads = 0;  // intra-op threads on the CPU; 0: LibTorch's default

  // --- replicas (data parallel) and device options ---
  // Replicas in this process: one per GPU on CUDA (--num_gpus), ranks on the CPU (--replicas,
  // mostly for tests). A torchrun or Slurm launch multiplies it by the number of processes. The
  // global batch (batchSize) is split evenly between all replicas.
  int replicas = 1;
  bool syncBatchNorm = false;  // batch-norm statistics over every replica's batch
  double bucketMiB = 25.0;     // gradient all-reduce buckets (torch DDP's default)
  // A collective that does not finish in this time ends the run naming the silent rank. It must
  // exceed the longest pause of rank 0 alone (an evaluation during training).
  double collectiveTimeoutSeconds = 1800.0;
  // "bf16": autocast to bfloat16 (GPU or CPU); "fp32"; "auto": bf16 on a GPU of compute
  // capability 8.0 or newer, fp32 elsewhere (on CPUs bf16 cost accuracy: see TrainLoop).
  std::string precision = "auto";
  bool channelsLast = true;    // NHWC activations and weights (tensor cores and oneDNN like them)
  bool cudnnBenchmark = true;  // CUDA: cuDNN picks the fastest algorithms for the fixed shapes

  // --- bookkeeping ---
  std::int64_t logEverySteps = 10;        // the seed's line and event-file scalars
  std::int64_t saveEverySteps = 5000;     // checkpoints (and one at the end or when stopped)
  int keepCheckpoints = 5;                // the newest K are kept
  std::int64_t evalEverySteps = 0;        // validation during training; 0: at the end only
  std::int64_t evalExamples = 10000;      // validation images per evaluation; 0: all
  std::string evalSubset = "validation";  // the split evaluated during training
  // Training images from which batch-norm statistics are recomputed for the averaged weights at
  // each evaluation and checkpoint (see eval::recalibrateBatchNorm); 0: the training network's.
  std::int64_t recalibrateExamples = 4096;
  bool evalAtEnd = true;

  // Sets every recipe value to the named recipe's (see above). Throws core::UsageError for an
  // unknown name.
  void applyRecipe(std::string_view name);
  // learningRatePer256 x batchSize / 256 unless learningRate is set. Inline: bench/gpu builds the
  // optimizer without this file's .cpp (which needs the JSON library).
  double baseLearningRate() const {
    return learningRate > 0.0 ? learningRate
                              : learningRatePer256 * static_cast<double>(batchSize) / 256.0;
  }
  // Every problem at once, one sentence each; empty when the settings are usable.
  std::vector<std::string> validate() const;
};

std::string_view name(OptimizerKind kind);
std::string_view name(ScheduleKind kind);
// Throw core::UsageError naming the accepted values.
OptimizerKind parseOptimizer(std::string_view text);
ScheduleKind parseSchedule(std::string_view text);

}  // namespace taxon::settings
