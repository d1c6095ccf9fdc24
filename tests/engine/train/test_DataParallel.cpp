// Data-parallel training on the CPU with Gloo: replicas as threads of one process, meeting through
// the in-memory store (the process launch is tested end to end in tests/e2e/test_Parallel.cpp).
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <atomic>
#include <barrier>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include <unistd.h>

#include "TrainTestData.hpp"
#include "checkpoint/Checkpoint.hpp"
#include "checkpoint/TrainedModel.hpp"
#include "core/Error.hpp"
#include "data/Loader.hpp"
#include "dist/Distributed.hpp"
#include "records/RecordSet.hpp"
#include "train/ReplicaSync.hpp"
#include "train/Trainer.hpp"

namespace taxon::test {
namespace {

namespace fs = std::filesystem;

// Synchronized batch norm's collectives through a replica's group, as the trainer's.
struct GroupCollectives : model::ReplicaGroup {
  explicit GroupCollectives(dist::Group& g) : group(g) {}
  void sum(torch::Tensor& t) override { group.allReduceSum(t); }
  torch::Tensor gather(const torch::Tensor& t) override { return group.allGatherTensor(t); }
  dist::Group& group;
};

// Runs fn(rank, group) on `size` threads joined in one group; rethrows the first failure.
template <typename Fn>
void onReplicas(int size, Fn fn) {
  const auto rendezvous = dist::Rendezvous::inMemory();
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(size));
  {
    std::vector<std::jthread> threads;
    for (int r = 0; r < size; ++r) {
      threads.emplace_back([&, r] {
        try {
          dist::GroupOptions options;
          options.rank = r;
          options.size = size;
          options.timeout = std::chrono::seconds(30);
          dist::Group group(*rendezvous, options);
          fn(r, group);
        } catch (...) {
          errors[static_cast<std::size_t>(r)] = std::current_exception();
        }
      });
    }
  }
  for (const auto& e : errors) {
    if (e) {
      std::rethrow_exception(e);
    }
  }
}

TEST(DataParallel, GroupCollectivesAgreeAcrossThreads) {
  std::vector<std::vector<std::int64_t>> gathered(3);
  std::vector<torch::Tensor> sums(3), broadcasts(3), stacked(3);
  onReplicas(3, [&](int r, dist::Group& group) {
    EXPECT_EQ(group.rank(), r);
    EXPECT_EQ(group.size(), 3);
    auto t = torch::full({4}, static_cast<float>(r + 1));
    group.allReduceSum(t);
    sums[static_cast<std::size_t>(r)] = t;
    std::vector<torch::Tensor> b{torch::full({2, 2}, static_cast<double>(r)),
                                 torch::full({3}, static_cast<std::int64_t>(10 * r))};
    group.broadcast(b, 1);
    broadcasts[static_cast<std::size_t>(r)] =
        torch::cat({b[0].reshape(-1), b[1].to(torch::kDouble)});
    gathered[static_cast<std::size_t>(r)] = group.allGather({r, 100 + r});
    stacked[static_cast<std::size_t>(r)] =
        group.allGatherTensor(torch::full({2}, static_cast<float>(r)));
  });
  for (int r = 0; r < 3; ++r) {
    EXPECT_TRUE(torch::equal(sums[r], torch::full({4}, 6.0f)));
    EXPECT_TRUE(torch::equal(
        broadcasts[r], torch::tensor({1.0, 1.0, 1.0, 1.0, 10.0, 10.0, 10.0}, torch::kDouble)));
    EXPECT_EQ(gathered[r], (std::vector<std::int64_t>{0, 100, 1, 101, 2, 102}));
    EXPECT_TRUE(
        torch::equal(stacked[r], torch::tensor({0.0f, 0.0f, 1.0f, 1.0f, 2.0f, 2.0f}).view({3, 2})));
  }
}

// Replicas of one process (one thread and group per GPU) make their first collectives at the same
// moment. LibTorch's flight recorder, on by default, adds each group to a shared table without
// its lock then, and crashed this about once in 15 runs of two replicas; Taxon turns it off.
// Eight replicas, twenty times over: with the recorder on (TORCH_FR_BUFFER_SIZE=2000) this
// crashes in every run (5 of 5).
TEST(DataParallel, ReplicasOfOneProcessStartTheirCollectivesTogether) {
  for (int round = 0; round < 20; ++round) {
    std::vector<float> sums(8);
    std::barrier together(8);
    onReplicas(8, [&](int r, dist::Group& group) {
      auto t = torch::full({16}, static_cast<float>(r));
      together.arrive_and_wait();
      group.allReduceSum(t);
      const auto gathered = group.allGatherTensor(t.slice(0, 0, 2));
      sums[static_cast<std::size_t>(r)] = gathered.sum().item<float>();
    });
    for (const auto s : sums) {
      ASSERT_EQ(s, 8 * 2 * 28.0f) << "round " << round;
    }
  }
}

// c10d's Reducer, as torch's DDP uses it: after backward() every replica's gradients are the
// mean of the replicas' own gradients, and they are bitwise the same everywhere.
TEST(DataParallel, GradientAveragerGivesEveryReplicaTheMeanGradient) {
  torch::manual_seed(3);
  torch::nn::Sequential reference(torch::nn::Linear(6, 5), torch::nn::ReLU(),
                                  torch::nn::Linear(5, 3));
  const auto inputs = torch::randn({2, 4, 6});
  // Expected: the mean of the two replicas' gradients, computed on one copy.
  std::vector<torch::Tensor> expected;
  for (auto& p : reference->parameters()) {
    expected.push_back(torch::zeros_like(p));
  }
  for (int r = 0; r < 2; ++r) {
    reference->zero_grad();
    reference->forward(inputs[r]).square().sum().backward();
    for (std::size_t i = 0; i < expected.size(); ++i) {
      expected[i] += reference->parameters()[i].grad() / 2.0;
    }
  }
  std::vector<std::vector<torch::Tensor>> grads(2);
  onReplicas(2, [&](int r, dist::Group& group) {
    auto net = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(reference->clone());
    dist::GradientAverager averager(group, net->parameters(), 0.0001);  // several buckets
    for (int step = 0; step < 3; ++step) {  // later steps reuse the buckets
      // As the trainer does: gradients zeroed in place (after the first step).
      for (auto& p : net->parameters()) {
        if (p.grad().defined()) {
          p.mutable_grad().zero_();
        }
      }
      averager.prepare();
      net->forward(inputs[r]).square().sum().backward();
    }
    for (auto& p : net->parameters()) {
      grads[static_cast<std::size_t>(r)].push_back(p.grad().clone());
    }
  });
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_TRUE(torch::equal(grads[0][i], grads[1][i])) << "parameter " << i;
    EXPECT_TRUE(torch::allclose(grads[0][i], expected[i], 1e-5, 1e-6)) << "parameter " << i;
  }
}

