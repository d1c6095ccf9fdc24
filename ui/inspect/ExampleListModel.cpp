#include "inspect/ExampleListModel.hpp"

#include <QColor>
#include <QFileInfo>
#include <QPalette>

#include "common/Thumbnails.hpp"

namespace taxon::ui {

QVariant exampleRowData(const ExampleRow& row, int role) {
  switch (role) {
    case ExampleListModel::KeyRole:
      return row.key;
    case ExampleListModel::LabelNameRole:
      return row.labelName;
    case ExampleListModel::PredictedNameRole:
      return row.predictedName;
    case ExampleListModel::LabelProbabilityRole:
      return row.labelProbability;
    case ExampleListModel::PredictedProbabilityRole:
      return row.predictedProbability;
    case ExampleListModel::ImageIdRole:
      return row.imageId ? QVariant(static_cast<qlonglong>(*row.imageId)) : QVariant();
    case ExampleListModel::InProjectRole:
      return row.imageId.has_value();
    case Qt::ForegroundRole:
      return row.imageId ? QVariant() : QVariant(QPalette().color(QPalette::PlaceholderText));
    case Qt::ToolTipRole: {
      QString text = QObject::tr("%1\nLabel: %2 (%3)\nPredicted: %4 (%5)")
                         .arg(row.key.isEmpty() ? QObject::tr("(no key)") : row.key, row.labelName)
                         .arg(row.labelProbability, 0, 'f', 3)
                         .arg(row.predictedName)
                         .arg(row.predictedProbability, 0, 'f', 3);
      if (!row.imageId) {
        text += QObject::tr("\nNot in the open project: cannot be relabelled here.");
      }
      return text;
    }
    default:
      return {};
  }
}

ExampleListModel::ExampleListModel(Thumbnails* thumbnails, QObject* parent)
    : ExampleRowsModel(parent), thumbnails_(thumbnails) {
  if (thumbnails_ != nullptr) {
    connect(thumbnails_, &Thumbnails::ready, this, &ExampleListModel::thumbnailReady);
    connect(thumbnails_, &Thumbnails::failed, this, &ExampleListModel::thumbnailReady);
  }
}

void ExampleListModel::rowsReplaced() {
  rowsOfFile_.clear();
  for (std::size_t i = 0; i < rows().size(); ++i) {
    if (!rows()[i].file.isEmpty()) {
      rowsOfFile_[rows()[i].file].push_back(static_cast<int>(i));
    }
  }
}

QVariant ExampleListModel::data(const QModelIndex& index, int role) const {
  const ExampleRow* shown = rowAt(index);
  if (shown == nullptr) {
    return {};
  }
  const ExampleRow& r = *shown;
  switch (role) {
    case Qt::DisplayRole: {
      const QString name = r.key.isEmpty() ? tr("(no key)") : QFileInfo(r.key).fileName();
      QString text = tr("%1\nlabel %2 · pred %3")
                         .arg(name)
                         .arg(r.labelProbability, 0, 'f', 2)
                         .arg(r.predictedProbability, 0, 'f', 2);
      if (!r.imageId) {
        text += tr("\nnot in project");
      }
      return text;
    }
    case Qt::DecorationRole:
      if (thumbnails_ != nullptr) {
        const QImage image = r.file.isEmpty() ? QImage() : thumbnails_->thumbnail(r.file);
        if (!image.isNull()) {
          return image;
        }
        // While it loads (or when it cannot be read), a blank of the full thumbnail size: the
        // view's uniform item size comes from the first item, and an item without its picture
        // would make every cell a strip of text height, cutting pictures and captions off.
        if (placeholder_.size() != thumbnails_->size()) {
          placeholder_ = QImage(thumbnails_->size(), QImage::Format_ARGB32_Premultiplied);
          placeholder_.fill(Qt::transparent);
        }
        return placeholder_;
      }
      return {};
    default:
      return exampleRowData(r, role);
  }
}

void ExampleListModel::thumbnailReady(const QString& file) {
  const auto it = rowsOfFile_.constFind(file);
  if (it == rowsOfFile_.constEnd()) {
    return;
  }
  for (const int r : *it) {
    const QModelIndex changed = index(r);
    Q_EMIT dataChanged(changed, changed, {Qt::DecorationRole});
  }
}

}  // namespace taxon::ui
