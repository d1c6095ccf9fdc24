#include "classify/PredictionModel.hpp"

#include <QDir>
#include <QFileInfo>
#include <QStringList>

namespace taxon::ui {

PredictionModel::PredictionModel(QObject* parent) : QAbstractListModel(parent) {}

int PredictionModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

QVariant PredictionModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rows_.size()) {
    return {};
  }
  const ImageResult& row = rows_.at(index.row());
  switch (role) {
    case Qt::DisplayRole:
      return QFileInfo(row.path).fileName();
    case Qt::DecorationRole:
      return row.thumbnail;
    case Qt::ToolTipRole: {
      QStringList lines = {QDir::toNativeSeparators(row.path)};
      if (!row.error.isEmpty()) {
        lines.append(row.error);
      }
      for (const auto& category : row.top) {
        lines.append(QStringLiteral("%1  %2").arg(category.score, 0, 'f', 3).arg(category.name));
      }
      return lines.join(QLatin1Char('\n'));
    }
    case PathRole:
      return row.path;
    case CategoriesRole: {
      QStringList names;
      for (const auto& category : row.top) {
        names.append(category.name);
      }
      return names;
    }
    case ScoresRole: {
      QVariantList scores;
      for (const auto& category : row.top) {
        scores.append(category.score);
      }
      return scores;
    }
    case ErrorRole:
      return row.error;
    default:
      return {};
  }
}

QHash<int, QByteArray> PredictionModel::roleNames() const {
  auto names = QAbstractListModel::roleNames();
  names.insert(PathRole, "path");
  names.insert(CategoriesRole, "categories");
  names.insert(ScoresRole, "scores");
  names.insert(ErrorRole, "error");
  return names;
}

void PredictionModel::append(const QList<ImageResult>& results) {
  if (results.isEmpty()) {
    return;
  }
  const int first = static_cast<int>(rows_.size());
  beginInsertRows({}, first, first + static_cast<int>(results.size()) - 1);
  rows_.append(results);
  endInsertRows();
}

void PredictionModel::clear() {
  if (rows_.isEmpty()) {
    return;
  }
  beginResetModel();
  rows_.clear();
  endResetModel();
}

}  // namespace taxon::ui