// Bytes of this process's memory that are resident (/proc/self/statm).
std::int64_t residentBytes() {
  std::ifstream statm("/proc/self/statm");
  std::int64_t size = 0;
  std::int64_t resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::int64_t>(sysconf(_SC_PAGESIZE));
}

// As torch's DDP: the buckets are rebuilt once, in the order the first step's gradients became
// ready, and from then on the Reducer keeps no record of the steps. Without the rebuild it
// recorded every ready gradient of every step (here 500 a step, 16 bytes each, per replica: about
// 13 MB over this run), forever.
TEST(DataParallel, GradientAveragerRebuildsItsBucketsOnceAndStaysFlatInMemory) {
  constexpr int kTensors = 500;
  constexpr int kSteps = 1000;
  std::vector<int> rebuilds(2, -1);
  std::vector<torch::Tensor> grads(2);
  std::int64_t before = 0;
  std::int64_t after = 0;
  onReplicas(2, [&](int r, dist::Group& group) {
    std::vector<torch::Tensor> params;
    for (int i = 0; i < kTensors; ++i) {
      params.push_back(torch::zeros({4}).requires_grad_(true));
    }
    dist::GradientAverager averager(group, params);
    const auto x = torch::full({kTensors, 4}, static_cast<float>(r + 1));
    for (int step = 0; step < kSteps; ++step) {
      for (auto& p : params) {
        if (p.grad().defined()) {
          p.mutable_grad().zero_();
        }
      }
      averager.prepare();
      (torch::stack(params) * x).sum().backward();
      if (r == 0 && step == 200) {
        before = residentBytes();
      }
    }
    if (r == 0) {
      after = residentBytes();
    }
    rebuilds[static_cast<std::size_t>(r)] = averager.rebuilds();
    grads[static_cast<std::size_t>(r)] = params[kTensors - 1].grad().clone();
  });
  EXPECT_EQ(rebuilds[0], 1);
  EXPECT_EQ(rebuilds[1], 1);
  // After the rebuild the gradients are still averaged: (1 + 2) / 2 everywhere.
  EXPECT_TRUE(torch::equal(grads[0], torch::full({4}, 1.5f)));
  EXPECT_TRUE(torch::equal(grads[1], torch::full({4}, 1.5f)));
  std::printf("resident memory from step 200 to %d: %+.1f MB\n", kSteps,
              static_cast<double>(after - before) / 1e6);
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer keeps freed memory in quarantine (256 MB by default), so resident memory
  // grows with every allocation, leak or not: the bound holds in the other builds only.
  (void)after;
#else
  EXPECT_LT(after - before, 5'000'000);
#endif
}

// A parameter that gets no gradient in a step (here: a head the loss does not use) is named at the
// next step, before it could leave its bucket unaveraged.
TEST(DataParallel, AParameterWithoutAGradientIsAnErrorNotASilentDivergence) {
  EXPECT_THROW(onReplicas(2,
                          [&](int r, dist::Group& group) {
                            auto used = torch::ones({3}).requires_grad_(true);
                            auto unused = torch::ones({3}).requires_grad_(true);
                            dist::GradientAverager averager(group, {used, unused});
                            for (int step = 0; step < 2; ++step) {
                              averager.prepare();
                              (used * static_cast<float>(r)).sum().backward();
                            }
                          }),
               std::exception);
}

// Steps with updates in between: two replicas follow the single model trained on the mean of
// their losses.
TEST(DataParallel, ReplicasFollowTheSingleModelOverSeveralSteps) {
  torch::manual_seed(4);
  torch::nn::Sequential reference(torch::nn::Linear(6, 5), torch::nn::Tanh(),
                                  torch::nn::Linear(5, 3));
  const auto inputs = torch::randn({3, 2, 4, 6});
  auto single = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(reference->clone());
  torch::optim::SGD singleOptimizer(single->parameters(),
                                    torch::optim::SGDOptions(0.1).momentum(0.9));
  for (int step = 0; step < 3; ++step) {
    singleOptimizer.zero_grad();
    ((single->forward(inputs[step][0]).square().sum() +
      single->forward(inputs[step][1]).square().sum()) /
     2.0)
        .backward();
    singleOptimizer.step();
  }
  std::vector<std::vector<torch::Tensor>> params(2);
  onReplicas(2, [&](int r, dist::Group& group) {
    auto net = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(reference->clone());
    torch::optim::SGD optimizer(net->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
    dist::GradientAverager averager(group, net->parameters());
    for (int step = 0; step < 3; ++step) {
      averager.prepare();
      const auto loss = net->forward(inputs[step][r]).square().sum();
      optimizer.zero_grad(false);
      loss.backward();
      optimizer.step();
    }
    for (auto& p : net->parameters()) {
      params[static_cast<std::size_t>(r)].push_back(p.detach().clone());
    }
  });
  const auto expected = single->parameters();
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_TRUE(torch::equal(params[0][i], params[1][i])) << "parameter " << i;
    EXPECT_TRUE(torch::allclose(params[0][i], expected[i], 1e-5, 1e-6)) << "parameter " << i;
  }
}

