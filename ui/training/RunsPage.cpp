#include "training/RunsPage.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonValue>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPixmap>
#include <QPushButton>
#include <QSaveFile>
#include <QSlider>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QTableWidget>
#include <QThread>
#include <QThreadPool>
#include <QTimer>
#include <QVBoxLayout>
#include <algorithm>
#include <atomic>
#include <iterator>
#include <map>
#include <set>
#include <thread>
#include <utility>

#include "common/ProjectSession.hpp"
#include "training/CompareChart.hpp"
#include "training/RunHistory.hpp"
#include "training/RunsModel.hpp"

namespace taxon::ui {

namespace {

bool onLogScale(RunMetric metric) {
  return metric == RunMetric::Loss || metric == RunMetric::LearningRate;
}

QString chartTitle(RunMetric metric) {
  switch (metric) {
    case RunMetric::Loss:
      return RunsPage::tr("Loss");
    case RunMetric::LearningRate:
      return RunsPage::tr("Learning rate");
    case RunMetric::ExamplesPerSec:
      return RunsPage::tr("Examples/sec");
    case RunMetric::PrecisionAt1:
      return RunsPage::tr("Precision@1");
    case RunMetric::RecallAt5:
      return RunsPage::tr("Recall@5");
  }
  return {};
}

QString settingText(const QJsonValue& value) {
  switch (value.type()) {
    case QJsonValue::Bool:
      return value.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    case QJsonValue::Double:
      return QString::number(value.toDouble(), 'g', 10);
    case QJsonValue::String:
      return value.toString();
    case QJsonValue::Undefined:
      return QStringLiteral("—");
    default:
      return QString::fromUtf8(QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact))
          .mid(1)
          .chopped(1);
  }
}

QString csvField(const QString& text) {
  if (!text.contains(QLatin1Char(',')) && !text.contains(QLatin1Char('"')) &&
      !text.contains(QLatin1Char('\n'))) {
    return text;
  }
  QString quoted = text;
  quoted.replace(QStringLiteral("\""), QStringLiteral("\"\""));
  return QLatin1Char('"') + quoted + QLatin1Char('"');
}

// Minutes for runs under three hours, hours beyond.
double timeScaleFor(const std::vector<const RunSnapshot*>& runs) {
  double longest = 0.0;
  for (const auto* run : runs) {
    longest = std::max(longest, run->wallSeconds);
  }
  return longest < 3 * 3600.0 ? 60.0 : 3600.0;
}

}  // namespace

bool RunsPage::CurveKey::operator==(const CurveKey& o) const {
  return series == o.series && axis == o.axis && weight == o.weight && timeScale == o.timeScale &&
         stepsPerEpoch == o.stepsPerEpoch && firstTime == o.firstTime &&
         positiveOnly == o.positiveOnly && width == o.width && colour == o.colour;
}

// A run's curve of `metric` as drawn: x on the key's axis, smoothed and raw values, each
// reduced to what the chart's width can show (and without the points a log scale cannot show).
CompareChart::Curve RunsPage::curveOf(const RunSnapshot& run, RunMetric metric,
                                      const CurveKey& key) {
  // The step axis reads the run's own column; the others are made from it.
  std::vector<double> made;
  if (key.axis != RunAxis::Step) {
    made = axisValues(run, metric, key.axis, key.timeScale);
  }
  const std::vector<double>& xs = key.axis == RunAxis::Step ? run.series->steps(metric) : made;
  const std::vector<double>& ys = run.series->values(metric);
  const std::vector<double> smooth = key.weight > 0.0 ? smoothed(ys, key.weight) : ys;
  const std::size_t n = std::min(xs.size(), ys.size());
  const auto draw = [&](const std::vector<double>& values, bool spiky) {
    // A noisy curve: the extremes of each 4 pixels (at most 1 point a pixel); a smooth one: a
    // point every 2 pixels.
    const auto reduce = [&](std::size_t count, auto x, auto y) {
      return spiky ? decimate(count, x, y, std::max(12, key.width / 4))
                   : thin(count, x, y, std::max(25, key.width / 2));
    };
    if (!key.positiveOnly) {
      return reduce(
          n, [&](std::size_t i) { return xs[i]; }, [&](std::size_t i) { return values[i]; });
    }
    // Only the points a log scale can show, by index.
    std::vector<std::size_t> kept;
    kept.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      if (values[i] > 0.0) {
        kept.push_back(i);
      }
    }
    return reduce(
        kept.size(), [&](std::size_t j) { return xs[kept[j]]; },
        [&](std::size_t j) { return values[kept[j]]; });
  };
  CompareChart::Curve curve{run.name, key.colour, {}, draw(smooth, key.weight == 0.0)};
  if (key.weight > 0.0) {
    curve.raw = draw(ys, true);
  }
  return curve;
}

