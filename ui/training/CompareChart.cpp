#include "training/CompareChart.hpp"

#include <QLineF>
#include <QMouseEvent>
#include <QPainter>
#include <QPolygonF>
#include <algorithm>
#include <cmath>
#include <limits>

namespace taxon::ui {

namespace {

constexpr int kMargin = 6;
constexpr int kSwatch = 10;

// The point of `points` (x ascending) nearest `x`; null when there is none.
const QPointF* nearest(const std::vector<QPointF>& points, double x) {
  if (points.empty()) {
    return nullptr;
  }
  const auto after = std::lower_bound(points.begin(), points.end(), x,
                                      [](const QPointF& p, double v) { return p.x() < v; });
  if (after == points.begin()) {
    return &*after;
  }
  if (after == points.end()) {
    return &points.back();
  }
  const auto before = std::prev(after);
  return x - before->x() <= after->x() - x ? &*before : &*after;
}

QString number(double v) {
  return std::abs(v) >= 1000.0 ? QString::number(v, 'f', 0) : QString::number(v, 'g', 4);
}

// A step of 1, 2 or 5 x 10^k giving about `count` intervals over `range`.
double niceStep(double range, double count) {
  const double raw = range / count;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * magnitude >= raw) {
      return m * magnitude;
    }
  }
  return 10.0 * magnitude;
}

}  // namespace

CompareChart::CompareChart(const QString& title, QWidget* parent) : QWidget(parent), title_(title) {
  setMouseTracking(true);
  setMinimumSize(260, 180);
  setAttribute(Qt::WA_OpaquePaintEvent);
  updateRanges();
}

void CompareChart::setCurves(const std::vector<Curve>& curves, const QString& xTitle) {
  xTitle_ = xTitle;
  curves_ = curves;
  if (log_) {
    for (Curve& curve : curves_) {
      for (auto* points : {&curve.raw, &curve.smoothed}) {
        points->erase(std::remove_if(points->begin(), points->end(),
                                     [](const QPointF& p) { return !(p.y() > 0.0); }),
                      points->end());
      }
    }
  }
  updateRanges();
  layoutParts();
  if (hoverX_) {
    hoverAt(*hoverX_);  // the values under the pointer moved
  }
  update();
}

void CompareChart::setLogScale(bool on) {
  if (on == log_) {
    return;
  }
  log_ = on;
  setCurves(std::vector<Curve>(curves_), xTitle_);
}

void CompareChart::setFixedRange(double low, double high) {
  fixed_ = true;
  fixedLow_ = low;
  fixedHigh_ = high;
  updateRanges();
  update();
}

void CompareChart::setNotice(const QString& text) {
  if (text != notice_) {
    notice_ = text;
    layoutParts();
    update();
  }
}

int CompareChart::plotWidth() const {
  return std::max(50, static_cast<int>(plot_.width()));
}

int CompareChart::pointCount(int index) const {
  return static_cast<int>(curves_.at(static_cast<std::size_t>(index)).smoothed.size());
}

int CompareChart::rawPointCount(int index) const {
  return static_cast<int>(curves_.at(static_cast<std::size_t>(index)).raw.size());
}

const std::vector<QPointF>& CompareChart::smoothedPoints(int index) const {
  return curves_.at(static_cast<std::size_t>(index)).smoothed;
}

QColor CompareChart::curveColour(int index) const {
  return curves_.at(static_cast<std::size_t>(index)).colour;
}

QString CompareChart::curveName(int index) const {
  return curves_.at(static_cast<std::size_t>(index)).name;
}

QRectF CompareChart::plotArea() const {
  return plot_;
}

void CompareChart::updateRanges() {
  double minX = std::numeric_limits<double>::max();
  double maxX = std::numeric_limits<double>::lowest();
  double minY = minX;
  double maxY = maxX;
  for (const Curve& curve : curves_) {
    for (const auto* points : {&curve.raw, &curve.smoothed}) {
      for (const QPointF& p : *points) {
        if (!std::isfinite(p.x()) || !std::isfinite(p.y())) {
          continue;
        }
        minX = std::min(minX, p.x());
        maxX = std::max(maxX, p.x());
        minY = std::min(minY, p.y());
        maxY = std::max(maxY, p.y());
      }
    }
  }
  if (minX > maxX) {
    minX = 0.0;
    maxX = 1.0;
    minY = log_ ? 0.1 : 0.0;
    maxY = 1.0;
  }
  if (maxX - minX < 1e-12) {
    minX -= 0.5;
    maxX += 0.5;
  }
  x0_ = minX;
  x1_ = maxX;
  if (log_) {
    y0_ = minY / 1.1;
    y1_ = maxY * 1.1;
  } else if (fixed_) {
    y0_ = fixedLow_;
    y1_ = fixedHigh_;
  } else {
    const double pad = std::max(1e-9, (maxY - minY) * 0.05);
    y0_ = minY >= 0.0 ? std::max(0.0, minY - pad) : minY - pad;
    y1_ = maxY + pad;
  }
}