// Synchronized batch norm over two replicas equals batch norm over the combined batch, values
// and input gradients.
TEST(DataParallel, SyncBatchNormEqualsBatchNormOverTheCombinedBatch) {
  for (const auto side : {5, 2, 1}) {
    torch::manual_seed(5);
    const auto x = torch::randn({8, 3, side, side}) * 2.0 + 1.0;
    const auto weight = torch::rand({3}) + 0.5;
    const auto upstream = torch::randn({8, 3, side, side});
    torch::nn::BatchNorm2d single(torch::nn::BatchNormOptions(3).eps(0.001));
    single->weight.data().copy_(weight);
    auto xs = x.clone().requires_grad_(true);
    (single->forward(xs) * upstream).sum().backward();

    std::vector<torch::Tensor> gradX(2), gradW(2), runningVar(2);
    onReplicas(2, [&](int r, dist::Group& group) {
      torch::nn::BatchNorm2d bn(torch::nn::BatchNormOptions(3).eps(0.001));
      bn->weight.data().copy_(weight);
      auto part = x.slice(0, 4 * r, 4 * r + 4).clone().requires_grad_(true);
      const auto sum =
          std::make_shared<GroupCollectives>(group);  // outlives the backward pass, as it must
      const auto y = model::syncBatchNorm(part, *bn, sum);
      (y * upstream.slice(0, 4 * r, 4 * r + 4)).sum().backward();
      gradX[static_cast<std::size_t>(r)] = part.grad();
      gradW[static_cast<std::size_t>(r)] = bn->weight.grad().clone();
      runningVar[static_cast<std::size_t>(r)] = bn->running_var.clone();
    });
    std::printf("side %d: gradX %g gradW %g\n", side,
                (torch::cat({gradX[0], gradX[1]}) - xs.grad()).abs().max().item<double>(),
                (gradW[0] + gradW[1] - single->weight.grad()).abs().max().item<double>());
    EXPECT_TRUE(torch::allclose(torch::cat({gradX[0], gradX[1]}), xs.grad(), 1e-4, 1e-5)) << side;
    // Each replica holds its share of the parameter gradient; the averager's sum gives the total.
    EXPECT_TRUE(torch::allclose(gradW[0] + gradW[1], single->weight.grad(), 1e-4, 1e-5)) << side;
    EXPECT_TRUE(torch::allclose(runningVar[0], single->running_var, 1e-5, 1e-6)) << side;
    EXPECT_TRUE(torch::allclose(runningVar[1], single->running_var, 1e-5, 1e-6)) << side;
  }
}

// Replicas with batches of different sizes (3, 5 and 2 images): the combination of their
// statistics weighs each by its count, and the result is the combined batch's, in double to
// rounding. Through the in-process replica group (threads meeting in memory).
TEST(DataParallel, SyncBatchNormCombinesUnevenBatchesExactly) {
  torch::manual_seed(6);
  const std::vector<std::int64_t> sizes{3, 5, 2};
  const auto x = torch::randn({10, 4, 3, 3}, torch::kDouble) * 3.0 + 5.0;
  const auto upstream = torch::randn({10, 4, 3, 3}, torch::kDouble);
  torch::nn::BatchNorm2d single(torch::nn::BatchNormOptions(4).eps(0.001));
  single->to(torch::kDouble);
  auto xs = x.clone().requires_grad_(true);
  (single->forward(xs) * upstream).sum().backward();

  const auto groups = model::inProcessReplicas(3);
  std::vector<torch::Tensor> y(3), gradX(3), gradW(3), runningMean(3), runningVar(3);
  {
    std::vector<std::jthread> threads;
    for (int r = 0; r < 3; ++r) {
      threads.emplace_back([&, r] {
        const std::int64_t begin = r == 0 ? 0 : (r == 1 ? 3 : 8);
        torch::nn::BatchNorm2d bn(torch::nn::BatchNormOptions(4).eps(0.001));
        bn->to(torch::kDouble);
        auto part = x.slice(0, begin, begin + sizes[r]).clone().requires_grad_(true);
        const auto out = model::syncBatchNorm(part, *bn, groups[r]);
        (out * upstream.slice(0, begin, begin + sizes[r])).sum().backward();
        y[r] = out.detach();
        gradX[r] = part.grad();
        gradW[r] = bn->weight.grad().clone();
        runningMean[r] = bn->running_mean.clone();
        runningVar[r] = bn->running_var.clone();
      });
    }
  }
  const auto expectedY = single->forward(x).detach();  // (running statistics move again: unused)
  EXPECT_TRUE(torch::allclose(torch::cat(y), expectedY, 1e-10, 1e-12));
  EXPECT_TRUE(torch::allclose(torch::cat(gradX), xs.grad(), 1e-10, 1e-12));
  EXPECT_TRUE(torch::allclose(gradW[0] + gradW[1] + gradW[2], single->weight.grad(), 1e-10, 1e-12));
  torch::nn::BatchNorm2d once(torch::nn::BatchNormOptions(4).eps(0.001));
  once->to(torch::kDouble);
  once->forward(x);
  for (int r = 0; r < 3; ++r) {
    EXPECT_TRUE(torch::allclose(runningMean[r], once->running_mean, 1e-10, 1e-12)) << r;
    EXPECT_TRUE(torch::allclose(runningVar[r], once->running_var, 1e-10, 1e-12)) << r;
  }
}

