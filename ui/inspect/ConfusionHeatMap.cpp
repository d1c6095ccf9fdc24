#include "inspect/ConfusionHeatMap.hpp"

#include <QEvent>
#include <QHelpEvent>
#include <QLocale>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

#include "inspect/ConfusionModel.hpp"

namespace taxon::ui {
namespace {

constexpr double kMaxCellSize = 96;
constexpr int kDragThreshold = 4;
constexpr QRgb kEmpty = qRgb(246, 246, 246);

QColor mix(const QColor& a, const QColor& b, double t) {
  return QColor::fromRgbF(static_cast<float>(a.redF() + (b.redF() - a.redF()) * t),
                          static_cast<float>(a.greenF() + (b.greenF() - a.greenF()) * t),
                          static_cast<float>(a.blueF() + (b.blueF() - a.blueF()) * t));
}

}  // namespace

ConfusionHeatMap::ConfusionHeatMap(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setFocusPolicy(Qt::ClickFocus);
  setAttribute(Qt::WA_OpaquePaintEvent);
}

void ConfusionHeatMap::setModel(ConfusionModel* model) {
  if (model_ != nullptr) {
    disconnect(model_, nullptr, this, nullptr);
  }
  model_ = model;
  if (model_ != nullptr) {
    connect(model_, &QAbstractItemModel::modelReset, this, &ConfusionHeatMap::modelReset);
  }
  modelReset();
}

int ConfusionHeatMap::classCount() const {
  return model_ == nullptr ? 0 : model_->classCount();
}

QColor ConfusionHeatMap::colorFor(double rate, bool diagonal) {
  // log(1 + 99 r) / log(100): a 1% confusion is already a third of the way up, so small but
  // real confusions show; anything nonzero gets at least a visible tint.
  const double t =
      std::clamp(std::log1p(99.0 * std::clamp(rate, 0.0, 1.0)) / std::log(100.0), 0.12, 1.0);
  if (diagonal) {
    return mix(QColor(198, 219, 239), QColor(8, 48, 107), t);
  }
  return t < 0.5 ? mix(QColor(255, 237, 160), QColor(253, 141, 60), t / 0.5)
                 : mix(QColor(253, 141, 60), QColor(165, 0, 38), (t - 0.5) / 0.5);
}

void ConfusionHeatMap::modelReset() {
  selected_ = {-1, -1};
  renderImage();
  fitToView();
}

void ConfusionHeatMap::renderImage() {
  const int n = classCount();
  pooled_ = QImage();
  pooledFactor_ = 0;
  if (n == 0) {
    image_ = QImage();
    return;
  }
  image_ = QImage(n, n, QImage::Format_RGB32);
  image_.fill(kEmpty);
  for (const auto& cell : model_->cells()) {
    const double rate = model_->rate(cell.actual, cell.predicted);
    image_.setPixel(cell.predicted, cell.actual,
                    colorFor(rate, cell.actual == cell.predicted).rgb());
  }
}

// Each pixel of the pooled image covers factor x factor cells and shows the strongest
// confusion among them (or the diagonal when there is none).
const QImage& ConfusionHeatMap::pooledImage(int factor) {
  if (factor == pooledFactor_ && !pooled_.isNull()) {
    return pooled_;
  }
  const int n = classCount();
  const int size = (n + factor - 1) / factor;
  pooled_ = QImage(size, size, QImage::Format_RGB32);
  pooled_.fill(kEmpty);
  std::vector<double> best(static_cast<std::size_t>(size) * static_cast<std::size_t>(size), -1);
  for (const auto& cell : model_->cells()) {
    const int x = cell.predicted / factor;
    const int y = cell.actual / factor;
    const bool diagonal = cell.actual == cell.predicted;
    const double rate = model_->rate(cell.actual, cell.predicted);
    const double priority = diagonal ? rate : 2.0 + rate;  // confusions win
    auto& slot = best[static_cast<std::size_t>(y) * static_cast<std::size_t>(size) +
                      static_cast<std::size_t>(x)];
    if (priority > slot) {
      slot = priority;
      pooled_.setPixel(x, y, colorFor(rate, diagonal).rgb());
    }
  }
  pooledFactor_ = factor;
  return pooled_;
}

double ConfusionHeatMap::labelMargin() const {
  // Row names at the left when the cells are tall enough to read them.
  return classCount() > 0 && classCount() <= 60 ? std::min(180.0, width() / 3.0) : 0.0;
}

double ConfusionHeatMap::columnLabelMargin() const {
  // Column names above, turned to read upwards, under the same rule as the rows'.
  return classCount() > 0 && classCount() <= 60 ? std::min(140.0, height() / 3.0) : 0.0;
}

std::optional<int> ConfusionHeatMap::columnAt(const QPoint& position) const {
  const int n = classCount();
  if (n == 0 || scale_ <= 0 || position.y() >= offset_.y()) {
    return std::nullopt;
  }
  const double x = (position.x() - offset_.x()) / scale_;
  return x >= 0 && x < n ? std::optional<int>(static_cast<int>(x)) : std::nullopt;
}

std::optional<int> ConfusionHeatMap::rowAt(const QPoint& position) const {
  const int n = classCount();
  if (n == 0 || scale_ <= 0 || position.x() >= offset_.x()) {
    return std::nullopt;
  }
  const double y = (position.y() - offset_.y()) / scale_;
  return y >= 0 && y < n ? std::optional<int>(static_cast<int>(y)) : std::nullopt;
}

void ConfusionHeatMap::fitToView() {
  const int n = classCount();
  fitted_ = true;
  if (n == 0) {
    scale_ = 1;
    offset_ = {};
    update();
    return;
  }
  const double margin = 8;
  const double left = labelMargin();
  const double top = columnLabelMargin();
  const double available =
      std::max(1.0, std::min(width() - left - 2 * margin, height() - top - 2 * margin));
  scale_ = std::min(kMaxCellSize, available / n);
  offset_ = QPointF(left + margin, top + margin);
  update();
}

void ConfusionHeatMap::setSelectedCell(int actual, int predicted) {
  selected_ = QPoint(predicted, actual);
  update();
}

std::optional<QPoint> ConfusionHeatMap::cellAt(const QPoint& position) const {
  const int n = classCount();
  if (n == 0 || scale_ <= 0) {
    return std::nullopt;
  }
  const double x = (position.x() - offset_.x()) / scale_;
  const double y = (position.y() - offset_.y()) / scale_;
  if (x < 0 || y < 0 || x >= n || y >= n) {
    return std::nullopt;
  }
  return QPoint(static_cast<int>(x), static_cast<int>(y));
}

QRectF ConfusionHeatMap::cellRect(int actual, int predicted) const {
  return QRectF(offset_.x() + predicted * scale_, offset_.y() + actual * scale_, scale_, scale_);
}

void ConfusionHeatMap::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.fillRect(rect(), palette().color(QPalette::Base));
  const int n = classCount();
  if (n == 0) {
    painter.setPen(palette().color(QPalette::PlaceholderText));
    painter.drawText(rect(), Qt::AlignCenter,
                     model_ != nullptr && model_->report() != nullptr
                         ? tr("No categories in this subtree.")
                         : tr("No evaluation report loaded."));
    return;
  }
  const QRectF target(offset_, QSizeF(n * scale_, n * scale_));
  // Nearest-neighbour scaling keeps cells crisp; below one pixel per cell, the pooled image
  // keeps every confusion visible.
  painter.setRenderHint(QPainter::SmoothPixmapTransform, false);
  if (scale_ >= 1.0) {
    painter.drawImage(target, image_);
  } else {
    const int factor = static_cast<int>(std::ceil(1.0 / scale_));
    const QImage& pooled = pooledImage(factor);
    painter.drawImage(QRectF(offset_, QSizeF(pooled.width() * factor * scale_,
                                             pooled.height() * factor * scale_)),
                      pooled);
  }