RunsPage::RunsPage(ProjectSession* session, QWidget* parent) : QWidget(parent), session_(session) {
  pool_ = std::make_unique<QThreadPool>();
  pool_->setMaxThreadCount(1);
  model_ = new RunsModel(this);
  proxy_ = new QSortFilterProxyModel(this);
  proxy_->setSourceModel(model_);
  proxy_->setSortRole(RunsModel::SortRole);
  proxy_->setFilterKeyColumn(-1);
  proxy_->setFilterCaseSensitivity(Qt::CaseInsensitive);

  filter_ = new QLineEdit(this);
  filter_->setObjectName(QStringLiteral("runFilter"));
  filter_->setPlaceholderText(tr("Filter runs (name, recipe, state, …)"));
  filter_->setClearButtonEnabled(true);
  diff_ = new QPushButton(tr("Settings diff…"), this);
  diff_->setObjectName(QStringLiteral("settingsDiff"));
  diff_->setToolTip(tr("The settings that differ between the ticked runs"));
  export_ = new QPushButton(tr("Export…"), this);
  export_->setObjectName(QStringLiteral("exportCharts"));
  export_->setToolTip(tr("The shown charts as PNG, or their data as CSV"));
  auto* top = new QHBoxLayout;
  top->addWidget(filter_, 1);
  top->addWidget(diff_);
  top->addWidget(export_);

  table_ = new QTableView(this);
  table_->setObjectName(QStringLiteral("runsTable"));
  table_->setModel(proxy_);
  table_->setSortingEnabled(true);
  table_->sortByColumn(-1, Qt::AscendingOrder);  // the project's order until a header is clicked
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setAlternatingRowColors(true);
  table_->verticalHeader()->hide();
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setSectionResizeMode(RunsModel::Name, QHeaderView::Stretch);
  table_->horizontalHeader()->setStretchLastSection(false);
  // Room for six runs before the table scrolls.
  table_->setMinimumHeight(table_->horizontalHeader()->sizeHint().height() +
                           6 * table_->verticalHeader()->defaultSectionSize() + 4);

  axis_ = new QComboBox(this);
  axis_->setObjectName(QStringLiteral("xAxis"));
  axis_->addItem(tr("step"), static_cast<int>(RunAxis::Step));
  axis_->addItem(tr("epoch"), static_cast<int>(RunAxis::Epoch));
  axis_->addItem(tr("wall time"), static_cast<int>(RunAxis::WallTime));
  log_ = new QCheckBox(tr("Log scale (loss, learning rate)"), this);
  log_->setObjectName(QStringLiteral("logScale"));
  smoothing_ = new QSlider(Qt::Horizontal, this);
  smoothing_->setObjectName(QStringLiteral("smoothing"));
  smoothing_->setRange(0, 99);
  smoothing_->setValue(60);
  smoothing_->setToolTip(
      tr("Exponential moving average of each curve (TensorBoard's smoothing); "
         "the raw figures stay faint behind"));
  smoothingValue_ = new QLabel(this);
  smoothingValue_->setMinimumWidth(fontMetrics().horizontalAdvance(QStringLiteral("0.00")));
  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel(tr("X axis"), this));
  controls->addWidget(axis_);
  controls->addSpacing(12);
  controls->addWidget(log_);
  controls->addSpacing(12);
  controls->addWidget(new QLabel(tr("Smoothing"), this));
  controls->addWidget(smoothing_, 1);
  controls->addWidget(smoothingValue_);

  charts_ = new QWidget(this);
  charts_->setObjectName(QStringLiteral("compareCharts"));
  auto* grid = new QGridLayout(charts_);
  grid->setContentsMargins(0, 0, 0, 0);
  for (const RunMetric metric : kRunMetrics) {
    auto* chart = new CompareChart(chartTitle(metric), charts_);
    chart->setObjectName(QStringLiteral("compare-") + runMetricName(metric));
    chartList_.push_back(chart);
  }
  // The loss large on the left; the evaluation beside it; the schedule and speed on the right.
  grid->addWidget(chart(RunMetric::Loss), 0, 0, 2, 1);
  grid->addWidget(chart(RunMetric::PrecisionAt1), 0, 1);
  grid->addWidget(chart(RunMetric::RecallAt5), 1, 1);
  grid->addWidget(chart(RunMetric::LearningRate), 0, 2);
  grid->addWidget(chart(RunMetric::ExamplesPerSec), 1, 2);
  grid->setColumnStretch(0, 3);
  grid->setColumnStretch(1, 2);
  grid->setColumnStretch(2, 2);
  chart(RunMetric::PrecisionAt1)->setFixedRange(0.0, 1.0);
  chart(RunMetric::RecallAt5)->setFixedRange(0.0, 1.0);

  notice_ = new QLabel(this);
  notice_->setObjectName(QStringLiteral("runsNotice"));
  notice_->setWordWrap(true);
  notice_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  auto* lower = new QWidget(this);
  auto* lowerLayout = new QVBoxLayout(lower);
  lowerLayout->setContentsMargins(0, 0, 0, 0);
  lowerLayout->addLayout(controls);
  lowerLayout->addWidget(charts_, 1);
  lowerLayout->addWidget(notice_);
  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(table_);
  split->addWidget(lower);
  split->setStretchFactor(0, 1);
  split->setStretchFactor(1, 4);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addWidget(split, 1);

  timer_ = new QTimer(this);
  timer_->setInterval(1000);
  connect(timer_, &QTimer::timeout, this, [this] {
    // Every second while shown: the runs' new figures (and new runs).
    if (isVisible()) {
      rescan();
    }
  });
  connect(filter_, &QLineEdit::textChanged, proxy_, &QSortFilterProxyModel::setFilterFixedString);
  connect(model_, &RunsModel::tickedChanged, this, [this] {
    redrawCharts();
    updateControls();
  });
  connect(axis_, &QComboBox::currentIndexChanged, this, &RunsPage::redrawCharts);
  connect(log_, &QCheckBox::toggled, this, [this](bool on) {
    for (const RunMetric metric : kRunMetrics) {
      if (onLogScale(metric)) {
        chart(metric)->setLogScale(on);
      }
    }
    redrawCharts();
  });
  connect(smoothing_, &QSlider::valueChanged, this, [this] {
    smoothingValue_->setText(QString::number(smoothing(), 'f', 2));
    redrawCharts();
  });
  connect(diff_, &QPushButton::clicked, this, &RunsPage::showSettingsDiff);
  connect(export_, &QPushButton::clicked, this, &RunsPage::chooseExport);
  connect(table_, &QTableView::doubleClicked, this, [this](const QModelIndex& index) {
    Q_EMIT runActivated(index.data(RunsModel::DirRole).toString());
  });
  connect(session_, &ProjectSession::opened, this, [this] {
    model_->setRuns({});
    rescan();
  });
  connect(session_, &ProjectSession::closed, this, [this] { model_->setRuns({}); });
  smoothingValue_->setText(QString::number(smoothing(), 'f', 2));
  timer_->start();
  updateControls();
  redrawCharts();
}

