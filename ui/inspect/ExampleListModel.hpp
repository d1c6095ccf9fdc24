// The images behind one confusion cell or confused pair: one row per image with its key, label
// and predicted names and both scores; the decoration is a thumbnail from the Thumbnails service
// (asked only for the rows a view shows, updated by dataChanged when it arrives). Images not in
// the open project are greyed and say so. GUI thread.
#pragma once

#include <QAbstractListModel>
#include <QHash>
#include <QImage>
#include <QList>

#include "inspect/ExampleRowsModel.hpp"

namespace taxon::ui {

class Thumbnails;

class ExampleListModel : public ExampleRowsModel<QAbstractListModel> {
  Q_OBJECT

 public:
  enum Role {
    KeyRole = Qt::UserRole + 1,  // QString
    LabelNameRole,               // QString
    PredictedNameRole,           // QString
    LabelProbabilityRole,        // double
    PredictedProbabilityRole,    // double
    ImageIdRole,                 // qint64, or invalid when not in the project
    InProjectRole,               // bool
  };

  // `thumbnails` may be null (no decoration); not owned, must outlive the model.
  explicit ExampleListModel(Thumbnails* thumbnails, QObject* parent = nullptr);

  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;

 private:
  void rowsReplaced() override;
  void thumbnailReady(const QString& file);

  Thumbnails* thumbnails_ = nullptr;
  mutable QImage placeholder_;  // the blank shown while a thumbnail loads
  QHash<QString, QList<int>> rowsOfFile_;
};

// Shared by the example models: the roles above for one row.
QVariant exampleRowData(const ExampleRow& row, int role);

}  // namespace taxon::ui