// The whole network, one step: two replicas with synchronized batch norm give the logits and the
// averaged gradients of one network on the combined batch; without the synchronization they are
// far off. In double precision: in float, any two correct computations of this network's
// gradients (one replica or two, oneDNN's AVX2 or AVX-512 kernels) differ by up to 8 % of the
// largest, because a rounding-level difference flips the odd discrete decision (a ReLU or max-pool
// choice between values within rounding of each other), and that reroutes the gradient below it
// (bench/numerics/run.sh measures it). In double no such flip happens, and the comparison can be
// tight on every instruction set.
TEST(DataParallel, SynchronizedInceptionMatchesTheCombinedBatch) {
  model::InceptionSettings settings;
  settings.numClasses = 4;
  settings.depthMultiplier = 0.1;
  settings.imageSize = 75;
  settings.dropout = 0.0;
  torch::manual_seed(9);
  model::InceptionV3 single(settings);
  single->to(torch::kDouble);
  single->train();
  const auto images = torch::rand({8, 3, 75, 75}, torch::kDouble) * 2.0 - 1.0;
  const auto labels = torch::randint(0, 4, {8}, torch::kInt64);
  const auto lossOf = [](const model::InceptionOutput& o, const torch::Tensor& target) {
    return torch::nn::functional::cross_entropy(o.logits, target) +
           0.4 * torch::nn::functional::cross_entropy(o.aux, target);
  };
  std::vector<torch::Tensor> start;
  for (const auto& p : single->parameters()) {
    start.push_back(p.detach().clone());
  }
  const auto out = single->forward(images);
  lossOf(out, labels).backward();
  std::vector<torch::Tensor> g;
  for (auto& p : single->parameters()) {
    g.push_back(p.grad().reshape(-1));
  }
  const auto expected = torch::cat(g);
  const double scale = expected.abs().max().item<double>();

  const auto replicas = [&](bool synchronize) {
    std::vector<torch::Tensor> logits(2), grads(2);
    onReplicas(2, [&](int r, dist::Group& group) {
      model::InceptionV3 net(settings);
      net->to(torch::kDouble);
      {
        torch::NoGradGuard noGrad;
        auto params = net->parameters();
        for (std::size_t i = 0; i < params.size(); ++i) {
          params[i].copy_(start[i]);
        }
      }
      net->train();
      const auto sum = std::make_shared<GroupCollectives>(group);
      if (synchronize) {
        net->synchronizeBatchNorm(sum);
      }
      dist::GradientAverager averager(group, net->parameters());
      averager.prepare();
      const auto o = net->forward(images.slice(0, 4 * r, 4 * r + 4));
      lossOf(o, labels.slice(0, 4 * r, 4 * r + 4)).backward();
      logits[static_cast<std::size_t>(r)] = o.logits.detach();
      std::vector<torch::Tensor> mine;
      for (auto& p : net->parameters()) {
        mine.push_back(p.grad().reshape(-1));
      }
      grads[static_cast<std::size_t>(r)] = torch::cat(mine);
    });
    EXPECT_TRUE(torch::equal(grads[0], grads[1]));  // every replica applies the same update
    return std::make_pair((torch::cat(logits) - out.logits.detach()).abs().max().item<double>(),
                          (grads[0] - expected).abs().max().item<double>() / scale);
  };
  const auto [syncedLogits, syncedGrads] = replicas(true);
  const auto [ownLogits, ownGrads] = replicas(false);
  EXPECT_LT(syncedLogits, 1e-9);
  EXPECT_LT(syncedGrads, 1e-9);
  EXPECT_GT(ownLogits, 0.1);
  EXPECT_GT(ownGrads, 0.1);
  std::printf(
      "largest difference from the combined batch: logits %.2g (own batch norm: %.2g), "
      "gradients %.2g of the largest (own: %.2g)\n",
      syncedLogits, ownLogits, syncedGrads, ownGrads);
}

// Deterministic data and model for comparing runs: whole images in file order, no dropout.
settings::TrainSettings comparableRun(const fs::path& trainDir, const fs::path& dataDir) {
  auto s = tinyRun(trainDir, dataDir);
  s.distort = false;
  s.shuffleBuffer = 1;
  s.dropout = 0.0;
  s.optimizer = settings::OptimizerKind::kSgd;
  s.schedule = settings::ScheduleKind::kConstant;
  // Small steps: this tiny network's gradients are large, and a large rate would amplify float
  // rounding (summation order differs between the runs) into different trajectories.
  s.learningRate = 0.002;
  s.maxSteps = 4;
  s.torchThreads = 1;
  s.collectiveTimeoutSeconds = 60;
  // float32 on every CPU: these runs are compared to float rounding, and bf16 autocast (the
  // default where the CPU has it) rounds each layer's output to 3 digits, differently for a batch
  // of 8 and two of 4 (1-2 % in the first loss).
  s.precision = "fp32";
  return s;
}

// How far the first step's update of run B is from run A's: ||gB - gA|| / ||gA|| over every
// parameter's gradient (SGD's first buffer) at once. Two correct float computations of this tiny
// network's step agree to 1e-4 unless a rounding-level difference flips a discrete decision (a ReLU
// or max-pool choice between values within rounding of each other), which moves the gradients
// below it by 2-3 % (measured on oneDNN's AVX2,
// AVX-512 and SSE4.1 kernels; see SynchronizedInceptionMatchesTheCombinedBatch for the exact
// comparison in double). Unsynchronized batch norm moves it by more than 30 %.
double stepDifference(const checkpoint::CheckpointData& a, const checkpoint::CheckpointData& b) {
  std::vector<torch::Tensor> ga, gb;
  EXPECT_EQ(a.optimizer.size(), b.optimizer.size());
  for (std::size_t i = 0; i < a.optimizer.size() && i < b.optimizer.size(); ++i) {
    EXPECT_EQ(a.optimizer[i].first, b.optimizer[i].first);
    ga.push_back(a.optimizer[i].second.reshape(-1).to(torch::kDouble));
    gb.push_back(b.optimizer[i].second.reshape(-1).to(torch::kDouble));
  }
  const auto x = torch::cat(ga);
  const auto y = torch::cat(gb);
  return ((y - x).norm() / x.norm()).item<double>();
}