RunsPage::~RunsPage() {
  timer_->stop();
  pool_->waitForDone();
}

CompareChart* RunsPage::chart(RunMetric metric) const {
  return chartList_.at(static_cast<std::size_t>(metric));
}

void RunsPage::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  rescan();
}

bool RunsPage::tick(const QString& dir, bool on) {
  return model_->setTicked(dir, on);
}

void RunsPage::setAxis(RunAxis axis) {
  axis_->setCurrentIndex(axis_->findData(static_cast<int>(axis)));
}

RunAxis RunsPage::axis() const {
  return static_cast<RunAxis>(axis_->currentData().toInt());
}

void RunsPage::setSmoothing(double weight) {
  smoothing_->setValue(static_cast<int>(std::lround(std::clamp(weight, 0.0, 0.99) * 100.0)));
}

double RunsPage::smoothing() const {
  return smoothing_->value() / 100.0;
}

void RunsPage::setLogScale(bool on) {
  log_->setChecked(on);
}

QString RunsPage::noticeText() const {
  return notice_->text();
}

void RunsPage::rescan() {
  if (!session_->isOpen()) {
    return;
  }
  if (scanning_) {
    scanAgain_ = true;
    return;
  }
  scanning_ = true;
  const QDir project(session_->projectDir());
  std::vector<std::pair<QString, QString>> dirs;
  for (const QString& dir : session_->runDirs()) {
    dirs.emplace_back(dir, project.relativeFilePath(dir));
  }
  std::map<QString, RunSnapshot> previous;
  for (const RunSnapshot& run : model_->runs()) {
    previous.emplace(run.dir, run);
  }
  pool_->start([this, dirs = std::move(dirs), previous = std::move(previous)] {
    std::vector<RunSnapshot> runs;
    runs.reserve(dirs.size());
    for (const auto& [dir, name] : dirs) {
      const auto it = previous.find(dir);
      runs.push_back(loadRun(dir, name, it == previous.end() ? nullptr : &it->second));
    }
    QMetaObject::invokeMethod(
        this, [this, runs = std::move(runs)]() mutable { applyScan(std::move(runs)); },
        Qt::QueuedConnection);
  });
}

