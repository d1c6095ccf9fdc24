#include "inspect/CategoryMetricsModel.hpp"

namespace taxon::ui {
namespace {

double f1(const eval::CategoryMetrics& c) {
  const double sum = c.precision + c.recall;
  return sum == 0 ? 0.0 : 2 * c.precision * c.recall / sum;
}

}  // namespace

CategoryMetricsModel::CategoryMetricsModel(QObject* parent)
    : NamedColumnsModel(
          {tr("Category"), tr("Support"), tr("Predicted"), tr("Precision"), tr("Recall"), tr("F1")},
          parent) {}

void CategoryMetricsModel::setReport(std::shared_ptr<const eval::MetricsReport> report) {
  beginResetModel();
  report_ = std::move(report);
  endResetModel();
}

int CategoryMetricsModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() || !report_ ? 0 : static_cast<int>(report_->categories.size());
}

QVariant CategoryMetricsModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount()) {
    return {};
  }
  const auto& c = report_->categories[static_cast<std::size_t>(index.row())];
  if (role == Qt::UserRole) {
    switch (index.column()) {
      case NameColumn:
        return QString::fromStdString(c.name);
      case SupportColumn:
        return static_cast<qlonglong>(c.support);
      case PredictedColumn:
        return static_cast<qlonglong>(c.predicted);
      case PrecisionColumn:
        return c.precision;
      case RecallColumn:
        return c.recall;
      case F1Column:
        return f1(c);
      default:
        return {};
    }
  }
  if (role == Qt::DisplayRole) {
    switch (index.column()) {
      case PrecisionColumn:
        return QString::number(c.precision, 'f', 3);
      case RecallColumn:
        return QString::number(c.recall, 'f', 3);
      case F1Column:
        return QString::number(f1(c), 'f', 3);
      default:
        return data(index, Qt::UserRole);
    }
  }
  if (role == Qt::TextAlignmentRole && index.column() != NameColumn) {
    return QVariant(Qt::AlignRight | Qt::AlignVCenter);
  }
  return {};
}

}  // namespace taxon::ui