std::vector<double> CompareChart::ticks(bool xAxis) const {
  const double low = xAxis ? x0_ : y0_;
  const double high = xAxis ? x1_ : y1_;
  std::vector<double> out;
  if (!xAxis && log_) {
    // Decades; 1, 2 and 5 x 10^k when the range holds fewer than three of them; finer steps for
    // a range within a decade (a loss between 1.2 and 3).
    const int first = static_cast<int>(std::floor(std::log10(low)));
    const int last = static_cast<int>(std::ceil(std::log10(high)));
    static const std::vector<double> steps[] = {
        {1.0}, {1.0, 2.0, 5.0}, {1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0}};
    for (const auto& mantissas : steps) {
      out.clear();
      for (int k = first; k <= last; ++k) {
        for (const double m : mantissas) {
          const double v = m * std::pow(10.0, k);
          if (v >= low && v <= high) {
            out.push_back(v);
          }
        }
      }
      if (out.size() >= 3) {
        break;
      }
    }
    if (out.size() < 2) {
      out = {low, high};
    }
    return out;
  }
  double step = niceStep(high - low, xAxis ? 5.0 : 4.0);
  if (xAxis && xTitle_ == tr("step")) {
    step = std::max(step, 1.0);
  }
  for (double v = std::ceil(low / step - 1e-9) * step; v <= high + step * 1e-9; v += step) {
    out.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  }
  return out;
}

QString CompareChart::tickLabel(double value, bool xAxis, double spacing) const {
  if (!xAxis && log_) {
    return QString::number(value, 'g', 3);
  }
  const int decimals =
      spacing >= 1.0 ? 0 : static_cast<int>(std::ceil(-std::log10(spacing) - 1e-9));
  return QString::number(value, 'f', std::clamp(decimals, 0, 6));
}

void CompareChart::layoutParts() {
  const QFontMetrics fm = fontMetrics();
  const int line = fm.height();
  // The legend's rows.
  int rows = curves_.empty() ? 0 : 1;
  int x = 0;
  const int room = std::max(1, width() - 2 * kMargin);
  for (const Curve& curve : curves_) {
    const int item = kSwatch + 4 + fm.horizontalAdvance(curve.name) + 12;
    if (x > 0 && x + item > room) {
      ++rows;
      x = 0;
    }
    x += item;
  }
  legendRows_ = rows;
  // The y labels' width.
  int labelWidth = 0;
  const auto yTicks = ticks(false);
  const double ySpacing = yTicks.size() > 1 ? yTicks[1] - yTicks[0] : 1.0;
  for (const double t : yTicks) {
    labelWidth = std::max(labelWidth, fm.horizontalAdvance(tickLabel(t, false, ySpacing)));
  }
  const int noticeLines = notice_.isEmpty() ? 0 : static_cast<int>(notice_.count('\n')) + 1;
  const double top = kMargin + line + noticeLines * line + 6;
  const double bottom = height() - kMargin - legendRows_ * (line + 2) - 2 * line - 6;
  const double left = kMargin + labelWidth + 6;
  const double right = width() - kMargin - fm.horizontalAdvance(QStringLiteral("00000")) / 2.0;
  plot_ =
      QRectF(QPointF(left, top), QPointF(std::max(left + 10, right), std::max(top + 10, bottom)));
}

void CompareChart::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  layoutParts();
}

double CompareChart::toY(double value) const {
  double fraction = 0.0;
  if (log_) {
    fraction = (std::log(value) - std::log(y0_)) / (std::log(y1_) - std::log(y0_));
  } else {
    fraction = (value - y0_) / (y1_ - y0_);
  }
  return plot_.bottom() - fraction * plot_.height();
}

QPointF CompareChart::toWidget(const QPointF& value) const {
  return {plot_.left() + (value.x() - x0_) / (x1_ - x0_) * plot_.width(), toY(value.y())};
}