void RunsPage::applyScan(std::vector<RunSnapshot> runs) {
  scanning_ = false;
  // Whether the ticked runs' figures changed.
  bool changed = false;
  for (const QString& dir : model_->ticked()) {
    const RunSnapshot* before = model_->run(dir);
    const auto after =
        std::find_if(runs.begin(), runs.end(), [&](const RunSnapshot& r) { return r.dir == dir; });
    changed = changed || before == nullptr || after == runs.end() ||
              before->series != after->series || before->stepsPerEpoch != after->stepsPerEpoch ||
              before->problems != after->problems;
  }
  const QStringList tickedBefore = model_->ticked();
  model_->setRuns(std::move(runs));
  if (changed && tickedBefore == model_->ticked()) {
    redrawCharts();  // (a ticked run that went away redrew through tickedChanged)
  }
  updateControls();
  Q_EMIT scanned();
  if (std::exchange(scanAgain_, false)) {
    rescan();
  }
}

void RunsPage::updateControls() {
  diff_->setEnabled(model_->ticked().size() >= 2);
  export_->setEnabled(!model_->ticked().isEmpty());
}

void RunsPage::redrawCharts() {
  std::vector<const RunSnapshot*> runs;
  for (const QString& dir : model_->ticked()) {
    if (const RunSnapshot* run = model_->run(dir)) {
      runs.push_back(run);
    }
  }
  const RunAxis x = axis();
  const double timeScale = timeScaleFor(runs);
  const QString xTitle = x == RunAxis::Step    ? tr("step")
                         : x == RunAxis::Epoch ? tr("epoch")
                         : timeScale == 60.0   ? tr("wall time (minutes)")
                                               : tr("wall time (hours)");
  const double weight = smoothing();
  const bool logScale = log_->isChecked();
  // Each curve is computed once per change of its run's figures or of the view (not per
  // redraw); those that changed are computed on all cores.
  using CurveId = std::pair<QString, int>;
  struct Job {
    CurveId id;
    const RunSnapshot* run;
    RunMetric metric;
    CurveKey key;
    CompareChart::Curve curve;
  };
  std::vector<Job> jobs;
  std::vector<std::vector<CurveId>> ids(std::size(kRunMetrics));
  for (const RunMetric metric : kRunMetrics) {
    const bool positiveOnly = logScale && onLogScale(metric);
    const int width = chart(metric)->plotWidth();
    for (const RunSnapshot* run : runs) {
      CurveKey key{run->series,
                   x,
                   weight,
                   timeScale,
                   run->stepsPerEpoch,
                   run->firstTime,
                   positiveOnly,
                   width,
                   model_->colour(run->dir)};
      CurveId id(run->dir, static_cast<int>(metric));
      const auto cached = curves_.find(id);
      if (cached == curves_.end() || !(cached->second.key == key)) {
        jobs.push_back({id, run, metric, std::move(key), {}});
      }
      ids[static_cast<std::size_t>(metric)].push_back(std::move(id));
    }
  }
  {
    std::atomic<std::size_t> next{0};
    const auto work = [&] {
      for (std::size_t i = next++; i < jobs.size(); i = next++) {
        jobs[i].curve = curveOf(*jobs[i].run, jobs[i].metric, jobs[i].key);
      }
    };
    const auto helpers = std::min<std::size_t>(
        jobs.size() > 1 ? jobs.size() - 1 : 0,
        static_cast<std::size_t>(std::max(1, QThread::idealThreadCount())) - 1);
    std::vector<std::jthread> threads;
    for (std::size_t i = 0; i < helpers; ++i) {
      threads.emplace_back(work);
    }
    work();
  }
  for (Job& job : jobs) {
    curves_.insert_or_assign(job.id, CachedCurve{std::move(job.key), std::move(job.curve)});
  }
  std::map<CurveId, CachedCurve> kept;
  for (const RunMetric metric : kRunMetrics) {
    CompareChart* view = chart(metric);
    std::vector<CompareChart::Curve> curves;
    bool anyPoint = false;
    for (const CurveId& id : ids[static_cast<std::size_t>(metric)]) {
      auto node = curves_.extract(id);  // moved, not copied, into what stays cached
      anyPoint = anyPoint || !node.mapped().curve.smoothed.empty();
      curves.push_back(node.mapped().curve);
      kept.insert(std::move(node));
    }
    view->setCurves(curves, xTitle);
    const bool evaluation = metric == RunMetric::PrecisionAt1 || metric == RunMetric::RecallAt5;
    view->setNotice(runs.empty()              ? tr("tick runs in the table to draw them")
                    : !anyPoint && evaluation ? tr("no evaluations in the ticked runs yet")
                                              : QString());
  }
  curves_ = std::move(kept);  // the unticked runs' curves go
  QStringList lines;
  for (const RunSnapshot* run : runs) {
    for (const QString& problem : run->problems) {
      if (problem != QStringLiteral("no metrics.jsonl yet") ||
          run->state.status != train::RunStatus::Running) {
        lines.push_back(QStringLiteral("%1: %2").arg(run->name, problem));
      }
    }
  }
  notice_->setText(lines.join(QLatin1Char('\n')));
  notice_->setVisible(!lines.isEmpty());
}