class DataParallelTraining : public ::testing::Test {
 protected:
  void SetUp() override { writeNoisyRecords(dir_ / "records", 64); }
  // One step of comparableRun in dir_/NAME.
  settings::TrainSettings oneStep(const std::string& name) {
    auto s = comparableRun(dir_ / name, dir_ / "records");
    s.maxSteps = 1;
    return s;
  }
  TempDir dir_;
};

// Two replicas with synchronized batch norm take the step of one replica with their combined
// batch: the same loss and, after the update, the same weights within float rounding (see
// SynchronizedInceptionMatchesTheCombinedBatch for why one step). The replicas' own weights agree
// exactly: the trainer compares them at every checkpoint and stops if they differ.
TEST_F(DataParallelTraining, TwoReplicasEqualOneWithTheCombinedBatch) {
  const auto single = train::train(oneStep("one"), false, {});
  auto two = oneStep("two");
  two.replicas = 2;
  two.syncBatchNorm = true;
  std::vector<std::string> logs;
  train::TrainCallbacks callbacks;
  callbacks.onLog = [&](const std::string& line) { logs.push_back(line); };
  const auto pair = train::train(two, false, callbacks);
  ASSERT_EQ(single.step, 1);
  ASSERT_EQ(pair.step, 1);
  ASSERT_FALSE(logs.empty());
  EXPECT_NE(logs.front().find("and 1 more replica(s) (4 images each per step, synchronized"),
            std::string::npos)
      << logs.front();
  const auto a = loggedCrossEntropies(dir_ / "one");
  const auto b = loggedCrossEntropies(dir_ / "two");
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_NEAR(a[0], b[0], 1e-4 * std::max(1.0, std::abs(a[0])));
  const auto ca = checkpoint::readCheckpoint(single.lastCheckpoint);
  const auto cb = checkpoint::readCheckpoint(pair.lastCheckpoint);
  ASSERT_EQ(ca.model.size(), cb.model.size());
  const double difference = stepDifference(ca, cb);
  std::printf("one step's update: %.2e of its size from the combined batch's\n", difference);
  EXPECT_LT(difference, 0.1);
  // Both replicas' positions are saved.
  EXPECT_EQ(cb.replicaPositions.size(), 4u);
}

// Distillation on two replicas: each replica's teacher computes the outputs of its own half of
// the batch, and the step (its labels' and its teacher's parts, and the update) is the single
// replica's with the combined batch.
TEST_F(DataParallelTraining, TwoReplicasDistilAsOneWithTheCombinedBatch) {
  auto teacher = comparableRun(dir_ / "teacher", dir_ / "records");
  teacher.maxSteps = 2;
  ASSERT_EQ(train::train(teacher, false, {}).step, 2);
  const auto distilled = [&](const std::string& name, int replicas) {
    auto s = oneStep(name);
    s.teacherDir = dir_ / "teacher";
    s.temperature = 2.0;
    s.distillWeight = 0.5;
    s.replicas = replicas;
    s.syncBatchNorm = replicas > 1;
    return train::train(s, false, {});
  };
  const auto single = distilled("one", 1);
  const auto pair = distilled("two", 2);
  for (const std::string key : {"distill_loss", "cross_entropy"}) {
    const auto a = loggedStepFigures(dir_ / "one", key);
    const auto b = loggedStepFigures(dir_ / "two", key);
    ASSERT_EQ(a.size(), 1u);
    ASSERT_EQ(b.size(), 1u);
    EXPECT_GT(a[0], 0.0) << key;
    EXPECT_NEAR(a[0], b[0], 1e-4 * std::max(1.0, std::abs(a[0]))) << key;
  }
  EXPECT_LT(stepDifference(checkpoint::readCheckpoint(single.lastCheckpoint),
                           checkpoint::readCheckpoint(pair.lastCheckpoint)),
            0.1);
}

// A run's initial weights come from its seed alone: networks built on other threads meanwhile (a
// replica's teacher, the app's classifier or size line: LibTorch's modules draw from the CPU
// generator in their constructors) wait for the seeded build instead of drawing in between.
TEST(DataParallel, NetworksBuiltOnOtherThreadsLeaveTheSeededWeightsAlone) {
  model::InceptionSettings settings;
  settings.numClasses = 4;
  settings.depthMultiplier = 0.1;
  settings.imageSize = 75;
  const train::Replica replica;
  const auto reference = train::createReplicaNetwork(settings, 7, replica).net;
  std::atomic<bool> done = false;
  std::atomic<int> built = 0;
  std::thread builder([&] {
    while (!done) {
      model::InceptionV3 other(settings, /*initialize=*/false);
      ++built;
    }
  });
  bool same = true;
  for (int i = 0; i < 8; ++i) {
    const auto net = train::createReplicaNetwork(settings, 7, replica).net;
    const auto a = reference->parameters();
    const auto b = net->parameters();
    for (std::size_t p = 0; p < a.size(); ++p) {
      same = same && a[p].equal(b[p]);
    }
  }
  done = true;
  builder.join();
  EXPECT_GT(built.load(), 0);
  EXPECT_TRUE(same);
}