  if (scale_ >= 6) {
    painter.setPen(QColor(255, 255, 255, 160));
    const int first = std::max(0, static_cast<int>(-offset_.x() / scale_));
    const int last = std::min(n, static_cast<int>((width() - offset_.x()) / scale_) + 1);
    for (int i = first; i <= last; ++i) {
      painter.drawLine(QPointF(offset_.x() + i * scale_, target.top()),
                       QPointF(offset_.x() + i * scale_, target.bottom()));
    }
    const int firstRow = std::max(0, static_cast<int>(-offset_.y() / scale_));
    const int lastRow = std::min(n, static_cast<int>((height() - offset_.y()) / scale_) + 1);
    for (int i = firstRow; i <= lastRow; ++i) {
      painter.drawLine(QPointF(target.left(), offset_.y() + i * scale_),
                       QPointF(target.right(), offset_.y() + i * scale_));
    }
  }
  if (scale_ >= 18) {
    // Counts inside cells that are big enough.
    QFont font = painter.font();
    font.setPixelSize(std::clamp(static_cast<int>(scale_ / 3), 8, 14));
    painter.setFont(font);
    for (const auto& cell : model_->cells()) {
      const QRectF r = cellRect(cell.actual, cell.predicted);
      if (!r.intersects(rect())) {
        continue;
      }
      const QColor background =
          colorFor(model_->rate(cell.actual, cell.predicted), cell.actual == cell.predicted);
      painter.setPen(background.lightnessF() < 0.55 ? Qt::white : Qt::black);
      painter.drawText(r, Qt::AlignCenter, QLocale().toString(static_cast<qlonglong>(cell.count)));
    }
  }
  const QFontMetrics metrics(font());
  if (scale_ >= metrics.height() && offset_.x() > 24) {
    painter.setPen(palette().color(QPalette::Text));
    for (int row = 0; row < n; ++row) {
      const QRectF r(0, offset_.y() + row * scale_, offset_.x() - 6, scale_);
      if (r.bottom() < 0 || r.top() > height()) {
        continue;
      }
      painter.drawText(
          r, Qt::AlignRight | Qt::AlignVCenter,
          metrics.elidedText(model_->className(row), Qt::ElideLeft, static_cast<int>(r.width())));
    }
  }
  if (scale_ >= metrics.height() && offset_.y() > 24) {
    // Predicted classes over the columns, read upwards from just above the matrix.
    painter.setPen(palette().color(QPalette::Text));
    const double length = offset_.y() - 6;
    for (int column = 0; column < n; ++column) {
      const double centre = offset_.x() + (column + 0.5) * scale_;
      if (centre < offset_.x() - scale_ || centre < 0 || centre > width()) {
        continue;
      }
      painter.save();
      painter.translate(centre, offset_.y() - 6);
      painter.rotate(-90);
      const QRectF r(0, -scale_ / 2, length, scale_);
      painter.drawText(
          r, Qt::AlignLeft | Qt::AlignVCenter,
          metrics.elidedText(model_->className(column), Qt::ElideLeft, static_cast<int>(length)));
      painter.restore();
    }
  }
  if (selected_.x() >= 0 && selected_.x() < n && selected_.y() >= 0 && selected_.y() < n) {
    painter.setPen(QPen(palette().color(QPalette::Highlight), 2));
    painter.setBrush(Qt::NoBrush);
    painter.drawRect(cellRect(selected_.y(), selected_.x()).adjusted(-1, -1, 1, 1));
  }
}

