#include "training/ChartPanel.hpp"

#include <QChart>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QValueAxis>
#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>

#include "training/RunHistory.hpp"

namespace taxon::ui {

ChartPanel::ChartPanel(const QString& title, const QStringList& seriesNames, QWidget* parent)
    : QChartView(parent) {
  auto* chart = new QChart;
  title_ = title;
  chart->setTitle(title);
  chart->legend()->setVisible(seriesNames.size() > 1);
  chart->legend()->setAlignment(Qt::AlignBottom);
  chart->setMargins(QMargins(4, 4, 4, 4));
  x_ = new QValueAxis;
  x_->setLabelFormat(QStringLiteral("%d"));
  x_->setTitleText(tr("step"));
  y_ = new QValueAxis;
  chart->addAxis(x_, Qt::AlignBottom);
  chart->addAxis(y_, Qt::AlignLeft);
  for (const QString& name : seriesNames) {
    auto* series = new QLineSeries;
    series->setName(name);
    series->setUseOpenGL(false);
    chart->addSeries(series);
    series->attachAxis(x_);
    series->attachAxis(y_);
    series_.push_back(series);
  }
  setChart(chart);
  applyPalette();
  updateRanges();  // the empty chart's axes: 0 and 1, not five ticks labelled 0 0 0 0 1
  setRenderHint(QPainter::Antialiasing);
  setMinimumSize(280, 180);
}

void ChartPanel::applyPalette() {
  // The application palette (light or dark) instead of a fixed chart theme.
  QChart* c = chart();
  c->setBackgroundBrush(palette().base());
  c->setTitleBrush(palette().text());
  c->legend()->setLabelBrush(palette().text());
  for (QValueAxis* axis : {x_, y_}) {
    axis->setLabelsBrush(palette().text());
    axis->setTitleBrush(palette().text());
    axis->setGridLineColor(palette().mid().color());
  }
}

void ChartPanel::changeEvent(QEvent* event) {
  QChartView::changeEvent(event);
  if (event->type() == QEvent::PaletteChange) {
    applyPalette();  // the system switched between light and dark
  }
}

void ChartPanel::setPoints(int index, const std::vector<QPointF>& points) {
  if (index < 0 || index >= static_cast<int>(series_.size())) {
    return;
  }
  const int buckets = std::max(50, static_cast<int>(chart()->plotArea().width()));
  const std::vector<QPointF> shown = decimate(points, buckets);
  auto* series = series_[static_cast<std::size_t>(index)];
  series->replace(QList<QPointF>(shown.begin(), shown.end()));
  series->setPointsVisible(!shown.empty() &&
                           shown.size() <= static_cast<std::size_t>(kMarkerLimit));
  updateRanges();
}

void ChartPanel::setSeriesShown(int index, bool shown) {
  if (index < 0 || index >= static_cast<int>(series_.size())) {
    return;
  }
  auto* series = series_[static_cast<std::size_t>(index)];
  if (series->isVisible() == shown) {
    return;
  }
  series->setVisible(shown);
  for (auto* marker : chart()->legend()->markers(series)) {
    marker->setVisible(shown);
  }
  updateRanges();
}

bool ChartPanel::seriesShown(int index) const {
  return series_.at(static_cast<std::size_t>(index))->isVisible();
}

bool ChartPanel::markersShown(int index) const {
  return series_.at(static_cast<std::size_t>(index))->pointsVisible();
}

void ChartPanel::setNotice(const QString& text) {
  chart()->setTitle(text.isEmpty() ? title_ : title_ + QLatin1Char('\n') + text);
}

void ChartPanel::clearAll() {
  for (auto* series : series_) {
    series->clear();
  }
  updateRanges();
}

int ChartPanel::pointCount(int index) const {
  return static_cast<int>(series_.at(static_cast<std::size_t>(index))->count());
}

void ChartPanel::setFixedRange(double low, double high) {
  fixedY_ = true;
  y_->setRange(low, high);
}

void ChartPanel::setStepRange(double low, double high) {
  // Steps are whole numbers, labelled with %d: ticks at a whole step of 1, 2 or 5 x 10^k, at most
  // six of them (0 1; 842 843 844; 10 20 30 40), so that no label repeats ("843 843 843 843 844").
  low = std::floor(low);
  high = std::max(std::ceil(high), low + 1.0);
  double step = 1.0;
  for (double scale = 1.0;; scale *= 10.0) {
    const double candidates[] = {scale, 2 * scale, 5 * scale};
    const auto fits = std::find_if(std::begin(candidates), std::end(candidates), [&](double c) {
      return (std::ceil(high / c) - std::floor(low / c)) <= 5.0;
    });
    if (fits != std::end(candidates)) {
      step = *fits;
      break;
    }
  }
  low = std::floor(low / step) * step;
  high = std::ceil(high / step) * step;
  x_->setRange(low, high);
  x_->setTickCount(static_cast<int>(std::lround((high - low) / step)) + 1);
}

void ChartPanel::updateRanges() {
  double minX = std::numeric_limits<double>::max();
  double maxX = std::numeric_limits<double>::lowest();
  double minY = minX;
  double maxY = maxX;
  for (const auto* series : series_) {
    if (!series->isVisible()) {
      continue;
    }
    for (const QPointF& p : series->points()) {
      minX = std::min(minX, p.x());
      maxX = std::max(maxX, p.x());
      minY = std::min(minY, p.y());
      maxY = std::max(maxY, p.y());
    }
  }
  if (minX > maxX) {
    setStepRange(0.0, 1.0);
    if (!fixedY_) {
      y_->setRange(0, 1);
    }
    return;
  }
  // One point (or a few close ones) in the middle, not on the frame's edge.
  const double padX = std::max(1.0, (maxX - minX) * 0.02);
  setStepRange(minX == maxX ? minX - padX : minX, maxX + (minX == maxX ? padX : 0.0));
  if (!fixedY_) {
    const double pad = std::max(1e-9, (maxY - minY) * 0.05);
    const double low = minY >= 0.0 ? std::max(0.0, minY - pad) : minY - pad;
    y_->setRange(low, maxY + pad);
  }
}

}  // namespace taxon::ui