std::vector<RunsPage::SettingDifference> RunsPage::settingsDiff() const {
  std::vector<const RunSnapshot*> runs;
  for (const QString& dir : model_->ticked()) {
    if (const RunSnapshot* run = model_->run(dir)) {
      runs.push_back(run);
    }
  }
  std::set<QString> keys;
  for (const auto* run : runs) {
    for (auto it = run->settings.begin(); it != run->settings.end(); ++it) {
      keys.insert(it.key());
    }
  }
  std::vector<SettingDifference> differences;
  for (const QString& key : keys) {
    if (key == QStringLiteral("train_dir")) {
      continue;  // the columns name the runs
    }
    SettingDifference d{key, {}};
    for (const auto* run : runs) {
      d.values.push_back(settingText(run->settings.value(key)));
    }
    if (std::any_of(d.values.begin(), d.values.end(),
                    [&](const QString& v) { return v != d.values.front(); })) {
      differences.push_back(std::move(d));
    }
  }
  return differences;
}

void RunsPage::showSettingsDiff() {
  const auto differences = settingsDiff();
  QStringList names;
  for (const QString& dir : model_->ticked()) {
    if (const RunSnapshot* run = model_->run(dir)) {
      names.push_back(run->name);
    }
  }
  auto* dialog = new QDialog(this);
  dialog->setObjectName(QStringLiteral("settingsDiffDialog"));
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  dialog->setWindowTitle(tr("Settings that differ"));
  auto* table = new QTableWidget(static_cast<int>(differences.size()),
                                 static_cast<int>(names.size()), dialog);
  table->setHorizontalHeaderLabels(names);
  QStringList keys;
  for (std::size_t row = 0; row < differences.size(); ++row) {
    keys.push_back(differences[row].key);
    for (int column = 0; column < names.size(); ++column) {
      auto* item = new QTableWidgetItem(differences[row].values.value(column));
      item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable);
      table->setItem(static_cast<int>(row), column, item);
    }
  }
  table->setVerticalHeaderLabels(keys);
  table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  auto* label =
      new QLabel(differences.empty() ? tr("The ticked runs have the same settings.")
                 : differences.size() == 1
                     ? tr("1 setting differs; the others are the same.")
                     : tr("%1 settings differ; the others are the same.").arg(differences.size()),
                 dialog);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, dialog);
  connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
  auto* layout = new QVBoxLayout(dialog);
  layout->addWidget(label);
  layout->addWidget(table, 1);
  layout->addWidget(buttons);
  dialog->resize(640, 400);
  dialog->show();
}