// A pause much longer than the collective timeout: every replica holds after the same step,
// outside any collective, and the run then finishes. (Held by the leader alone, the other replica
// would wait in the next step's all-reduce and fail after the timeout.)
TEST_F(DataParallelTraining, APauseLongerThanTheCollectiveTimeoutHoldsEveryReplica) {
  auto s = comparableRun(dir_ / "run", dir_ / "records");
  s.replicas = 2;
  s.maxSteps = 6;
  s.collectiveTimeoutSeconds = 1;
  std::atomic<bool> paused{false};
  std::atomic<int> holds{0};
  std::atomic<std::int64_t> leaderStep{0};
  std::atomic<std::int64_t> heldAt{0};
  train::TrainCallbacks callbacks;
  callbacks.onStep = [&](const train::StepMetrics& m) {
    leaderStep = m.step;
    if (m.step == 2) {
      paused = true;
    }
  };
  callbacks.pauseRequested = [&] { return paused.load(); };
  callbacks.holdWhilePaused = [&](const std::stop_token& stop) {
    // The leader holds after its step-4 callback; the other replica may get there first.
    std::int64_t seen = leaderStep.load();
    std::int64_t before = heldAt.load();
    while (seen > before && !heldAt.compare_exchange_weak(before, seen)) {
    }
    if (holds.fetch_add(1) == 0) {
      std::this_thread::sleep_for(std::chrono::seconds(3));  // three collective timeouts
      paused = false;
    }
    while (paused && !stop.stop_requested()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  };
  const auto result = train::train(s, false, callbacks);
  EXPECT_EQ(result.step, 6);
  EXPECT_FALSE(result.stopped);
  EXPECT_EQ(holds.load(), 2);  // both replicas, once
  // Asked in step 2's callback, which comes one step late (while step 3 runs: the figures are read
  // without waiting for the device), so the request travels in step 3's figures, which arrive
  // during step 4: both hold after step 4.
  EXPECT_EQ(heldAt.load(), 4);
  EXPECT_EQ(loggedCrossEntropies(dir_ / "run").size(), 6u);
}

// Without synchronized batch norm each replica normalizes its own batch: a different (valid) run.
TEST_F(DataParallelTraining, UnsynchronizedBatchNormDiffersFromTheCombinedBatch) {
  const auto single = train::train(oneStep("one"), false, {});
  auto two = oneStep("two");
  two.replicas = 2;
  const auto pair = train::train(two, false, {});
  const auto a = loggedCrossEntropies(dir_ / "one");
  const auto b = loggedCrossEntropies(dir_ / "two");
  ASSERT_EQ(a.size(), b.size());
  EXPECT_GT(std::abs(a[0] - b[0]), 1e-4);  // the same weights and images, normalized differently
  // The measure TwoReplicasEqualOneWithTheCombinedBatch bounds by 0.1 tells the runs apart.
  const double difference = stepDifference(checkpoint::readCheckpoint(single.lastCheckpoint),
                                           checkpoint::readCheckpoint(pair.lastCheckpoint));
  std::printf("one step's update without synchronization: %.2e of its size\n", difference);
  EXPECT_GT(difference, 0.3);
}

// With dropout, two replica threads draw their masks from generators of their own, saved in the
// checkpoint: a run stopped and resumed logs exactly the losses of the run that went through, and
// ends with exactly its weights. (Shared, the global generator's draws would interleave in
// whatever order the threads ran, and each replica thread's reseeding could land after rank 0
// restored the saved state.)
TEST_F(DataParallelTraining, TwoReplicasWithDropoutResumeExactly) {
  auto whole = comparableRun(dir_ / "whole", dir_ / "records");
  whole.replicas = 2;
  whole.dropout = 0.5;
  whole.maxSteps = 6;
  const auto through = train::train(whole, false, {});
  auto parts = whole;
  parts.trainDir = dir_ / "parts";
  parts.maxSteps = 3;
  train::train(parts, false, {});
  parts.maxSteps = 6;
  const auto resumed = train::train(parts, true, {});
  ASSERT_EQ(resumed.step, 6);
  const auto a = loggedCrossEntropies(whole.trainDir);
  const auto b = loggedCrossEntropies(parts.trainDir);
  ASSERT_EQ(a.size(), 6u);
  EXPECT_EQ(a, b);
  const auto ca = checkpoint::readCheckpoint(through.lastCheckpoint);
  const auto cb = checkpoint::readCheckpoint(resumed.lastCheckpoint);
  ASSERT_EQ(ca.model.size(), cb.model.size());
  for (std::size_t i = 0; i < ca.model.size(); ++i) {
    EXPECT_TRUE(torch::equal(ca.model[i].second, cb.model[i].second)) << ca.model[i].first;
  }
  // Each replica's generator is in the checkpoint, and they differ (different masks).
  ASSERT_EQ(ca.generators.size(), 2u);
  EXPECT_EQ(ca.generators[0].first, "dropout/0");
  EXPECT_EQ(ca.generators[1].first, "dropout/1");
  EXPECT_FALSE(torch::equal(ca.generators[0].second, ca.generators[1].second));
  // And the dropout mattered: without it the run is another.
  auto plain = whole;
  plain.trainDir = dir_ / "plain";
  plain.dropout = 0.0;
  train::train(plain, false, {});
  EXPECT_NE(loggedCrossEntropies(plain.trainDir), a);
}

// With no weight on the auxiliary loss the head is not computed and its parameters are left out of
// the step: two replicas go past their checkpoints' weight comparison (the head's parameters,
// registered with the gradient averaging, used to wait for gradients that never came and left
// every later bucket unaveraged: "the weights of rank 1 differ from rank 0's"), and the head keeps
// its initial weights.
TEST_F(DataParallelTraining, NoAuxiliaryLossWeightTrainsTwoReplicasWithTheHeadUntouched) {
  auto s = comparableRun(dir_ / "run", dir_ / "records");
  s.replicas = 2;
  s.auxLogits = true;
  s.auxWeight = 0.0;
  s.maxSteps = 4;
  s.saveEverySteps = 2;
  const auto result = train::train(s, false, {});
  EXPECT_EQ(result.step, 4);
  const auto saved = checkpoint::readCheckpoint(result.lastCheckpoint);
  torch::manual_seed(s.seed);
  model::InceptionV3 initial(checkpoint::modelSettings(s, 4));
  const auto start = initial->named_parameters();
  int auxTensors = 0;
  bool trunkMoved = false;
  for (const auto& [name, tensor] : saved.model) {
    if (const auto* first = start.find(name)) {
      if (name.rfind("AuxLogits.", 0) == 0) {
        ++auxTensors;
        EXPECT_TRUE(torch::equal(tensor, *first)) << name;
      } else if (!torch::equal(tensor, *first)) {
        trunkMoved = true;
      }
    }
  }
  EXPECT_GT(auxTensors, 0);
  EXPECT_TRUE(trunkMoved);
}

// A run of two replicas continues on one from the same global position.
TEST_F(DataParallelTraining, ResumesOnAnotherReplicaCount) {
  auto two = comparableRun(dir_ / "run", dir_ / "records");
  two.replicas = 2;
  two.maxSteps = 3;  // 64 images, batch 8: stops in the middle of epoch 0
  const auto first = train::train(two, false, {});
  ASSERT_EQ(first.step, 3);
  auto one = two;
  one.replicas = 1;
  one.maxSteps = 10;
  std::vector<std::string> logs;
  train::TrainCallbacks callbacks;
  callbacks.onLog = [&](const std::string& line) { logs.push_back(line); };
  const auto second = train::train(one, true, callbacks);
  EXPECT_EQ(second.step, 10);
  EXPECT_EQ(second.stepsThisRun, 7);
  bool told = false;
  for (const auto& line : logs) {
    told = told || line.find("saved by 2 replica(s) and continues on 1") != std::string::npos;
  }
  EXPECT_TRUE(told);
  // Epoch 0 has 8 steps: five more after the resume, then 2 of epoch 1.
  const auto last = checkpoint::readCheckpoint(second.lastCheckpoint);
  EXPECT_EQ(last.epoch, 1);
  EXPECT_EQ(last.positionBatches, 2);
  EXPECT_EQ(loggedCrossEntropies(dir_ / "run").size(), 10u);
  // And back to two.
  auto again = two;
  again.maxSteps = 12;
  EXPECT_EQ(train::train(again, true, {}).step, 12);
  EXPECT_EQ(loggedCrossEntropies(dir_ / "run").size(), 12u);
}

// DIR/train-0000K-of-0000N with counts[K] images each (numbered across the shards, category i % 4),
// and DIR/labels.txt: the seed's layout, whose shards RecordSet counts.
void writeShardsOf(const fs::path& dir, const std::vector<int>& counts) {
  fs::create_directories(dir);
  int i = 0;
  for (std::size_t k = 0; k < counts.size(); ++k) {
    char name[64];
    std::snprintf(name, sizeof name, "train-%05zu-of-%05zu", k, counts.size());
    records::RecordWriter writer(dir / name);
    for (int r = 0; r < counts[k]; ++r, ++i) {
      records::ImageExample example;
      example.encoded = categoryPng(i);
      example.filename = "img-" + std::to_string(i) + ".png";
      example.label = i % 4 + 1;
      example.width = 64;
      example.height = 64;
      writer.write(records::encodeExample(example));
    }
    writer.close();
  }
  writeFourLabels(dir);
}

// Each replica reads whole shards of its own, here of different sizes, so the replicas' shares of
// an epoch differ; each takes as many batches as the smallest share holds, so they go through the
// epochs together. (A replica that ran out first would start the next epoch while the other went
// on with this one: their epochs and positions would drift apart, and a rank with less than a
// batch would start epoch after epoch while the other waited in the all-reduce.) Stopped and
// resumed on the same replica count, the run repeats the uninterrupted one exactly.
TEST_F(DataParallelTraining, UnevenShardsKeepTheReplicasInStepAndResumeExactly) {
  const auto records = dir_ / "uneven";
  writeShardsOf(records, {17, 13, 11, 9, 8, 6});  // 64 images: 8 steps of 8 by the count
  auto whole = comparableRun(dir_ / "whole", records);
  whole.replicas = 2;
  whole.distort = true;
  whole.shuffleBuffer = 16;
  // The trainer's loader: 4 images per replica, the counts from the record set.
  const auto split = records::openRecordSet(records).split("train");
  data::LoaderSettings loader;
  loader.shards = split.shards;
  loader.shardRecords = split.shardRecords;
  loader.batchSize = 4;
  loader.dropRemainder = true;
  loader.worldSize = 2;
  // A seed whose first two epochs deal the replicas shares of different sizes.
  std::int64_t batches[2] = {};
  for (loader.seed = 1; loader.seed < 200; ++loader.seed) {
    const auto first = data::partitionEpoch(loader, 0);
    const auto second = data::partitionEpoch(loader, 1);
    if (first.wholeShards && second.wholeShards && first.records[0] != first.records[1] &&
        first.batches < 8) {
      batches[0] = first.batches;
      batches[1] = second.batches;
      break;
    }
  }
  ASSERT_GT(batches[0], 0) << "no seed deals uneven shares";
  whole.seed = loader.seed;
  whole.maxSteps = batches[0] + batches[1] + 2;  // two steps into epoch 2
  std::vector<std::string> logs;
  train::TrainCallbacks callbacks;
  callbacks.onLog = [&](const std::string& line) { logs.push_back(line); };
  const auto through = train::train(whole, false, callbacks);
  ASSERT_EQ(through.step, whole.maxSteps);
  bool told = false;
  for (const auto& line : logs) {
    told = told || line.find("each replica reads its own") != std::string::npos;
  }
  EXPECT_TRUE(told);
  const auto last = checkpoint::readCheckpoint(through.lastCheckpoint);
  EXPECT_EQ(last.epoch, 2);
  ASSERT_EQ(last.replicaPositions.size(), 4u);  // (records, batches) per replica
  EXPECT_EQ(last.replicaPositions[1], 2);
  EXPECT_EQ(last.replicaPositions[3], 2);

  auto parts = whole;
  parts.trainDir = dir_ / "parts";
  parts.maxSteps = batches[0] + 1;  // into epoch 1
  train::train(parts, false, {});
  const auto stopped = dir_ / "stopped";
  fs::copy(parts.trainDir, stopped, fs::copy_options::recursive);
  parts.maxSteps = whole.maxSteps;
  const auto resumed = train::train(parts, true, {});
  ASSERT_EQ(resumed.step, whole.maxSteps);
  const auto a = loggedCrossEntropies(whole.trainDir);
  EXPECT_EQ(a.size(), static_cast<std::size_t>(whole.maxSteps));
  EXPECT_EQ(a, loggedCrossEntropies(parts.trainDir));
  const auto end = checkpoint::readCheckpoint(resumed.lastCheckpoint);
  ASSERT_EQ(end.model.size(), last.model.size());
  for (std::size_t i = 0; i < end.model.size(); ++i) {
    EXPECT_TRUE(torch::equal(end.model[i].second, last.model[i].second)) << end.model[i].first;
  }
  EXPECT_EQ(end.replicaPositions, last.replicaPositions);

  // The stopped run continues on four replicas: another deal, from the same global position.
  auto four = parts;
  four.trainDir = dir_ / "four";
  fs::rename(stopped, four.trainDir);
  four.replicas = 4;
  four.maxSteps = whole.maxSteps;
  logs.clear();
  const auto continued = train::train(four, true, callbacks);
  EXPECT_EQ(continued.step, whole.maxSteps);
  EXPECT_EQ(continued.stepsThisRun, whole.maxSteps - batches[0] - 1);
  bool continuedOnFour = false;
  for (const auto& line : logs) {
    continuedOnFour = continuedOnFour ||
                      line.find("saved by 2 replica(s) and continues on 4") != std::string::npos;
  }
  EXPECT_TRUE(continuedOnFour);
  EXPECT_EQ(checkpoint::readCheckpoint(continued.lastCheckpoint).replicaPositions.size(), 8u);
}

// A replica that fails ends the others, and the error names it and its reason, within the
// collective timeout.
TEST_F(DataParallelTraining, AFailingReplicaEndsTheRunNamingIt) {
  // Record 5 (rank 1's third record: records alternate between the ranks) has a label no
  // category has.
  const auto records = dir_ / "bad";
  writeShard(records, "train", 32, categoryPng, [](int i) { return i == 5 ? 9 : i % 4 + 1; });
  writeFourLabels(records);
  auto two = comparableRun(dir_ / "run", records);
  two.replicas = 2;
  two.batchSize = 4;  // rank 1 meets record 5 in its second step
  two.maxSteps = 6;
  two.collectiveTimeoutSeconds = 20;
  const auto start = std::chrono::steady_clock::now();
  try {
    train::train(two, false, {});
    FAIL() << "the run should have failed";
  } catch (const core::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("img-5.png"), std::string::npos) << what;
    EXPECT_NE(what.find("label outside"), std::string::npos) << what;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(40));
}

