// One chart of the Train page: a few line series over the training step, refreshed with one
// replace() per series from decimated points (at most two per horizontal pixel), so it stays
// smooth at 100,000 steps. The axes follow the data; the colours follow the palette (light or
// dark, also when the system switches). GUI thread only.
#pragma once

#include <QChartView>
#include <QColor>
#include <QString>
#include <QStringList>
#include <vector>

class QLineSeries;
class QValueAxis;
class QLogValueAxis;

namespace taxon::ui {

class ChartPanel : public QChartView {
  Q_OBJECT

 public:
  ChartPanel(const QString& title, const QStringList& seriesNames, QWidget* parent = nullptr);

  // Replaces series `index` with `points` (x ascending).
  void setPoints(int index, const std::vector<QPointF>& points);
  void clearAll();
  int pointCount(int index) const;  // points in the series after decimation
  // The y axis may be fixed (fractions 0..1) instead of following the data.
  void setFixedRange(double low, double high);
  // A line under the title that says why the chart is empty ("nothing to evaluate: ..."); an
  // empty text removes it.
  void setNotice(const QString& text);
  // Series with at most this many points draw a marker on each, so that one evaluation or a few
  // are visible (a line needs two points).
  static constexpr int kMarkerLimit = 60;
  bool markersShown(int index) const;
  // Shows or hides series `index` with its legend entry (a hidden one does not set the axes).
  void setSeriesShown(int index, bool shown);
  bool seriesShown(int index) const;

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void applyPalette();
  void updateRanges();
  void setStepRange(double low, double high);

  std::vector<QLineSeries*> series_;
  QValueAxis* x_ = nullptr;
  QValueAxis* y_ = nullptr;
  bool fixedY_ = false;
  QString title_;
};

}  // namespace taxon::ui
