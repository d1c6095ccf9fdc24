// How much oneDNN's instruction set changes one training step of the tests' tiny Inception-v3.
//
//   taxon_isa_probe init FILE [SEED]       initial weights, a batch of 8 images and labels (seeded)
//   taxon_isa_probe step FILE OUT       one forward/backward in float (oneDNN's kernels, under
//                                       whatever ONEDNN_MAX_CPU_ISA says) and in double (ATen's
//                                       reference kernels, which oneDNN never runs): loss, logits
//                                       and every parameter's gradient
//   taxon_isa_probe compare A B         relative difference per tensor, ||a - b|| / ||b||, of two
//                                       `step` outputs, and of each float result to its double
//
// bench/numerics/run.sh runs `step` under two instruction sets and compares them.
#include <torch/nn/functional/loss.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>

#include "checkpoint/Checkpoint.hpp"
#include "checkpoint/TrainedModel.hpp"
#include "model/InceptionV3.hpp"
#include "model/TorchvisionWeights.hpp"

namespace {

using Tensors = std::map<std::string, torch::Tensor>;

taxon::model::InceptionSettings tinyNetwork() {
  taxon::model::InceptionSettings s;
  s.numClasses = 4;
  const char* depth = std::getenv("TAXON_PROBE_DEPTH");
  s.depthMultiplier = depth != nullptr ? std::stod(depth) : 0.25;
  const char* size = std::getenv("TAXON_PROBE_SIZE");
  s.imageSize = size != nullptr ? std::stoll(size) : 75;
  s.dropout = 0.0;
  return s;
}

void save(const Tensors& tensors, const std::string& path) {
  torch::serialize::OutputArchive archive;
  for (const auto& [name, tensor] : tensors) {
    archive.write(name, tensor);
  }
  archive.save_to(path);
}

Tensors load(const std::string& path) {
  torch::serialize::InputArchive archive;
  archive.load_from(path);
  Tensors out;
  for (const auto& name : archive.keys()) {
    torch::Tensor t;
    archive.read(name, t);
    out[name] = t;
  }
  return out;
}

// One step of the training loss (cross-entropy of both heads, aux weighted 0.4) in DTYPE.
Tensors step(const Tensors& init, torch::Dtype dtype, double perturbation = 0.0) {
  taxon::model::InceptionV3 net(tinyNetwork());
  {
    torch::NoGradGuard noGrad;
    for (auto& item : taxon::model::stateDict(*net)) {
      item.value().copy_(init.at("w." + item.key()));
    }
  }
  net->to(dtype);
  net->train();
  if (std::getenv("TAXON_PROBE_EVAL_MODE") != nullptr) {
    net->eval();  // batch norm with its running statistics: no batch statistics in the backward
  }
  namespace F = torch::nn::functional;
  auto images = init.at("images").to(dtype);
  if (perturbation > 0.0) {  // a relative change of about float rounding, in double
    images =
        images *
        (1.0 + perturbation *
                   torch::sin(torch::arange(images.numel(), dtype) * 12.9898).view(images.sizes()));
  }
  const auto labels = init.at("labels");
  const auto output = net->forward(images);
  const auto ce = F::cross_entropy(output.logits, labels);
  const auto loss = output.aux.defined() ? ce + 0.4 * F::cross_entropy(output.aux, labels) : ce;
  loss.backward();
  Tensors out;
  out["loss"] = loss.detach().to(torch::kDouble);
  out["logits"] = output.logits.detach().to(torch::kDouble);
  for (const auto& p : net->named_parameters()) {
    if (p.value().grad().defined()) {  // the aux head has none in eval mode
      out["grad." + p.key()] = p.value().grad().to(torch::kDouble);
    }
  }
  return out;
}

double relative(const torch::Tensor& a, const torch::Tensor& b) {
  const double denominator = b.norm().item<double>();
  const double numerator = (a - b).norm().item<double>();
  return denominator > 0 ? numerator / denominator : numerator;
}

void report(const std::string& title, const Tensors& a, const Tensors& b) {
  double worst = 0.0;
  std::string worstName;
  std::vector<double> grads;
  std::printf("%s\n", title.c_str());
  for (const auto& [name, tensor] : a) {
    const double r = relative(tensor, b.at(name));
    if (!name.starts_with("grad.") || std::getenv("TAXON_PROBE_ALL") != nullptr) {
      std::printf("  %-40s %.3e\n", name.c_str(), r);
    } else {
      grads.push_back(r);
    }
    if (r > worst) {
      worst = r;
      worstName = name;
    }
  }
  if (grads.empty()) {
    return;
  }
  std::sort(grads.begin(), grads.end());
  std::printf("  gradients (%zu tensors): median %.3e, 90th percentile %.3e, largest %.3e (%s)\n",
              grads.size(), grads[grads.size() / 2], grads[grads.size() * 9 / 10], grads.back(),
              worstName.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  torch::set_num_threads(1);
  if (std::getenv("TAXON_PROBE_NO_ONEDNN") != nullptr) {
    at::globalContext().setUserEnabledMkldnn(false);  // ATen's own convolutions
  }
  if (mode == "init" && (argc == 3 || argc == 4)) {
    torch::manual_seed(argc == 4 ? std::stoull(argv[3]) : 1);
    taxon::model::InceptionV3 net(tinyNetwork());
    Tensors init;
    for (const auto& item : taxon::model::stateDict(*net)) {
      init["w." + item.key()] = item.value().clone();
    }
    // Smooth images with some structure, in [-1, 1], and labels 0..3.
    const std::int64_t side = tinyNetwork().imageSize;
    const char* batchText = std::getenv("TAXON_PROBE_BATCH");
    const std::int64_t batch = batchText != nullptr ? std::stoll(batchText) : 8;
    init["images"] =
        torch::tanh(torch::randn({batch, 3, side, side}) * 0.5 +
                    torch::sin(torch::arange(side, torch::kFloat) * 0.2).view({1, 1, 1, side}));
    init["labels"] = torch::arange(batch, torch::kLong) % 4;
    save(init, argv[2]);
    return 0;
  }
  if (mode == "step" && argc == 4) {
    const auto init = load(argv[2]);
    Tensors out;
    for (const auto& [name, t] : step(init, torch::kFloat)) {
      out[name] = t;
    }
    for (const auto& [name, t] : step(init, torch::kDouble)) {
      out["double." + name] = t;
    }
    for (const auto& [name, t] : step(init, torch::kDouble, 1e-7)) {
      out["perturbed." + name] = t;
    }
    save(out, argv[3]);
    std::printf("loss float %.9f double %.9f\n", out.at("loss").item<double>(),
                out.at("double.loss").item<double>());
    return 0;
  }
  if (mode == "compare" && argc == 4) {
    const auto a = load(argv[2]);
    const auto b = load(argv[3]);
    Tensors af, bf, ad, bd, ap;
    for (const auto& [name, t] : a) {
      if (name.starts_with("double.")) {
        ad[name.substr(7)] = t;
      } else if (name.starts_with("perturbed.")) {
        ap[name.substr(10)] = t;
      } else {
        af[name] = t;
      }
    }
    for (const auto& [name, t] : b) {
      if (name.starts_with("double.")) {
        bd[name.substr(7)] = t;
      } else if (name.starts_with("perturbed.")) {
      } else {
        bf[name] = t;
      }
    }
    report(std::string("float: ") + argv[2] + " against " + argv[3], af, bf);
    report(std::string("double: ") + argv[2] + " against " + argv[3], ad, bd);
    report(std::string("float against double: ") + argv[2], af, ad);
    report(std::string("float against double: ") + argv[3], bf, bd);
    report(std::string("double, input changed by 1e-7, against double: ") + argv[2], ap, ad);
    return 0;
  }
  if (mode == "checkpoints" && argc == 4) {
    const auto a = taxon::checkpoint::readLatestCheckpoint(argv[2]);
    const auto b = taxon::checkpoint::readLatestCheckpoint(argv[3]);
    Tensors am, bm;
    for (const auto& [name, t] : a->model) {
      am["model." + name] = t.to(torch::kDouble);
    }
    for (const auto& [name, t] : b->model) {
      bm["model." + name] = t.to(torch::kDouble);
    }
    for (const auto& [name, t] : a->average) {
      am["average." + name] = t.to(torch::kDouble);
    }
    for (const auto& [name, t] : b->average) {
      bm["average." + name] = t.to(torch::kDouble);
    }
    report(std::string("checkpoints: ") + argv[2] + " against " + argv[3], am, bm);
    return 0;
  }
  std::cerr << "usage: taxon_isa_probe init FILE | step FILE OUT | compare A B\n";
  return 2;
}
