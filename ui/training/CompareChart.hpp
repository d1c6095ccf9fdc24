// One chart of the Runs page: a figure of several runs overlaid, each in its colour, its smoothed
// curve drawn over its raw one (faint), with a legend of the runs. The caller decimates the points
// (plotWidth() says to how many). Painted with QPainter rather than Qt Charts: Qt Charts outlines
// every point of every series again for its hit tests whenever an axis moves, which took 60-120 ms
// a redraw at ten runs (bench/compare) where one painted frame takes a few. The y axis may be
// logarithmic (points at or below zero are left out). Hovering shows each run's value nearest the
// pointer's x beside a vertical line. Colours follow the palette (light or dark). GUI thread only.
#pragma once

#include <QColor>
#include <QPointF>
#include <QRectF>
#include <QString>
#include <QWidget>
#include <cstddef>
#include <optional>
#include <vector>

namespace taxon::ui {

class CompareChart : public QWidget {
  Q_OBJECT

 public:
  struct Curve {
    QString name;
    QColor colour;
    std::vector<QPointF> raw;       // empty: no faint raw curve (smoothing off)
    std::vector<QPointF> smoothed;  // x ascending
  };

  explicit CompareChart(const QString& title, QWidget* parent = nullptr);

  // Curves of at most this many points draw a marker on each (a few evaluations stay visible;
  // a line needs two points).
  static constexpr std::size_t kMarkerLimit = 12;

  // Replaces the curves (points as drawn: decimated). `xTitle` names the x axis ("step",
  // "epoch", "wall time (minutes)").
  void setCurves(const std::vector<Curve>& curves, const QString& xTitle);
  void setLogScale(bool on);
  bool logScale() const { return log_; }
  // A fixed y range (fractions 0..1) instead of following the data (linear scale only).
  void setFixedRange(double low, double high);
  // A line under the title ("no evaluations in the ticked runs yet"); empty removes it.
  void setNotice(const QString& text);
  QString notice() const { return notice_; }
  QString title() const { return title_; }
  QString xTitle() const { return xTitle_; }
  int plotWidth() const;  // pixels

  int curveCount() const { return static_cast<int>(curves_.size()); }
  // Points drawn of curve `index` (smoothed, and raw) after decimation.
  int pointCount(int index) const;
  int rawPointCount(int index) const;
  const std::vector<QPointF>& smoothedPoints(int index) const;
  QColor curveColour(int index) const;
  QString curveName(int index) const;
  // The axes' ranges as drawn, and where a value lies in the widget.
  QRectF plotArea() const;
  double xLow() const { return x0_; }
  double xHigh() const { return x1_; }
  double yLow() const { return y0_; }
  double yHigh() const { return y1_; }
  QPointF toWidget(const QPointF& value) const;

  // Shows the values nearest `x` (in axis units) as hovering there does; hoverText() is what it
  // shows (the x, then one line per run: "run-a  0.4312 (raw 0.441)"), empty when hidden.
  void hoverAt(double x);
  void hideHover();
  QString hoverText() const;

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void leaveEvent(QEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;

 private:
  void updateRanges();
  void layoutParts();  // the plot area and the legend's rows for the widget's size
  std::vector<double> ticks(bool xAxis) const;
  QString tickLabel(double value, bool xAxis, double spacing) const;
  double toY(double value) const;

  QString title_;
  QString notice_;
  QString xTitle_;
  std::vector<Curve> curves_;
  bool log_ = false;
  bool fixed_ = false;
  double fixedLow_ = 0.0, fixedHigh_ = 1.0;
  double x0_ = 0.0, x1_ = 1.0, y0_ = 0.0, y1_ = 1.0;
  QRectF plot_;
  int legendRows_ = 0;
  std::optional<double> hoverX_;
  QStringList hoverLines_;  // the x, then one per run
  std::vector<QColor> hoverColours_;
};

}  // namespace taxon::ui
