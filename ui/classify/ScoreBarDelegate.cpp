#include "classify/ScoreBarDelegate.hpp"

#include <QApplication>
#include <QFontMetrics>
#include <QImage>
#include <QPainter>
#include <QStyle>
#include <algorithm>

#include "classify/PredictionModel.hpp"

namespace taxon::ui {

namespace {

// Logical pixels.
constexpr int kMargin = 6;
constexpr int kGap = 3;
constexpr int kThumbnail = 64;

QColor mix(const QColor& a, const QColor& b, double t) {
  return QColor::fromRgbF(static_cast<float>(a.redF() * (1 - t) + b.redF() * t),
                          static_cast<float>(a.greenF() * (1 - t) + b.greenF() * t),
                          static_cast<float>(a.blueF() * (1 - t) + b.blueF() * t));
}

QFont boldFont(const QFont& font) {
  QFont bold = font;
  bold.setBold(true);
  return bold;
}

int barHeight(const QFontMetrics& metrics) {
  return metrics.height() + 4;
}

}  // namespace

ScoreBarDelegate::ScoreBarDelegate(QObject* parent) : QStyledItemDelegate(parent) {}

QSize ScoreBarDelegate::sizeHint(const QStyleOptionViewItem& option,
                                 const QModelIndex& index) const {
  const QFontMetrics metrics(option.font);
  const QFontMetrics bold(boldFont(option.font));
  const bool failed = !index.data(PredictionModel::ErrorRole).toString().isEmpty();
  const auto lines =
      failed ? 2
             : std::max<qsizetype>(
                   1, index.data(PredictionModel::CategoriesRole).toStringList().size());
  const int text = bold.height() + kGap + static_cast<int>(lines) * (barHeight(metrics) + kGap);
  return {kThumbnail + 3 * kMargin + 40 * metrics.averageCharWidth(),
          std::max(kThumbnail, text) + 2 * kMargin};
}

void ScoreBarDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option,
                             const QModelIndex& index) const {
  QStyleOptionViewItem opt = option;
  initStyleOption(&opt, index);
  const QWidget* widget = opt.widget;
  QStyle* style = widget != nullptr ? widget->style() : QApplication::style();
  // The background (selection, hover) as the style draws it, without the default text and icon.
  opt.text.clear();
  opt.icon = QIcon();
  opt.features &= ~QStyleOptionViewItem::HasDecoration;
  style->drawControl(QStyle::CE_ItemViewItem, &opt, painter, widget);

  painter->save();
  painter->setRenderHint(QPainter::Antialiasing, true);
  painter->setRenderHint(QPainter::SmoothPixmapTransform, true);
  const bool selected = (opt.state & QStyle::State_Selected) != 0;
  const QPalette& palette = opt.palette;
  const QColor text = palette.color(selected ? QPalette::HighlightedText : QPalette::Text);
  const QColor base = selected ? palette.color(QPalette::Highlight) : palette.color(QPalette::Base);
  const QColor accent =
      selected ? palette.color(QPalette::HighlightedText) : palette.color(QPalette::Highlight);
  const QRect area = opt.rect.adjusted(kMargin, kMargin, -kMargin, -kMargin);

  // Thumbnail, fitted into a square and centred.
  const QRect box(area.left(), area.top(), kThumbnail, kThumbnail);
  const QImage image = index.data(Qt::DecorationRole).value<QImage>();
  if (image.isNull()) {
    painter->setPen(QPen(mix(base, text, 0.3), 1, Qt::DashLine));
    painter->drawRect(QRectF(box).adjusted(0.5, 0.5, -0.5, -0.5));
  } else {
    QSizeF size = QSizeF(image.size()).scaled(QSizeF(box.size()), Qt::KeepAspectRatio);
    QRectF target(QPointF(), size);
    target.moveCenter(QRectF(box).center());
    painter->drawImage(target, image);
  }

  // File name.
  const int left = box.right() + 1 + kMargin;
  const int width = area.right() + 1 - left;
  const QFont bold = boldFont(opt.font);
  const QFontMetrics boldMetrics(bold);
  painter->setFont(bold);
  painter->setPen(text);
  const QRect nameRect(left, area.top(), width, boldMetrics.height());
  painter->drawText(
      nameRect, Qt::AlignLeft | Qt::AlignVCenter,
      boldMetrics.elidedText(index.data(Qt::DisplayRole).toString(), Qt::ElideMiddle, width));

  painter->setFont(opt.font);
  const QFontMetrics metrics(opt.font);
  int y = nameRect.bottom() + 1 + kGap;
  const QString error = index.data(PredictionModel::ErrorRole).toString();
  if (!error.isEmpty()) {
    // Red that reads on light and dark bases alike.
    painter->setPen(selected ? text : mix(QColor(220, 40, 40), text, 0.25));
    const QRect errorRect(left, y, width, area.bottom() + 1 - y);
    painter->drawText(errorRect, Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap, error);
    painter->restore();
    return;
  }

  // One bar per category: the path over a bar as long as the score, the score on the right.
  const QStringList names = index.data(PredictionModel::CategoriesRole).toStringList();
  const QVariantList scores = index.data(PredictionModel::ScoresRole).toList();
  const int scoreWidth = metrics.horizontalAdvance(QStringLiteral("0.000")) + kMargin;
  const int barWidth = std::max(1, width - scoreWidth);
  const int height = barHeight(metrics);
  const QColor track = mix(base, text, 0.08);
  for (qsizetype r = 0; r < names.size() && r < scores.size(); ++r) {
    const double score = std::clamp(scores[r].toDouble(), 0.0, 1.0);
    const QRectF bar(left, y, barWidth, height);
    painter->setPen(Qt::NoPen);
    painter->setBrush(track);
    painter->drawRoundedRect(bar, 3, 3);
    // Translucent, so the text over the bar keeps its contrast (selected rows: light on dark).
    QColor fill = accent;
    fill.setAlphaF(selected ? (r == 0 ? 0.4f : 0.25f) : (r == 0 ? 0.55f : 0.3f));
    painter->setBrush(fill);
    painter->drawRoundedRect(QRectF(bar.left(), bar.top(), bar.width() * score, bar.height()), 3,
                             3);
    painter->setPen(text);
    const QRect label = bar.toRect().adjusted(4, 0, -4, 0);
    painter->drawText(label, Qt::AlignLeft | Qt::AlignVCenter,
                      metrics.elidedText(names[r], Qt::ElideLeft, label.width()));
    painter->drawText(QRect(left + barWidth, y, scoreWidth, height),
                      Qt::AlignRight | Qt::AlignVCenter, QString::number(score, 'f', 3));
    y += height + kGap;
  }
  painter->restore();
}

}  // namespace taxon::ui