void CompareChart::paintEvent(QPaintEvent* /*event*/) {
  QPainter painter(this);
  const QPalette& pal = palette();
  painter.fillRect(rect(), pal.window());
  painter.fillRect(rect().adjusted(2, 2, -2, -2), pal.base());
  const QFontMetrics fm = fontMetrics();
  const int line = fm.height();
  QColor grid = pal.mid().color();
  grid.setAlpha(90);

  // Title and notice.
  QFont bold = font();
  bold.setBold(true);
  painter.setFont(bold);
  painter.setPen(pal.text().color());
  painter.drawText(QRect(kMargin, kMargin, width() - 2 * kMargin, line), Qt::AlignHCenter, title_);
  painter.setFont(font());
  if (!notice_.isEmpty()) {
    painter.setPen(pal.placeholderText().color());
    painter.drawText(QRect(kMargin, kMargin + line, width() - 2 * kMargin, 4 * line),
                     Qt::AlignHCenter | Qt::AlignTop, notice_);
  }

  // Grid, ticks and their labels.
  painter.setPen(pal.text().color());
  const auto yTicks = ticks(false);
  const double ySpacing = yTicks.size() > 1 ? yTicks[1] - yTicks[0] : 1.0;
  for (const double t : yTicks) {
    const double y = toY(t);
    painter.setPen(grid);
    painter.drawLine(QPointF(plot_.left(), y), QPointF(plot_.right(), y));
    painter.setPen(pal.text().color());
    painter.drawText(QRectF(kMargin, y - line / 2.0, plot_.left() - kMargin - 6, line),
                     Qt::AlignRight | Qt::AlignVCenter, tickLabel(t, false, ySpacing));
  }
  const auto xTicks = ticks(true);
  const double xSpacing = xTicks.size() > 1 ? xTicks[1] - xTicks[0] : 1.0;
  for (const double t : xTicks) {
    const double x = toWidget(QPointF(t, y0_)).x();
    painter.setPen(grid);
    painter.drawLine(QPointF(x, plot_.top()), QPointF(x, plot_.bottom()));
    painter.setPen(pal.text().color());
    painter.drawText(QRectF(x - 60, plot_.bottom() + 2, 120, line), Qt::AlignHCenter,
                     tickLabel(t, true, xSpacing));
  }
  painter.setPen(pal.mid().color());
  painter.drawRect(plot_);
  painter.setPen(pal.text().color());
  painter.setFont(bold);
  painter.drawText(QRectF(plot_.left(), plot_.bottom() + line + 2, plot_.width(), line),
                   Qt::AlignHCenter, xTitle_);
  painter.setFont(font());

  // The curves: raw ones faint and thin, the smoothed ones over them.
  painter.save();
  painter.setClipRect(plot_.adjusted(-1, -4, 1, 4));
  painter.setRenderHint(QPainter::Antialiasing);
  const auto polygon = [this](const std::vector<QPointF>& points) {
    QPolygonF out;
    out.reserve(static_cast<qsizetype>(points.size()));
    for (const QPointF& p : points) {
      out.append(toWidget(p));
    }
    return out;
  };
  // Segments rather than one polyline: a polyline is stroked as one outline, whose fill costs
  // much more for a noisy curve of hundreds of points than its segments one by one.
  const auto segments = [](const QPolygonF& points) {
    std::vector<QLineF> lines;
    lines.reserve(static_cast<std::size_t>(std::max<qsizetype>(0, points.size() - 1)));
    for (qsizetype i = 1; i < points.size(); ++i) {
      lines.emplace_back(points[i - 1], points[i]);
    }
    return lines;
  };
  for (const Curve& curve : curves_) {
    QColor faint = curve.colour;
    faint.setAlpha(70);
    QPen pen(faint, 1.0);
    pen.setCosmetic(true);
    painter.setPen(pen);
    const auto lines = segments(polygon(curve.raw));
    painter.drawLines(lines.data(), static_cast<int>(lines.size()));
  }
  for (const Curve& curve : curves_) {
    const QPolygonF points = polygon(curve.smoothed);
    painter.setPen(QPen(curve.colour, 2.0, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
    const auto lines = segments(points);
    painter.drawLines(lines.data(), static_cast<int>(lines.size()));
    if (!curve.smoothed.empty() && curve.smoothed.size() <= kMarkerLimit) {
      painter.setBrush(curve.colour);
      for (const QPointF& p : points) {
        painter.drawEllipse(p, 3.0, 3.0);
      }
      painter.setBrush(Qt::NoBrush);
    }
  }
  painter.restore();

  // The legend.
  double lx = kMargin;
  double ly = height() - kMargin - legendRows_ * (line + 2);
  for (const Curve& curve : curves_) {
    const int item = kSwatch + 4 + fm.horizontalAdvance(curve.name) + 12;
    if (lx > kMargin && lx + item > width() - kMargin) {
      lx = kMargin;
      ly += line + 2;
    }
    painter.fillRect(QRectF(lx, ly + (line - kSwatch) / 2.0, kSwatch, kSwatch), curve.colour);
    painter.setPen(pal.text().color());
    painter.drawText(QRectF(lx + kSwatch + 4, ly, item, line), Qt::AlignLeft | Qt::AlignVCenter,
                     curve.name);
    lx += item;
  }

  // Hover: a line at the x, and the values beside it.
  if (hoverX_ && !hoverLines_.isEmpty()) {
    const double x = toWidget(QPointF(*hoverX_, y0_)).x();
    painter.setPen(QPen(pal.text().color(), 1.0, Qt::DashLine));
    painter.drawLine(QPointF(x, plot_.top()), QPointF(x, plot_.bottom()));
    int boxWidth = 0;
    for (const QString& text : hoverLines_) {
      boxWidth = std::max(boxWidth, fm.horizontalAdvance(text));
    }
    boxWidth += kSwatch + 14;
    const double boxHeight = hoverLines_.size() * line + 8;
    double left = x + 10;
    if (left + boxWidth > width() - kMargin) {
      left = std::max<double>(kMargin, x - 10 - boxWidth);
    }
    const QRectF box(left, plot_.top() + 4, boxWidth, boxHeight);
    QColor back = pal.toolTipBase().color();
    back.setAlpha(235);
    painter.fillRect(box, back);
    painter.setPen(pal.mid().color());
    painter.drawRect(box);
    for (int i = 0; i < hoverLines_.size(); ++i) {
      const double y = box.top() + 4 + i * line;
      double textLeft = box.left() + 6;
      if (i > 0) {
        painter.fillRect(QRectF(textLeft, y + (line - kSwatch) / 2.0, kSwatch, kSwatch),
                         hoverColours_[static_cast<std::size_t>(i - 1)]);
        textLeft += kSwatch + 4;
      }
      painter.setPen(pal.toolTipText().color());
      painter.drawText(QRectF(textLeft, y, box.right() - textLeft, line),
                       Qt::AlignLeft | Qt::AlignVCenter, hoverLines_[i]);
    }
  }
}

void CompareChart::hoverAt(double x) {
  hoverLines_.clear();
  hoverColours_.clear();
  hoverLines_.push_back(xTitle_ == tr("step")
                            ? tr("step %1").arg(std::llround(x))
                            : QStringLiteral("%1 %2").arg(xTitle_).arg(x, 0, 'f', 2));
  for (const Curve& curve : curves_) {
    const QPointF* smooth = nearest(curve.smoothed, x);
    if (smooth == nullptr) {
      continue;
    }
    QString value = number(smooth->y());
    if (const QPointF* raw = nearest(curve.raw, x)) {
      value += tr(" (raw %1)").arg(number(raw->y()));
    }
    hoverLines_.push_back(QStringLiteral("%1  %2").arg(curve.name, value));
    hoverColours_.push_back(curve.colour);
  }
  if (hoverLines_.size() == 1) {
    hideHover();
    return;
  }
  hoverX_ = x;
  update();
}

void CompareChart::hideHover() {
  if (hoverX_ || !hoverLines_.isEmpty()) {
    hoverX_.reset();
    hoverLines_.clear();
    hoverColours_.clear();
    update();
  }
}

QString CompareChart::hoverText() const {
  return hoverLines_.join(QLatin1Char('\n'));
}

void CompareChart::mouseMoveEvent(QMouseEvent* event) {
  QWidget::mouseMoveEvent(event);
  const QPointF at = event->position();
  if (!plot_.contains(at)) {
    hideHover();
    return;
  }
  hoverAt(x0_ + (at.x() - plot_.left()) / plot_.width() * (x1_ - x0_));
}

void CompareChart::leaveEvent(QEvent* event) {
  QWidget::leaveEvent(event);
  hideHover();
}

}  // namespace taxon::ui
