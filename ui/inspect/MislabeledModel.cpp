#include "inspect/MislabeledModel.hpp"

#include "inspect/ExampleListModel.hpp"

namespace taxon::ui {

MislabeledModel::MislabeledModel(QObject* parent)
    : NamedColumnsModel(
          {tr("Image"), tr("Label"), tr("Label score"), tr("Predicted"), tr("Predicted score")},
          parent) {}

void MislabeledModel::setRows(std::vector<ExampleRow> rows) {
  beginResetModel();
  rows_ = std::move(rows);
  endResetModel();
}

int MislabeledModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

QVariant MislabeledModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount()) {
    return {};
  }
  const ExampleRow& r = row(index.row());
  if (role == Qt::DisplayRole) {
    switch (index.column()) {
      case KeyColumn:
        return r.imageId ? r.key : tr("%1 (not in project)").arg(r.key);
      case LabelColumn:
        return r.labelName;
      case LabelScoreColumn:
        return QString::number(r.labelProbability, 'f', 3);
      case PredictedColumn:
        return r.predictedName;
      case PredictedScoreColumn:
        return QString::number(r.predictedProbability, 'f', 3);
      default:
        return {};
    }
  }
  if (role == Qt::TextAlignmentRole &&
      (index.column() == LabelScoreColumn || index.column() == PredictedScoreColumn)) {
    return QVariant(Qt::AlignRight | Qt::AlignVCenter);
  }
  return exampleRowData(r, role);
}

}  // namespace taxon::ui
