// The app's side of the scale benchmark (run.sh): taxon-studio's main window on a large project,
// each step started from the running event loop and timed, with the longest event-loop stall
// while it ran and for a second after (the gap between ticks of a 10 ms timer; the app's promise
// is under 100 ms).
//   QT_QPA_PLATFORM=offscreen taxon_bench_studio PROJECT EVAL_DIR
// Prints one line per step: "studio step=NAME ms=T longest_stall_ms=S NOTE".
#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QTabWidget>
#include <QTimer>
#include <QTreeView>
#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>

#include "MainWindow.hpp"
#include "inspect/ConfusionHeatMap.hpp"
#include "inspect/InspectPage.hpp"
#include "labeling/CategoryTreeModel.hpp"
#include "labeling/DataPage.hpp"
#include "labeling/ImageGridModel.hpp"

using namespace taxon;

namespace {

// The longest gap between the ticks of a 10 ms timer since the last reset().
class StallMeter {
 public:
  StallMeter() {
    timer_.setInterval(10);
    QObject::connect(&timer_, &QTimer::timeout, [this] { tick(); });
    timer_.start();
    clock_.start();
  }
  void reset() {
    longest_ = 0;
    clock_.restart();
  }
  qint64 longestMs() const { return longest_; }

 private:
  void tick() { longest_ = std::max(longest_, clock_.restart()); }
  QTimer timer_;
  QElapsedTimer clock_;
  qint64 longest_ = 0;
};

// Runs `action` from the event loop, then lets the loop run for `settleMs`; prints the step.
void step(StallMeter& meter, const char* name, const std::function<QString()>& action,
          int settleMs = 1000) {
  QEventLoop loop;
  QString note;
  qint64 ms = 0;
  meter.reset();
  QTimer::singleShot(0, [&] {
    QElapsedTimer clock;
    clock.start();
    note = action();
    ms = clock.elapsed();
    QTimer::singleShot(settleMs, &loop, &QEventLoop::quit);
  });
  loop.exec();
  std::printf("studio step=%s ms=%lld longest_stall_ms=%lld %s\n", name, static_cast<long long>(ms),
              static_cast<long long>(meter.longestMs()), note.toStdString().c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: taxon_bench_studio PROJECT EVAL_DIR\n");
    return 2;
  }
  QApplication app(argc, argv);
  // Its own settings, so that the user's last project stays as it was.
  QApplication::setOrganizationName(QStringLiteral("Taxon bench"));
  QApplication::setApplicationName(QStringLiteral("taxon_bench_studio"));
  const QString project = QString::fromLocal8Bit(argv[1]);
  const QString evalDir = QString::fromLocal8Bit(argv[2]);
  StallMeter meter;
  std::unique_ptr<ui::MainWindow> window;

  step(meter, "open-project", [&] {
    window = std::make_unique<ui::MainWindow>(project, nullptr, false);
    window->resize(1400, 900);
    window->show();
    return QStringLiteral("categories-tree-images=%1")
        .arg(window->dataPage()->categoryModel()->totalImages());
  });
  step(meter, "tree-expand-all", [&] {
    auto* tree = window->dataPage()->findChild<QTreeView*>();
    if (tree != nullptr) {
      tree->expandAll();
    }
    window->dataPage()->categoryModel()->reload();
    return QStringLiteral("reloaded-and-expanded");
  });
  // The largest first-level node: the biggest subtree below the root.
  QString largest;
  std::int64_t largestCount = 0;
  {
    auto* model = window->dataPage()->categoryModel();
    for (int row = 0; row < model->rowCount(); ++row) {
      const auto index = model->index(row, ui::CategoryTreeModel::kTotal);
      const auto count = model->data(index).toString().remove(QLatin1Char(',')).toLongLong();
      if (count > largestCount) {
        largestCount = count;
        largest = model->data(index, ui::CategoryTreeModel::kPathRole).toString();
      }
    }
  }
  step(meter, "select-largest-subtree", [&] {
    window->dataPage()->selectCategory(largest);
    return QStringLiteral("subtree=%1 grid-rows=%2")
        .arg(largest)
        .arg(window->dataPage()->imageModel()->totalRows());
  });
  step(meter, "scroll-grid-to-end", [&] {
    auto* grid = window->dataPage()->imageModel();
    int pages = 0;
    while (grid->canFetchMore({}) && pages < 40) {
      grid->fetchMore({});
      ++pages;
    }
    return QStringLiteral("pages-fetched=%1 rows=%2").arg(pages).arg(grid->rowCount());
  });
  // As the app opens a report: read on a worker thread, shown when read. The step waits in a
  // nested event loop (the stall meter's timer keeps ticking there) until the heat map is shown.
  step(meter, "inspect-heat-map", [&] {
    window->pages()->setCurrentWidget(window->inspectPage());
    QEventLoop shown;
    QString outcome;
    auto* page = window->inspectPage();
    const auto loaded = QObject::connect(page, &ui::InspectPage::reportLoaded, [&] {
      page->heatMap()->repaint();
      outcome = QStringLiteral("report-loaded");
      shown.quit();
    });
    const auto failed =
        QObject::connect(page, &ui::InspectPage::reportFailed, [&](auto, const QString& error) {
          outcome = QStringLiteral("failed: ") + error;
          shown.quit();
        });
    page->openReport(evalDir);
    shown.exec();
    QObject::disconnect(loaded);
    QObject::disconnect(failed);
    return outcome;
  });
  step(meter, "heat-map-repaint", [&] {
    auto* map = window->inspectPage()->heatMap();
    map->fitToView();
    map->repaint();
    return QStringLiteral("%1x%2-pixels").arg(map->width()).arg(map->height());
  });
  window.reset();
  return 0;
}
