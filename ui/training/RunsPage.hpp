// The Runs page: the project's runs compared, in place of TensorBoard's scalars. A table of every
// run under runs/ (trained in the app, by the CLI, or copied from another machine), sortable and
// filtered by a text box; ticking runs overlays their curves on five charts (loss, learning rate,
// examples/sec, precision@1, recall@5), one colour per run with a legend. The x axis is the step,
// the epoch or the wall time since each run's first figure; loss and learning rate may be on a
// log scale; a smoothing slider (TensorBoard's debiased moving average, 0.6 by default) smooths
// the bold curves while the raw ones stay faint behind. Hovering a chart shows each run's value
// there. The settings that differ between the ticked runs, the charts as PNG and their data as
// CSV are a button away. Runs are read on a worker thread, and again every second (only what
// their metrics.jsonl gained), so a running run, the app's or a CLI's, keeps drawing among them.
#pragma once

#include <QColor>
#include <QString>
#include <QStringList>
#include <QWidget>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "training/CompareChart.hpp"
#include "training/RunCatalog.hpp"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSlider;
class QSortFilterProxyModel;
class QTableView;
class QThreadPool;
class QTimer;

namespace taxon::ui {

class ProjectSession;
class RunsModel;

class RunsPage : public QWidget {
  Q_OBJECT

 public:
  explicit RunsPage(ProjectSession* session, QWidget* parent = nullptr);
  ~RunsPage() override;

  RunsModel* model() const { return model_; }
  QSortFilterProxyModel* proxy() const { return proxy_; }
  QTableView* table() const { return table_; }
  QLineEdit* filterBox() const { return filter_; }
  QWidget* chartsArea() const { return charts_; }
  CompareChart* chart(RunMetric metric) const;

  bool tick(const QString& dir, bool on = true);
  void setAxis(RunAxis axis);
  RunAxis axis() const;
  void setSmoothing(double weight);  // 0 .. 0.99
  double smoothing() const;
  void setLogScale(bool on);
  // What could not be read of the ticked runs, one line each ("runs/b: metrics.jsonl: ...").
  QString noticeText() const;

  // The settings that differ between the ticked runs (train_dir left out): key, then one value
  // per ticked run in tick order ("—" where a run has none).
  struct SettingDifference {
    QString key;
    QStringList values;
  };
  std::vector<SettingDifference> settingsDiff() const;
  // The shown charts as one picture; their data (every point of the ticked runs, raw and
  // smoothed) as CSV: run,metric,step,epoch,wall_seconds,value,smoothed. False with `error`.
  bool exportPng(const QString& path, QString* error = nullptr);
  bool exportCsv(const QString& path, QString* error = nullptr);

 public Q_SLOTS:
  // Reads the runs again (what changed) on the worker thread; scanned() when applied.
  void rescan();
  void showSettingsDiff();

 Q_SIGNALS:
  void scanned();
  // A run double-clicked: the Train page shows it.
  void runActivated(const QString& dir);

 protected:
  void showEvent(QShowEvent* event) override;

 private:
  // What a drawn curve depends on.
  struct CurveKey {
    std::shared_ptr<const RunSeries> series;  // held, so that its address stays its own
    RunAxis axis;
    double weight;
    double timeScale;
    double stepsPerEpoch;
    double firstTime;
    bool positiveOnly;
    int width;  // the chart's plot, in pixels
    QColor colour;
    bool operator==(const CurveKey& other) const;
  };
  struct CachedCurve {
    CurveKey key;
    CompareChart::Curve curve;
  };
  static CompareChart::Curve curveOf(const RunSnapshot& run, RunMetric metric, const CurveKey& key);

  void applyScan(std::vector<RunSnapshot> runs);
  void redrawCharts();
  void updateControls();
  void chooseExport();

  ProjectSession* session_;
  RunsModel* model_;
  QSortFilterProxyModel* proxy_;
  QTableView* table_;
  QLineEdit* filter_;
  QComboBox* axis_;
  QCheckBox* log_;
  QSlider* smoothing_;
  QLabel* smoothingValue_;
  QPushButton* diff_;
  QPushButton* export_;
  QLabel* notice_;
  QWidget* charts_;
  std::vector<CompareChart*> chartList_;  // in kRunMetrics order
  // The ticked runs' curves as last drawn, by run and metric.
  std::map<std::pair<QString, int>, CachedCurve> curves_;
  QTimer* timer_;
  std::unique_ptr<QThreadPool> pool_;
  bool scanning_ = false;
  bool scanAgain_ = false;
  int scanTicks_ = 0;
};

}  // namespace taxon::ui
