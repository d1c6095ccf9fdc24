// The report's likely-mislabeled images as a table: image key, given label and its score, the
// top-1 category and its score, in the report's order (least believed label first). The roles of
// ExampleListModel (KeyRole, ImageIdRole, ...) work on every column. GUI thread.
#pragma once

#include "inspect/ExampleRowsModel.hpp"
#include "inspect/NamedColumnsModel.hpp"

namespace taxon::ui {

class MislabeledModel : public ExampleRowsModel<NamedColumnsModel> {
  Q_OBJECT

 public:
  enum Column { KeyColumn, LabelColumn, LabelScoreColumn, PredictedColumn, PredictedScoreColumn };

  explicit MislabeledModel(QObject* parent = nullptr);

  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
};

}  // namespace taxon::ui
