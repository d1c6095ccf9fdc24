#include "inspect/ConfusedPairsModel.hpp"

namespace taxon::ui {

ConfusedPairsModel::ConfusedPairsModel(QObject* parent)
    : NamedColumnsModel(
          {tr("Category A"), tr("Category B"), tr("A as B"), tr("B as A"), tr("Total")}, parent) {}

void ConfusedPairsModel::setReport(std::shared_ptr<const eval::MetricsReport> report) {
  beginResetModel();
  report_ = std::move(report);
  endResetModel();
}

const eval::ConfusedPair& ConfusedPairsModel::pair(int row) const {
  return report_->mostConfused[static_cast<std::size_t>(row)];
}

QString ConfusedPairsModel::name(std::int64_t id) const {
  const auto index = static_cast<std::size_t>(id);
  return id >= 0 && index < report_->categoryNames.size()
             ? QString::fromStdString(report_->categoryNames[index])
             : QString();
}

int ConfusedPairsModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() || !report_ ? 0 : static_cast<int>(report_->mostConfused.size());
}

QVariant ConfusedPairsModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount()) {
    return {};
  }
  const auto& p = pair(index.row());
  if (role == Qt::DisplayRole || role == Qt::UserRole) {
    switch (index.column()) {
      case AColumn:
        return name(p.a);
      case BColumn:
        return name(p.b);
      case AAsBColumn:
        return static_cast<qlonglong>(p.aAsB);
      case BAsAColumn:
        return static_cast<qlonglong>(p.bAsA);
      case TotalColumn:
        return static_cast<qlonglong>(p.total());
      default:
        return {};
    }
  }
  if (role == Qt::ToolTipRole) {
    return tr("%1 taken for %2: %L3\n%2 taken for %1: %L4")
        .arg(name(p.a), name(p.b))
        .arg(p.aAsB)
        .arg(p.bAsA);
  }
  if (role == Qt::TextAlignmentRole && index.column() >= AAsBColumn) {
    return QVariant(Qt::AlignRight | Qt::AlignVCenter);
  }
  return {};
}

}  // namespace taxon::ui
