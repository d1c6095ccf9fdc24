// What the Inspect page's two image lists share: a model over a list of ExampleRow, replaced as a
// whole (setRows resets the model), one model row per image. `Base` is the Qt model class the list
// is shown through (a list or a table); the derived model says what a row shows. GUI thread.
#pragma once

#include <QModelIndex>
#include <cstddef>
#include <utility>
#include <vector>

#include "inspect/ExampleRow.hpp"

namespace taxon::ui {

template <typename Base>
class ExampleRowsModel : public Base {
 public:
  using Base::Base;

  void setRows(std::vector<ExampleRow> rows) {
    this->beginResetModel();
    rows_ = std::move(rows);
    rowsReplaced();
    this->endResetModel();
  }
  const std::vector<ExampleRow>& rows() const { return rows_; }
  const ExampleRow& row(int index) const { return rows_[static_cast<std::size_t>(index)]; }

  int rowCount(const QModelIndex& parent = {}) const override {
    return parent.isValid() ? 0 : static_cast<int>(rows_.size());
  }

 protected:
  // The row an index of this model shows, or null for an invalid or stale index.
  const ExampleRow* rowAt(const QModelIndex& index) const {
    return index.isValid() && index.row() < rowCount() ? &row(index.row()) : nullptr;
  }
  // Called inside the model reset, after the rows changed: for indexes kept beside them.
  virtual void rowsReplaced() {}

 private:
  std::vector<ExampleRow> rows_;
};

}  // namespace taxon::ui
