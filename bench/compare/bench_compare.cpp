// The Runs page at scale: RUNS runs of STEPS steps each (metrics.jsonl lines as a run writes
// them, an evaluation every 1,000 steps, run-state.json "finished"), in a project's runs/. Prints
// the time to read them all (on the page's worker thread), to tick each run (its curves computed,
// smoothed, decimated and set on the five charts), to repaint the charts with all ticked, to move
// the smoothing slider and switch the axis, and the longest event-loop stall throughout, then the
// same while one more run grows by 50 steps every 100 ms (a live run) for 10 seconds.
//   taxon_bench_compare WORKDIR [RUNS=10] [STEPS=100000]
#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QTimer>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "StallMeter.hpp"
#include "common/ProjectSession.hpp"
#include "train/MetricsLog.hpp"
#include "train/RunState.hpp"
#include "training/RunsModel.hpp"
#include "training/RunsPage.hpp"

namespace fs = std::filesystem;
using taxon::ui::RunsPage;

namespace {

// Lines of steps [from, to] of run `index`: a loss falling with noise, a cosine learning rate.
std::string metricLines(int index, std::int64_t from, std::int64_t to, std::int64_t total,
                        std::mt19937& random) {
  std::normal_distribution<double> noise(0.0, 0.15);
  std::string out;
  const double start = 1.7e9 + index * 1e5;
  for (std::int64_t step = from; step <= to; ++step) {
    taxon::train::StepMetrics m;
    m.step = step;
    m.epoch = step / 937;
    const double t = static_cast<double>(step) / static_cast<double>(total);
    m.loss = 2.3 * std::exp(-3.0 * t) + 0.3 + 0.02 * index + noise(random) * (1.0 - 0.5 * t);
    m.crossEntropy = m.loss;
    m.learningRate = 0.1 * (1.0 + 0.1 * index) * 0.5 * (1.0 + std::cos(M_PI * t));
    m.examplesPerSec = 800.0 + 40.0 * noise(random);
    m.secPerBatch = 0.08;
    m.wallTime = start + 0.08 * static_cast<double>(step);
    out += taxon::train::metricsLine(m) + "\n";
    if (step % 1000 == 0) {
      taxon::train::EvalPoint e;
      e.step = step;
      e.subset = "validation";
      e.examples = 10000;
      e.precisionAt1 = 0.9 - 0.6 * std::exp(-4.0 * t) - 0.005 * index;
      e.recallAt5 = std::min(1.0, e.precisionAt1 + 0.08);
      out += taxon::train::metricsLine(e, m.wallTime) + "\n";
    }
  }
  return out;
}

void writeRun(const fs::path& dir, int index, std::int64_t steps) {
  fs::create_directories(dir);
  std::ofstream(dir / "settings.json")
      << "{\"recipe\":\"small-data\",\"depth_multiplier\":" << 0.25 + 0.05 * index
      << ",\"image_size\":75,\"batch_size\":64,\"max_steps\":" << steps << ",\"max_epochs\":0"
      << ",\"seed\":" << index << "}\n";
  std::mt19937 random(static_cast<unsigned>(index));
  std::ofstream(dir / "metrics.jsonl") << metricLines(index, 1, steps, steps, random);
  taxon::train::RunState state;
  state.status = taxon::train::RunStatus::Finished;
  state.host = taxon::train::hostName();
  state.step = steps;
  state.totalSteps = steps;
  state.stepsPerEpoch = 937;
  taxon::train::writeRunState(dir, state);
}

double msSince(const QElapsedTimer& timer) {
  return static_cast<double>(timer.nsecsElapsed()) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  if (argc < 2) {
    std::fprintf(stderr, "usage: taxon_bench_compare WORKDIR [RUNS=10] [STEPS=100000]\n");
    return 2;
  }
  const fs::path work = fs::absolute(argv[1]);  // the page names runs by absolute paths
  const int runs = argc > 2 ? std::atoi(argv[2]) : 10;
  const std::int64_t steps = argc > 3 ? std::atoll(argv[3]) : 100000;
  const fs::path project = work / "project";
  fs::remove_all(project);
  taxon::ui::ProjectSession session;
  QString error;
  if (!session.open(QString::fromStdString(project.string()), true, &error)) {
    std::fprintf(stderr, "%s\n", qPrintable(error));
    return 1;
  }
  QElapsedTimer clock;
  clock.start();
  for (int i = 0; i < runs; ++i) {
    writeRun(project / "runs" / ("run-" + std::to_string(i)), i, steps);
  }
  std::printf("wrote %d runs of %lld steps in %.1f s (%.0f MB of metrics.jsonl)\n", runs,
              static_cast<long long>(steps), msSince(clock) / 1000.0,
              static_cast<double>(fs::file_size(project / "runs" / "run-0" / "metrics.jsonl")) *
                  runs / 1e6);

  RunsPage page(&session);
  page.resize(1600, 1000);
  taxon::test::StallMeter stalls;
  clock.restart();
  page.show();
  while (page.model()->rowCount() < runs) {
    QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
  }
  std::printf("read all runs (worker thread): %.0f ms; longest stall meanwhile %lld ms\n",
              msSince(clock), stalls.longestMs());

  // A person's next action comes later than the event loop's next turn: 50 ms of events between
  // two, so that the stall meter sees each action's own stall.
  const auto settle = [] {
    QElapsedTimer wait;
    wait.start();
    while (wait.elapsed() < 50) {
      QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    }
  };
  double longestTick = 0.0;
  double totalTick = 0.0;
  for (int i = 0; i < runs; ++i) {
    const auto& run = page.model()->runs()[static_cast<std::size_t>(i)];
    clock.restart();
    page.tick(run.dir);
    QCoreApplication::processEvents();  // the charts' layout and paint
    const double ms = msSince(clock);
    longestTick = std::max(longestTick, ms);
    totalTick += ms;
    std::printf("tick run %d: %.1f ms\n", i + 1, ms);
    settle();
  }
  std::printf("tick: mean %.1f ms, longest %.1f ms\n", totalTick / runs, longestTick);

  const auto timed = [&](const char* what, const std::function<void()>& action) {
    double longest = 0.0;
    double total = 0.0;
    for (int i = 0; i < 5; ++i) {
      clock.restart();
      action();
      QCoreApplication::processEvents();
      const double ms = msSince(clock);
      longest = std::max(longest, ms);
      total += ms;
      settle();
    }
    std::printf("%s: mean %.1f ms, longest %.1f ms\n", what, total / 5, longest);
  };
  timed("paint the five charts, all ticked", [&] { (void)page.chartsArea()->grab(); });
  int weight = 0;
  timed("move the smoothing slider", [&] { page.setSmoothing(0.5 + 0.1 * (weight++ % 5)); });
  int axis = 0;
  timed("switch the x axis", [&] { page.setAxis(static_cast<taxon::ui::RunAxis>(++axis % 3)); });
  page.setAxis(taxon::ui::RunAxis::Step);
  timed("log scale on or off", [&] { page.setLogScale(axis++ % 2 == 0); });
  std::printf("longest event-loop stall so far: %lld ms\n", stalls.longestMs());

  // A live run among them: 50 steps every 100 ms, for 10 seconds.
  const fs::path live = project / "runs" / "live";
  fs::create_directories(live);
  std::ofstream(live / "settings.json")
      << "{\"recipe\":\"small-data\",\"max_steps\":" << steps << ",\"max_epochs\":0}\n";
  taxon::train::RunState state;
  state.host = taxon::train::hostName();
  state.pid = static_cast<std::int64_t>(QCoreApplication::applicationPid());
  state.totalSteps = steps;
  state.stepsPerEpoch = 937;
  taxon::train::writeRunState(live, state);
  std::atomic<bool> stop{false};
  std::atomic<std::int64_t> written{0};
  std::thread writer([&] {
    std::mt19937 random(99);
    std::ofstream out(live / "metrics.jsonl", std::ios::app);
    std::int64_t step = 0;
    while (!stop) {
      out << metricLines(runs, step + 1, step + 50, steps, random) << std::flush;
      step += 50;
      written = step;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  while (page.model()->run(QString::fromStdString(live.string())) == nullptr) {
    QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
  }
  page.tick(QString::fromStdString(live.string()));
  stalls.reset();
  clock.restart();
  while (clock.elapsed() < 10000) {
    QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
  }
  stop = true;
  writer.join();
  const auto* liveRun = page.model()->run(QString::fromStdString(live.string()));
  std::printf("live run: %lld steps written, %lld drawn after 10 s; longest stall %lld ms\n",
              static_cast<long long>(written.load()),
              static_cast<long long>(liveRun != nullptr ? liveRun->lastStep : 0),
              stalls.longestMs());
  return 0;
}
