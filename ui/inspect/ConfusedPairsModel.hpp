// The report's most confused category pairs as a table: A, B, A taken for B, B taken for A and
// the total, in the report's order (largest total first). Qt::UserRole gives each cell's raw
// value for sorting. GUI thread.
#pragma once

#include <memory>

#include "eval/Metrics.hpp"
#include "inspect/NamedColumnsModel.hpp"

namespace taxon::ui {

class ConfusedPairsModel : public NamedColumnsModel {
  Q_OBJECT

 public:
  enum Column { AColumn, BColumn, AAsBColumn, BAsAColumn, TotalColumn };

  explicit ConfusedPairsModel(QObject* parent = nullptr);

  void setReport(std::shared_ptr<const eval::MetricsReport> report);
  // The pair shown in `row` (report class ids).
  const eval::ConfusedPair& pair(int row) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;

 private:
  QString name(std::int64_t id) const;

  std::shared_ptr<const eval::MetricsReport> report_;
};

}  // namespace taxon::ui