void ConfusionHeatMap::resizeEvent(QResizeEvent*) {
  if (fitted_) {
    fitToView();
  } else {
    clampOffset();
  }
}

void ConfusionHeatMap::zoomAt(const QPointF& anchor, double factor) {
  const int n = classCount();
  if (n == 0) {
    return;
  }
  const double fit = std::min(kMaxCellSize, std::max(1.0, std::min(width(), height()) - 16.0) / n);
  const double newScale = std::clamp(scale_ * factor, fit * 0.5, kMaxCellSize);
  // Keep the matrix point under the pointer where it is.
  const QPointF matrixPoint = (anchor - offset_) / scale_;
  scale_ = newScale;
  offset_ = anchor - matrixPoint * scale_;
  fitted_ = false;
  clampOffset();
  update();
}

void ConfusionHeatMap::clampOffset() {
  // Keep at least a quarter of the widget showing some of the matrix.
  const double extent = classCount() * scale_;
  const double keepX = std::min(extent, width() / 4.0);
  const double keepY = std::min(extent, height() / 4.0);
  offset_.setX(std::clamp(offset_.x(), keepX - extent, width() - keepX));
  offset_.setY(std::clamp(offset_.y(), keepY - extent, height() - keepY));
}

void ConfusionHeatMap::wheelEvent(QWheelEvent* event) {
  const double steps = event->angleDelta().y() / 120.0;
  if (steps != 0) {
    zoomAt(event->position(), std::pow(1.25, steps));
  }
  event->accept();
}

