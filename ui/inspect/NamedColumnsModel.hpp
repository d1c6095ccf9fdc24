// A table model whose columns are named once, in column order: the column count and the
// horizontal headers come from that list, so a model only says how many rows it has and what is
// in them. The report tables of the Inspect page derive from it. GUI thread.
#pragma once

#include <QAbstractTableModel>
#include <QStringList>

namespace taxon::ui {

class NamedColumnsModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  NamedColumnsModel(QStringList columns, QObject* parent);

  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  QStringList columns_;
};

}  // namespace taxon::ui