bool RunsPage::exportPng(const QString& path, QString* error) {
  const QPixmap picture = charts_->grab();
  if (!picture.save(path, "PNG")) {
    if (error != nullptr) {
      *error = tr("%1: could not be written").arg(path);
    }
    return false;
  }
  return true;
}

bool RunsPage::exportCsv(const QString& path, QString* error) {
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly | QIODevice::Text)) {
    if (error != nullptr) {
      *error = tr("%1: %2").arg(path, file.errorString());
    }
    return false;
  }
  QByteArray out = "run,metric,step,epoch,wall_seconds,value,smoothed\n";
  const double weight = smoothing();
  for (const QString& dir : model_->ticked()) {
    const RunSnapshot* run = model_->run(dir);
    if (run == nullptr) {
      continue;
    }
    for (const RunMetric metric : kRunMetrics) {
      const auto& steps = run->series->steps(metric);
      const auto epochs = axisValues(*run, metric, RunAxis::Epoch, 1.0);
      const auto seconds = axisValues(*run, metric, RunAxis::WallTime, 1.0);
      const auto& values = run->series->values(metric);
      const auto smooth = smoothed(values, weight);
      const QByteArray prefix =
          (csvField(run->name) + QLatin1Char(',') + runMetricName(metric) + QLatin1Char(','))
              .toUtf8();
      for (std::size_t i = 0; i < values.size(); ++i) {
        out += prefix;
        out += QByteArray::number(static_cast<qlonglong>(steps[i])) + ',' +
               QByteArray::number(epochs[i], 'g', 8) + ',' +
               QByteArray::number(seconds[i], 'f', 3) + ',' +
               QByteArray::number(values[i], 'g', 9) + ',' + QByteArray::number(smooth[i], 'g', 9) +
               '\n';
      }
    }
  }
  file.write(out);
  if (!file.commit()) {
    if (error != nullptr) {
      *error = tr("%1: %2").arg(path, file.errorString());
    }
    return false;
  }
  return true;
}

void RunsPage::chooseExport() {
  const QString path = QFileDialog::getSaveFileName(
      this, tr("Export charts"), QDir(session_->projectDir()).filePath(QStringLiteral("runs.png")),
      tr("Picture of the charts (*.png);;Data of the charts (*.csv)"));
  if (path.isEmpty()) {
    return;
  }
  QString error;
  const bool ok = path.endsWith(QStringLiteral(".csv"), Qt::CaseInsensitive)
                      ? exportCsv(path, &error)
                      : exportPng(path, &error);
  if (!ok) {
    QMessageBox::warning(this, tr("Export charts"), error);
  }
}

}  // namespace taxon::ui
