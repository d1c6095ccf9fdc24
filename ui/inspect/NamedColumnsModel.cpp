#include "inspect/NamedColumnsModel.hpp"

namespace taxon::ui {

NamedColumnsModel::NamedColumnsModel(QStringList columns, QObject* parent)
    : QAbstractTableModel(parent), columns_(std::move(columns)) {}

int NamedColumnsModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(columns_.size());
}

QVariant NamedColumnsModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole || section < 0 ||
      section >= columns_.size()) {
    return QAbstractTableModel::headerData(section, orientation, role);
  }
  return columns_[section];
}

}  // namespace taxon::ui
