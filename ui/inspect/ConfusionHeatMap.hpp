// Paints a ConfusionModel as a heat map: one cell per (actual row, predicted column), colour by
// the row-normalized rate on a log-like scale; the diagonal in blue, confusions yellow to red,
// empty cells pale. The matrix is rendered once into a cached QImage (one pixel per cell), and
// when zoomed out below one pixel per cell into a max-pooled copy so that no confusion
// disappears. Mouse wheel zooms around the pointer, dragging pans, a tooltip names the cell, a
// click emits cellActivated() in the model's current (possibly collapsed) index space.
#pragma once

#include <QImage>
#include <QPoint>
#include <QPointF>
#include <QWidget>
#include <optional>

namespace taxon::ui {

class ConfusionModel;

class ConfusionHeatMap : public QWidget {
  Q_OBJECT

 public:
  explicit ConfusionHeatMap(QWidget* parent = nullptr);

  // Not owned; follows the model's resets.
  void setModel(ConfusionModel* model);
  ConfusionModel* model() const { return model_; }

  // The cell under a widget position: x = predicted column, y = actual row.
  std::optional<QPoint> cellAt(const QPoint& position) const;
  // The predicted column whose name is above `position` (over the matrix's top edge), or the
  // actual row whose name is left of it.
  std::optional<int> columnAt(const QPoint& position) const;
  std::optional<int> rowAt(const QPoint& position) const;
  // Widget rectangle of a cell at the current zoom.
  QRectF cellRect(int actual, int predicted) const;
  // Fits the whole matrix into the widget (the initial view, and after each model reset).
  void fitToView();
  double cellSize() const { return scale_; }  // pixels per cell
  // Marks a cell (outlined); -1 clears.
  void setSelectedCell(int actual, int predicted);
  // The cached one-pixel-per-cell rendering (for tests).
  const QImage& matrixImage() const { return image_; }

  // The colour of a cell with `rate` of its row (0..1), on or off the diagonal.
  static QColor colorFor(double rate, bool diagonal);

  QSize sizeHint() const override { return {520, 520}; }
  QSize minimumSizeHint() const override { return {160, 160}; }

 Q_SIGNALS:
  void cellActivated(int actualClass, int predictedClass);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  bool event(QEvent* event) override;

 private:
  void modelReset();
  void renderImage();
  const QImage& pooledImage(int factor);
  int classCount() const;
  double labelMargin() const;
  double columnLabelMargin() const;
  void zoomAt(const QPointF& anchor, double factor);
  void clampOffset();

  ConfusionModel* model_ = nullptr;
  QImage image_;
  QImage pooled_;
  int pooledFactor_ = 0;
  double scale_ = 1;  // pixels per cell
  QPointF offset_;    // widget position of the matrix's top-left corner
  bool fitted_ = true;
  QPoint pressPosition_;
  QPointF pressOffset_;
  bool dragging_ = false;
  bool pressed_ = false;
  QPoint selected_{-1, -1};
};

}  // namespace taxon::ui
