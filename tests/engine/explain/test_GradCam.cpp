// Grad-CAM on real networks: through autograd it equals the class activation map that
// Inception's pooled fc layer implies; a tiny network trained on pictures whose category is
// decided by a small patch at a random place looks at the patch; the Explainer explains real
// image files of a real checkpoint and refuses what it cannot explain.
#include "explain/GradCam.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <opencv2/imgcodecs.hpp>

#include "../eval/TinyModel.hpp"
#include "TrainTestData.hpp"
#include "core/Error.hpp"
#include "explain/Explainer.hpp"

namespace taxon::explain {
namespace {

namespace F = torch::nn::functional;

model::InceptionSettings tinySettings(std::int64_t classes, std::int64_t side) {
  model::InceptionSettings s;
  s.numClasses = classes;
  s.auxLogits = false;
  s.depthMultiplier = 0.1;
  s.imageSize = side;
  s.dropout = 0.0;
  return s;
}

TEST(GradCam, EqualsTheClassActivationMapOfThePooledFcLayer) {
  torch::manual_seed(3);
  model::InceptionV3 net(tinySettings(5, 139));
  const auto images = torch::rand({3, 3, 139, 139}) * 2 - 1;
  test::setTrainedBatchNorm(*net, images);
  net->eval();
  const auto categories = torch::tensor({{0, 4}, {2, 2}, {3, 1}}, torch::kLong);
  const auto cam = gradCam(*net, images, categories, model::MixedBlock::Mixed7c);
  ASSERT_EQ(cam.maps.sizes(), (std::vector<std::int64_t>{3, 2, 139, 139}));

  // Zhou et al.'s map: the fc weights of the category over the map's channels.
  torch::NoGradGuard noGrad;
  const auto map = net->mixedMap(images, model::MixedBlock::Mixed7c);  // 3 x C x 3 x 3
  const auto weight = net->named_parameters()["fc.weight"];
  for (std::int64_t n = 0; n < 3; ++n) {
    for (std::int64_t j = 0; j < 2; ++j) {
      const auto c = categories[n][j].item<std::int64_t>();
      const auto expected = torch::relu((weight[c].view({-1, 1, 1}) * map[n]).sum(0));  // 3 x 3
      const auto peak = expected.max().item<float>();
      ASSERT_GT(peak, 0.0f);
      // Each map position lies over the pixel its receptive field is centred on: 37, 69 and 101
      // for Mixed_7c at 139 (centred: 37 + 101 = 138); the map's maximum is one of them.
      EXPECT_NEAR(cam.maps[n][j].max().item<float>(), 1.0f, 1e-6);
      for (std::int64_t y = 0; y < 3; ++y) {
        for (std::int64_t x = 0; x < 3; ++x) {
          EXPECT_NEAR(cam.maps[n][j][37 + 32 * y][37 + 32 * x].item<float>(),
                      expected[y][x].item<float>() / peak, 1e-5)
              << n << " " << j << " " << y << " " << x;
        }
      }
      // Between positions: bilinear; beyond the outer ones: their values.
      EXPECT_NEAR(cam.maps[n][j][53][37].item<float>(),
                  (expected[0][0].item<float>() + expected[1][0].item<float>()) / 2 / peak, 1e-5);
      EXPECT_NEAR(cam.maps[n][j][0][138].item<float>(), expected[0][2].item<float>() / peak, 1e-5);
      // The peak in logit units: Grad-CAM's weights are the fc weights over the map's positions.
      EXPECT_NEAR(cam.peaks[n][j].item<float>(), peak / 9.0f, 1e-4 * peak);
    }
  }
  const auto logits = net->forward(images).logits;
  EXPECT_TRUE(torch::allclose(cam.probabilities, torch::softmax(logits, 1), 1e-5, 1e-6));

  EXPECT_THROW(gradCam(*net, images, torch::tensor({{5}, {0}, {0}}, torch::kLong),
                       model::MixedBlock::Mixed7c),
               core::Error);
  EXPECT_THROW(
      gradCam(*net, images, torch::tensor({{0}}, torch::kLong), model::MixedBlock::Mixed7c),
      core::Error);
}

// The block explained: the last whose map has 5 positions a side, and the map sides the network
// really computes.
TEST(GradCam, ExplainsTheLastMixedBlockWithAMapOfFiveOrMore) {
  EXPECT_EQ(explainedBlock(299), model::MixedBlock::Mixed7c);
  EXPECT_EQ(explainedBlock(203), model::MixedBlock::Mixed7c);
  EXPECT_EQ(explainedBlock(202), model::MixedBlock::Mixed6e);
  EXPECT_EQ(explainedBlock(107), model::MixedBlock::Mixed6e);
  EXPECT_EQ(explainedBlock(106), model::MixedBlock::Mixed5d);
  EXPECT_EQ(explainedBlock(75), model::MixedBlock::Mixed5d);
  torch::manual_seed(1);
  for (const std::int64_t side : {75, 107, 203, 299}) {
    model::InceptionV3 net(tinySettings(3, side));
    net->eval();
    torch::NoGradGuard noGrad;
    const auto images = torch::rand({1, 3, side, side});
    for (const auto block :
         {model::MixedBlock::Mixed5d, model::MixedBlock::Mixed6e, model::MixedBlock::Mixed7c}) {
      const auto map = net->mixedMap(images, block);
      EXPECT_EQ(map.size(2), model::mixedMapSide(block, side))
          << model::mixedBlockName(block) << " at " << side;
      EXPECT_TRUE(torch::allclose(net->logitsFromMixed(map, block), net->forward(images).logits,
                                  1e-5, 1e-6));
    }
  }
  // Map positions sit where their receptive fields are centred: the input pixels that reach
  // Mixed_5d's position 15 span a window centred on 8 * 15 + 13 (the deeper blocks' windows cover
  // all of a 299 x 299 input; their offsets follow by the same rule, checked by symmetry below).
  {
    model::InceptionV3 net(tinySettings(3, 299));
    net->eval();
    const auto geometry = model::mixedMapGeometry(model::MixedBlock::Mixed5d);
    const std::int64_t j = 15;
    const auto images = torch::rand({1, 3, 299, 299}).requires_grad_(true);
    net->mixedMap(images, model::MixedBlock::Mixed5d).select(2, j).select(2, j).sum().backward();
    const auto reached = images.grad().abs().sum(std::vector<std::int64_t>{0, 1}).gt(0);
    const auto rows = reached.any(1).nonzero().flatten();
    const auto columns = reached.any(0).nonzero().flatten();
    const auto first = rows.min().item<std::int64_t>();
    const auto last = rows.max().item<std::int64_t>();
    ASSERT_GT(first, 0);  // the window is not cut by the border
    ASSERT_LT(last, 298);
    EXPECT_EQ(first + last, 2 * (geometry.stride * j + geometry.offset));
    EXPECT_EQ(columns.min().item<std::int64_t>() + columns.max().item<std::int64_t>(),
              2 * (geometry.stride * j + geometry.offset));
  }
  // Sides the grid divides evenly put the outer positions symmetrically.
  for (const std::int64_t side : {75, 139, 299}) {
    for (const auto block :
         {model::MixedBlock::Mixed5d, model::MixedBlock::Mixed6e, model::MixedBlock::Mixed7c}) {
      const auto g = model::mixedMapGeometry(block);
      EXPECT_EQ(2 * g.offset + g.stride * (model::mixedMapSide(block, side) - 1), side - 1)
          << model::mixedBlockName(block) << " at " << side;
    }
  }
  EXPECT_EQ(model::mixedMapSide(model::MixedBlock::Mixed7c, 299), 8);
  EXPECT_EQ(model::mixedMapSide(model::MixedBlock::Mixed6e, 299), 17);
  EXPECT_EQ(model::mixedMapSide(model::MixedBlock::Mixed5d, 299), 35);
}

// Pictures of noise around a grey level, each with one square of its category's colour at a random
// place: nothing else tells the categories apart.
struct PatchPictures {
  torch::Tensor images;  // N x 3 x side x side in [-1, 1]
  torch::Tensor labels;  // N
  std::vector<cv::Rect> patches;
};

PatchPictures patchPictures(int n, int side, int patch, torch::Generator& random) {
  static const float colours[4][3] = {{1, -1, -1}, {-1, 1, -1}, {-1, -1, 1}, {1, 1, -1}};
  PatchPictures out;
  out.images = (torch::rand({n, 1, 1, 1}, random) - 0.5) +
               (torch::rand({n, 3, side, side}, random) * 2 - 1) * 0.6;
  out.labels = torch::randint(0, 4, {n}, random, torch::kLong);
  const auto places = torch::randint(0, side - patch + 1, {n, 2}, random, torch::kLong);
  for (int i = 0; i < n; ++i) {
    const auto x = places[i][0].item<std::int64_t>();
    const auto y = places[i][1].item<std::int64_t>();
    const auto label = out.labels[i].item<std::int64_t>();
    for (int ch = 0; ch < 3; ++ch) {
      out.images[i][ch].slice(0, y, y + patch).slice(1, x, x + patch).fill_(colours[label][ch]);
    }
    out.patches.emplace_back(static_cast<int>(x), static_cast<int>(y), patch, patch);
  }
  return out;
}

// A tiny network trained from scratch (100 Adam steps of 32 fresh pictures, 139 x 139, squares of
// 48 pixels) classifies the test pictures, and Grad-CAM's peak for the label falls on the square.
// On 120 test pictures Mixed_5d's peak (a 15 x 15 map) fell inside the square for 106 (94 with
// oneDNN's AVX2 kernels: one rounding apart, another network), within one map step (8 pixels) of
// it for 111 (102); Mixed_6e's (7 x 7) inside for 87 (96); Mixed_7c's (3 x 3) for 34 (35), about
// what a map peaking anywhere would score (a 48-pixel square holds a 3 x 3 grid's position a third
// of the time). Deeper blocks of a network trained from scratch on pictures this small see the
// whole picture from every position, and the longer it trains the less its last blocks localize
// (300 steps: Mixed_5d 85 %, Mixed_6e 67 %). The test holds Mixed_5d to 70 % inside and 80 %
// within a step, and prints all three blocks' figures.
TEST(GradCam, PeakFallsOnTheDecisivePatchOfATrainedNetwork) {
  const int side = 139, patch = 48, steps = 100, tests = 120;
  torch::manual_seed(11);
  torch::Generator random = at::detail::createCPUGenerator(5);
  model::InceptionV3 net(tinySettings(4, side));
  torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(1e-3));
  net->train();
  for (int step = 0; step < steps; ++step) {
    const auto data = patchPictures(32, side, patch, random);
    const auto loss = F::cross_entropy(net->forward(data.images).logits, data.labels);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
  }
  net->eval();
  const auto data = patchPictures(tests, side, patch, random);
  for (const auto block :
       {model::MixedBlock::Mixed5d, model::MixedBlock::Mixed6e, model::MixedBlock::Mixed7c}) {
    const auto cam = gradCam(*net, data.images, data.labels.unsqueeze(1), block);
    const auto step = model::mixedMapGeometry(block).stride;
    int correct = 0, inside = 0, near = 0;
    for (int i = 0; i < tests; ++i) {
      correct +=
          cam.probabilities[i].argmax().item<std::int64_t>() == data.labels[i].item<std::int64_t>();
      const cv::Point peak(static_cast<int>(cam.peakAt[i][0][0].item<std::int64_t>()),
                           static_cast<int>(cam.peakAt[i][0][1].item<std::int64_t>()));
      ASSERT_NEAR(cam.maps[i][0][peak.y][peak.x].item<float>(), 1.0f, 1e-5);
      const auto& square = data.patches[static_cast<std::size_t>(i)];
      inside += square.contains(peak);
      const cv::Rect around(square.x - static_cast<int>(step), square.y - static_cast<int>(step),
                            square.width + 2 * static_cast<int>(step),
                            square.height + 2 * static_cast<int>(step));
      near += around.contains(peak);
    }
    std::printf(
        "%s (%lld x %lld): correct %d, peak inside the square %d, within %lld px %d, of %d\n",
        model::mixedBlockName(block), static_cast<long long>(model::mixedMapSide(block, side)),
        static_cast<long long>(model::mixedMapSide(block, side)), correct, inside,
        static_cast<long long>(step), near, tests);
    EXPECT_GE(correct, 0.95 * tests);
    if (block == model::MixedBlock::Mixed5d) {
      EXPECT_GE(inside, 0.7 * tests);
      EXPECT_GE(near, 0.8 * tests);
    }
  }
}

// The Explainer on a real checkpoint and real files: the top categories' maps and the extra ones
// asked for, over the central crop shown at least 299 pixels a side; bad files and categories
// are refused with the reason.
TEST(Explainer, ExplainsRealFilesOfARealCheckpoint) {
  test::TempDir dir;
  test::writeRecordSet(dir / "records", 8);
  test::writeRandomCheckpoint(dir / "run", dir / "records", 42, "train");
  Explainer explainer(dir / "run");
  EXPECT_EQ(explainer.step(), 42);
  EXPECT_EQ(explainer.inputSize(), 75);
  EXPECT_EQ(explainer.block(), "Mixed_5d");  // 75 x 75: Mixed_7c's map is 1 x 1, Mixed_5d's 7 x 7
  const auto file = dir / "shoe.png";
  test::writeFile(file, test::categoryPng(1));
  const auto e = explainer.explainFile(file, 3, {3});
  ASSERT_TRUE(e.error.empty()) << e.error;
  EXPECT_EQ(e.block, "Mixed_5d");
  EXPECT_EQ(e.mapSide, 7);
  EXPECT_EQ(e.view.type(), CV_8UC3);
  EXPECT_EQ(e.view.size(), cv::Size(299, 299));  // the 56-pixel central crop of 64, enlarged
  std::vector<std::int64_t> shown;
  double previous = 2.0;
  for (const auto& heat : e.maps) {
    shown.push_back(heat.category);
    EXPECT_EQ(heat.name, explainer.categories()[static_cast<std::size_t>(heat.category)]);
    EXPECT_EQ(heat.map.type(), CV_32F);
    EXPECT_EQ(heat.map.size(), e.view.size());
    double low = 0.0, high = 0.0;
    cv::minMaxLoc(heat.map, &low, &high);
    EXPECT_GE(low, 0.0);
    EXPECT_NEAR(high, heat.empty ? 0.0 : 1.0, 0.01);  // resized from the input side
    if (heat.rank > 0) {
      EXPECT_LE(heat.score, previous);
      previous = heat.score;
    }
  }
  ASSERT_GE(e.maps.size(), 3u);
  EXPECT_EQ(e.maps[0].rank, 1);
  EXPECT_EQ(e.maps[2].rank, 3);
  // Category 3 comes last unless it is among the top 3.
  EXPECT_NE(std::find(shown.begin(), shown.end(), 3), shown.end());
  EXPECT_EQ(e.maps.size(),
            std::find(shown.begin(), shown.begin() + 3, 3) == shown.begin() + 3 ? 4u : 3u);
  // Only the categories asked for.
  const auto only = explainer.explainFile(file, 0, {2, 0});
  ASSERT_TRUE(only.error.empty()) << only.error;
  ASSERT_EQ(only.maps.size(), 2u);
  EXPECT_EQ(only.maps[0].category, 2);
  EXPECT_EQ(only.maps[1].category, 0);
  EXPECT_EQ(only.maps[0].rank, 0);

  explainer.setBlock("Mixed_6e");
  EXPECT_EQ(explainer.explainFile(file, 1).mapSide, 3);
  explainer.setBlock("auto");
  EXPECT_EQ(explainer.block(), "Mixed_5d");
  try {
    explainer.setBlock("Mixed_9z");
    ADD_FAILURE() << "an unknown block was taken";
  } catch (const core::Error& error) {
    EXPECT_NE(std::string(error.what()).find("Mixed_9z"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find(kBlockChoices), std::string::npos) << error.what();
  }

  test::writeFile(dir / "broken.png", "not an image");
  const auto broken = explainer.explainFile(dir / "broken.png", 3);
  EXPECT_NE(broken.error.find("broken.png"), std::string::npos) << broken.error;
  EXPECT_TRUE(broken.maps.empty());
  const auto missing = explainer.explainFile(dir / "missing.png", 3);
  EXPECT_NE(missing.error.find("missing.png: cannot open"), std::string::npos) << missing.error;
  const auto outOfRange = explainer.explainFile(file, 1, {4});
  EXPECT_NE(outOfRange.error.find("category 4 is not one of the model's 4"), std::string::npos)
      << outOfRange.error;
  EXPECT_THROW(Explainer(dir / "nothing"), core::Error);
}

// The overlay keeps the picture where the map is cold and lays the colour map over it where it is
// hot.
TEST(Explainer, OverlayColoursWhereTheMapIsHot) {
  const cv::Mat view(40, 60, CV_8UC3, cv::Scalar(128, 128, 128));
  cv::Mat heat = cv::Mat::zeros(40, 60, CV_32F);
  heat(cv::Rect(30, 0, 30, 40)).setTo(1.0f);
  const cv::Mat out = overlay(view, heat, 0.5);
  ASSERT_EQ(out.size(), view.size());
  ASSERT_EQ(out.type(), CV_8UC3);
  const auto cold = out.at<cv::Vec3b>(20, 10);
  const auto hot = out.at<cv::Vec3b>(20, 50);
  // Cold: a faint blue tint (jet's 0) at an eighth; hot: half jet's dark red (B, G, R = 0, 0, 128).
  EXPECT_NEAR(cold[1], 128 * 0.875, 2);
  EXPECT_NEAR(hot[2], 128 * 0.5 + 128 * 0.5, 2);
  EXPECT_NEAR(hot[0], 128 * 0.5, 2);
  EXPECT_THROW(overlay(view, cv::Mat::zeros(20, 60, CV_32F)), core::Error);
}

}  // namespace
}  // namespace taxon::explain
