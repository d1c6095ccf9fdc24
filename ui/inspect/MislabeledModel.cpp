#include "inspect/MislabeledModel.hpp"

#include "inspect/ExampleListModel.hpp"

namespace taxon::ui {

MislabeledModel::MislabeledModel(QObject* parent)
    : ExampleRowsModel(
          {tr("Image"), tr("Label"), tr("Label score"), tr("Predicted"), tr("Predicted score")},
          parent) {}

QVariant MislabeledModel::data(const QModelIndex& index, int role) const {
  const ExampleRow* shown = rowAt(index);
  if (shown == nullptr) {
    return {};
  }
  const ExampleRow& r = *shown;
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
