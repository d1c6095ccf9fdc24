// Per-category metrics of the report as a table: category, support, predicted, precision,
// recall, F1, one row per class in class order. Qt::UserRole gives raw numbers, so that a
// QSortFilterProxyModel with sortRole Qt::UserRole sorts numerically. GUI thread.
#pragma once

#include <memory>

#include "eval/Metrics.hpp"
#include "inspect/NamedColumnsModel.hpp"

namespace taxon::ui {

class CategoryMetricsModel : public NamedColumnsModel {
  Q_OBJECT

 public:
  enum Column {
    NameColumn,
    SupportColumn,
    PredictedColumn,
    PrecisionColumn,
    RecallColumn,
    F1Column
  };

  explicit CategoryMetricsModel(QObject* parent = nullptr);

  void setReport(std::shared_ptr<const eval::MetricsReport> report);

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;

 private:
  std::shared_ptr<const eval::MetricsReport> report_;
};

}  // namespace taxon::ui
