#include "inspect/CategoryMetricsModel.hpp"

namespace taxon::ui {
namespace {

double f1(const eval::CategoryMetrics& c) {
  const double sum = c.precision + c.recall;
  return sum == 0 ? 0.0 : 2 * c.precision * c.recall / sum;
}

}  // namespace

CategoryMetricsModel::CategoryMetricsModel(QObject* parent) : QAbstractTableModel(parent) {}

void CategoryMetricsModel::setReport(std::shared_ptr<const eval::MetricsReport> report) {
  beginResetModel();
  report_ = std::move(report);
  endResetModel();
}

int CategoryMetricsModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() || !report_ ? 0 : static_cast<int>(report_->categories.size());
}

int CategoryMetricsModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : F1Column + 1;
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

QVariant CategoryMetricsModel::headerData(int section, Qt::Orientation orientation,
                                          int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) {
    return QAbstractTableModel::headerData(section, orientation, role);
  }
  switch (section) {
    case NameColumn:
      return tr("Category");
    case SupportColumn:
      return tr("Support");
    case PredictedColumn:
      return tr("Predicted");
    case PrecisionColumn:
      return tr("Precision");
    case RecallColumn:
      return tr("Recall");
    case F1Column:
      return tr("F1");
    default:
      return {};
  }
}

}  // namespace taxon::ui
