// Paints a PredictionModel row: the thumbnail, the file name, and the top categories as
// horizontal bars as long as their scores, each with the full category path and the score
// ("0.310"); an image that failed shows its error instead. Colours come from the palette, so
// light and dark themes work; sizes from the font, so it scales with high-DPI screens.
#pragma once

#include <QStyledItemDelegate>

namespace taxon::ui {

class ScoreBarDelegate : public QStyledItemDelegate {
  Q_OBJECT

 public:
  explicit ScoreBarDelegate(QObject* parent = nullptr);

  void paint(QPainter* painter, const QStyleOptionViewItem& option,
             const QModelIndex& index) const override;
  QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;
};

}  // namespace taxon::ui
