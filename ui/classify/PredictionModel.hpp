// The Classify page's results: one row per classified image, in the order they arrived. Holds
// plain values (ImageResult), so it is tested without a window. GUI thread only.
//
// Roles: Qt::DisplayRole the file name; Qt::DecorationRole the thumbnail (QImage); Qt::ToolTipRole
// the path and the ranked categories; PathRole, CategoriesRole (QStringList, best first),
// ScoresRole (QVariantList of double, the same order) and ErrorRole (empty when classified).
#pragma once

#include <QAbstractListModel>
#include <QList>

#include "classify/ImageResult.hpp"

namespace taxon::ui {

class PredictionModel : public QAbstractListModel {
  Q_OBJECT

 public:
  enum Role {
    PathRole = Qt::UserRole + 1,
    CategoriesRole,
    ScoresRole,
    ErrorRole,
  };

  explicit PredictionModel(QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QHash<int, QByteArray> roleNames() const override;

  // Appends rows at the end.
  void append(const QList<ImageResult>& results);
  void clear();
  const ImageResult& result(int row) const { return rows_.at(row); }

 private:
  QList<ImageResult> rows_;
};

}  // namespace taxon::ui
