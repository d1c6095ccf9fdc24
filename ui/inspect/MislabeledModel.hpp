// The report's likely-mislabeled images as a table: image key, given label and its score, the
// top-1 category and its score, in the report's order (least believed label first). The roles of
// ExampleListModel (KeyRole, ImageIdRole, ...) work on every column. GUI thread.
#pragma once

#include <vector>

#include "inspect/ExampleRow.hpp"
#include "inspect/NamedColumnsModel.hpp"

namespace taxon::ui {

class MislabeledModel : public NamedColumnsModel {
  Q_OBJECT

 public:
  enum Column { KeyColumn, LabelColumn, LabelScoreColumn, PredictedColumn, PredictedScoreColumn };

  explicit MislabeledModel(QObject* parent = nullptr);

  void setRows(std::vector<ExampleRow> rows);
  const std::vector<ExampleRow>& rows() const { return rows_; }
  const ExampleRow& row(int index) const { return rows_[static_cast<std::size_t>(index)]; }

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;

 private:
  std::vector<ExampleRow> rows_;
};

}  // namespace taxon::ui