void ConfusionHeatMap::mousePressEvent(QMouseEvent* event) {
  if (event->button() != Qt::LeftButton) {
    QWidget::mousePressEvent(event);
    return;
  }
  pressed_ = true;
  dragging_ = false;
  pressPosition_ = event->position().toPoint();
  pressOffset_ = offset_;
}

void ConfusionHeatMap::mouseMoveEvent(QMouseEvent* event) {
  if (!pressed_) {
    return;
  }
  const QPoint delta = event->position().toPoint() - pressPosition_;
  if (!dragging_ && delta.manhattanLength() >= kDragThreshold) {
    dragging_ = true;
    setCursor(Qt::ClosedHandCursor);
  }
  if (dragging_) {
    offset_ = pressOffset_ + QPointF(delta);
    fitted_ = false;
    clampOffset();
    update();
  }
}

void ConfusionHeatMap::mouseReleaseEvent(QMouseEvent* event) {
  if (event->button() != Qt::LeftButton || !pressed_) {
    QWidget::mouseReleaseEvent(event);
    return;
  }
  pressed_ = false;
  if (dragging_) {
    dragging_ = false;
    unsetCursor();
    return;
  }
  if (const auto cell = cellAt(event->position().toPoint())) {
    setSelectedCell(cell->y(), cell->x());
    Q_EMIT cellActivated(cell->y(), cell->x());
  }
}

bool ConfusionHeatMap::event(QEvent* event) {
  if (event->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(event);
    if (const auto cell = cellAt(help->pos())) {
      const int actual = cell->y();
      const int predicted = cell->x();
      QToolTip::showText(help->globalPos(),
                         tr("Actual: %1\nPredicted: %2\nCount: %3\nRate: %4% of %5")
                             .arg(model_->className(actual), model_->className(predicted))
                             .arg(model_->count(actual, predicted))
                             .arg(100.0 * model_->rate(actual, predicted), 0, 'f', 1)
                             .arg(model_->rowTotal(actual)),
                         this, cellRect(actual, predicted).toAlignedRect());
    } else if (const auto column = columnAt(help->pos())) {
      // Over the column names (or where they would be at 1,000 classes): the whole name.
      QToolTip::showText(help->globalPos(),
                         tr("Predicted: %1\n%L2 images predicted as it")
                             .arg(model_->className(*column))
                             .arg(model_->columnTotal(*column)),
                         this);
    } else if (const auto row = rowAt(help->pos())) {
      QToolTip::showText(
          help->globalPos(),
          tr("Actual: %1\n%L2 images").arg(model_->className(*row)).arg(model_->rowTotal(*row)),
          this);
    } else {
      QToolTip::hideText();
      event->ignore();
    }
    return true;
  }
  return QWidget::event(event);
}

}  // namespace taxon::ui
