#include "inspect/ConfusionModel.hpp"

#include <QSet>
#include <algorithm>
#include <unordered_map>

namespace taxon::ui {
namespace {

const QString kSeparator = QStringLiteral(" > ");

QStringList segments(const std::string& name) {
  QStringList path;
  for (const auto& part : eval::categoryPath(name)) {
    path.push_back(QString::fromStdString(part));
  }
  return path;
}

}  // namespace

ConfusionModel::ConfusionModel(QObject* parent) : QAbstractTableModel(parent) {}

void ConfusionModel::setReport(std::shared_ptr<const eval::MetricsReport> report) {
  report_ = std::move(report);
  leafPaths_.clear();
  maxLevel_ = 0;
  QSet<QString> inner;
  if (report_) {
    for (const auto& name : report_->categoryNames) {
      auto path = segments(name);
      maxLevel_ = std::max(maxLevel_, static_cast<int>(path.size()));
      for (qsizetype depth = 1; depth < path.size(); ++depth) {
        inner.insert(path.first(depth).join(kSeparator));
      }
      leafPaths_.push_back(std::move(path));
    }
  }
  subtreeChoices_ = QStringList(inner.begin(), inner.end());
  subtreeChoices_.sort(Qt::CaseInsensitive);
  level_ = 0;
  subtree_.clear();
  rebuild();
}

void ConfusionModel::setLevel(int level) {
  level = std::clamp(level, 0, maxLevel_);
  if (level != level_) {
    level_ = level;
    rebuild();
  }
}

void ConfusionModel::setSubtree(const QString& prefix) {
  const QString normalized = segments(prefix.trimmed().toStdString()).join(kSeparator);
  if (normalized != subtree_) {
    subtree_ = normalized;
    rebuild();
  }
}

void ConfusionModel::setSortOrder(SortOrder order) {
  if (order != sortOrder_) {
    sortOrder_ = order;
    rebuild();
  }
}

void ConfusionModel::rebuild() {
  beginResetModel();
  classes_.clear();
  cells_.clear();
  counts_.clear();
  leafIndex_.assign(leafPaths_.size(), -1);

  const QStringList subtreePath = subtree_.isEmpty() ? QStringList() : subtree_.split(kSeparator);
  // Group the report's classes by their (collapsed) name, in report order for now.
  QHash<QString, int> groupOf;
  std::vector<int> groupOfLeaf(leafPaths_.size(), -1);
  for (std::size_t leaf = 0; leaf < leafPaths_.size(); ++leaf) {
    const QStringList& path = leafPaths_[leaf];
    if (path.size() < subtreePath.size() || path.first(subtreePath.size()) != subtreePath) {
      continue;
    }
    const QString name = level_ == 0 || level_ >= path.size() ? path.join(kSeparator)
                                                              : path.first(level_).join(kSeparator);
    auto it = groupOf.find(name);
    if (it == groupOf.end()) {
      it = groupOf.insert(name, static_cast<int>(classes_.size()));
      classes_.push_back(Class{name, {}, 0, 0});
    }
    classes_[static_cast<std::size_t>(*it)].leaves.push_back(static_cast<int>(leaf));
    groupOfLeaf[leaf] = *it;
  }

  // Row totals count every prediction of the class, also those outside the subtree.
  std::unordered_map<quint64, std::int64_t> groupCells;
  if (report_) {
    for (const auto& cell : report_->confusion) {
      const int actual = groupOfLeaf[static_cast<std::size_t>(cell.actual)];
      if (actual < 0) {
        continue;
      }
      auto& group = classes_[static_cast<std::size_t>(actual)];
      group.total += cell.count;
      const int predicted = groupOfLeaf[static_cast<std::size_t>(cell.predicted)];
      if (predicted < 0) {
        continue;
      }
      group.diagonal += actual == predicted ? cell.count : 0;
      groupCells[key(actual, predicted)] += cell.count;
    }
  }

  std::vector<int> order(classes_.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    order[i] = static_cast<int>(i);
  }
  const auto byName = [this](int x, int y) {
    const auto& a = classes_[static_cast<std::size_t>(x)].name;
    const auto& b = classes_[static_cast<std::size_t>(y)].name;
    const int compared = a.compare(b, Qt::CaseInsensitive);
    return compared != 0 ? compared < 0 : a < b;
  };
  std::sort(order.begin(), order.end(), [&](int x, int y) {
    const auto& a = classes_[static_cast<std::size_t>(x)];
    const auto& b = classes_[static_cast<std::size_t>(y)];
    if (sortOrder_ == SortOrder::BySupport && a.total != b.total) {
      return a.total > b.total;
    }
    if (sortOrder_ == SortOrder::ByErrors && a.total - a.diagonal != b.total - b.diagonal) {
      return a.total - a.diagonal > b.total - b.diagonal;
    }
    return byName(x, y);
  });
  std::vector<int> position(order.size());
  std::vector<Class> sorted;
  sorted.reserve(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    position[static_cast<std::size_t>(order[i])] = static_cast<int>(i);
    sorted.push_back(std::move(classes_[static_cast<std::size_t>(order[i])]));
  }
  classes_ = std::move(sorted);
  for (std::size_t leaf = 0; leaf < groupOfLeaf.size(); ++leaf) {
    leafIndex_[leaf] =
        groupOfLeaf[leaf] < 0 ? -1 : position[static_cast<std::size_t>(groupOfLeaf[leaf])];
  }

  cells_.reserve(groupCells.size());
  counts_.reserve(static_cast<qsizetype>(groupCells.size()));
  for (const auto& [cellKey, count] : groupCells) {
    const int actual = position[static_cast<std::size_t>(cellKey >> 32)];
    const int predicted = position[static_cast<std::size_t>(cellKey & 0xffffffffu)];
    cells_.push_back(Cell{actual, predicted, count});
    counts_.insert(key(actual, predicted), count);
  }
  std::sort(cells_.begin(), cells_.end(), [](const Cell& a, const Cell& b) {
    return a.actual != b.actual ? a.actual < b.actual : a.predicted < b.predicted;
  });
  endResetModel();
}

QString ConfusionModel::className(int index) const {
  return index >= 0 && index < classCount() ? classes_[static_cast<std::size_t>(index)].name
                                            : QString();
}

std::int64_t ConfusionModel::count(int actual, int predicted) const {
  return counts_.value(key(actual, predicted), 0);
}

double ConfusionModel::rate(int actual, int predicted) const {
  const auto total = rowTotal(actual);
  return total == 0 ? 0.0
                    : static_cast<double>(count(actual, predicted)) / static_cast<double>(total);
}

std::int64_t ConfusionModel::rowTotal(int actual) const {
  return actual >= 0 && actual < classCount() ? classes_[static_cast<std::size_t>(actual)].total
                                              : 0;
}

std::int64_t ConfusionModel::columnTotal(int predicted) const {
  std::int64_t total = 0;
  for (const auto& cell : cells_) {  // sparse: one pass over the non-empty cells
    total += cell.predicted == predicted ? cell.count : 0;
  }
  return total;
}

std::int64_t ConfusionModel::errors(int actual) const {
  return actual >= 0 && actual < classCount()
             ? classes_[static_cast<std::size_t>(actual)].total -
                   classes_[static_cast<std::size_t>(actual)].diagonal
             : 0;
}

const std::vector<int>& ConfusionModel::leafClasses(int index) const {
  static const std::vector<int> none;
  return index >= 0 && index < classCount() ? classes_[static_cast<std::size_t>(index)].leaves
                                            : none;
}

int ConfusionModel::indexOfLeaf(int leafClass) const {
  return leafClass >= 0 && static_cast<std::size_t>(leafClass) < leafIndex_.size()
             ? leafIndex_[static_cast<std::size_t>(leafClass)]
             : -1;
}

int ConfusionModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : classCount();
}

int ConfusionModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : classCount();
}

QVariant ConfusionModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= classCount() || index.column() >= classCount()) {
    return {};
  }
  switch (role) {
    case Qt::DisplayRole: {
      const auto n = count(index.row(), index.column());
      return n == 0 ? QVariant() : QVariant(static_cast<qlonglong>(n));
    }
    case CountRole:
      return static_cast<qlonglong>(count(index.row(), index.column()));
    case RateRole:
      return rate(index.row(), index.column());
    case ActualNameRole:
      return className(index.row());
    case PredictedNameRole:
      return className(index.column());
    case Qt::ToolTipRole:
      return tr("%1 predicted as %2: %3 (%4%)")
          .arg(className(index.row()), className(index.column()))
          .arg(count(index.row(), index.column()))
          .arg(100.0 * rate(index.row(), index.column()), 0, 'f', 1);
    default:
      return {};
  }
}

QVariant ConfusionModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (role == Qt::DisplayRole || role == Qt::ToolTipRole) {
    return className(section);
  }
  return QAbstractTableModel::headerData(section, orientation, role);
}

std::vector<std::size_t> ConfusionModel::cellPredictions(int actual, int predicted) const {
  std::vector<std::size_t> indices;
  if (!report_) {
    return indices;
  }
  const auto& predictions = report_->predictions;
  for (std::size_t i = 0; i < predictions.size(); ++i) {
    if (indexOfLeaf(static_cast<int>(predictions[i].label)) == actual &&
        indexOfLeaf(static_cast<int>(predictions[i].predicted)) == predicted) {
      indices.push_back(i);
    }
  }
  const bool diagonal = actual == predicted;
  std::stable_sort(indices.begin(), indices.end(), [&](std::size_t a, std::size_t b) {
    return diagonal ? predictions[a].labelProbability < predictions[b].labelProbability
                    : predictions[a].predictedProbability > predictions[b].predictedProbability;
  });
  return indices;
}

std::vector<std::size_t> ConfusionModel::pairPredictions(std::int64_t a, std::int64_t b) const {
  std::vector<std::size_t> indices;
  if (!report_) {
    return indices;
  }
  const auto& predictions = report_->predictions;
  for (std::size_t i = 0; i < predictions.size(); ++i) {
    const auto& p = predictions[i];
    if ((p.label == a && p.predicted == b) || (p.label == b && p.predicted == a)) {
      indices.push_back(i);
    }
  }
  std::stable_sort(indices.begin(), indices.end(), [&](std::size_t x, std::size_t y) {
    return predictions[x].predictedProbability > predictions[y].predictedProbability;
  });
  return indices;
}

}  // namespace taxon::ui