TEST(DataParallelSettings, ReplicasMustSplitTheBatch) {
  settings::TrainSettings s;
  s.trainDir = "x";
  s.dataDir = "y";
  s.batchSize = 10;
  s.replicas = 4;
  bool named = false;
  for (const auto& problem : s.validate()) {
    named = named || problem.find("split evenly between the 4 replicas") != std::string::npos;
  }
  EXPECT_TRUE(named);
}

TEST(DataParallelSettings, LaunchComesFromTorchrunOrSlurmVariables) {
  const auto clear = [] {
    for (const char* name :
         {"WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "SLURM_NTASKS",
          "SLURM_PROCID", "SLURM_LOCALID", "SLURM_LAUNCH_NODE_IPADDR"}) {
      unsetenv(name);
    }
  };
  clear();
  EXPECT_EQ(dist::launchFromEnvironment().processes, 1);
  setenv("WORLD_SIZE", "4", 1);
  setenv("RANK", "2", 1);
  setenv("LOCAL_RANK", "0", 1);
  setenv("MASTER_ADDR", "10.0.0.7", 1);
  setenv("MASTER_PORT", "29555", 1);
  auto launch = dist::launchFromEnvironment();
  EXPECT_EQ(launch.processes, 4);
  EXPECT_EQ(launch.processRank, 2);
  EXPECT_EQ(launch.masterAddr, "10.0.0.7");
  EXPECT_EQ(launch.masterPort, 29555);
  setenv("RANK", "4", 1);
  EXPECT_THROW(dist::launchFromEnvironment(), core::UsageError);
  setenv("RANK", "two", 1);
  EXPECT_THROW(dist::launchFromEnvironment(), core::UsageError);
  clear();
  setenv("SLURM_NTASKS", "16", 1);
  setenv("SLURM_PROCID", "9", 1);
  setenv("SLURM_LOCALID", "1", 1);
  setenv("SLURM_LAUNCH_NODE_IPADDR", "10.1.2.3", 1);
  launch = dist::launchFromEnvironment();
  EXPECT_EQ(launch.processes, 16);
  EXPECT_EQ(launch.processRank, 9);
  EXPECT_EQ(launch.localRank, 1);
  EXPECT_EQ(launch.masterAddr, "10.1.2.3");
  EXPECT_EQ(launch.masterPort, 29500);
  clear();
}

}  // namespace
}  // namespace taxon::test
