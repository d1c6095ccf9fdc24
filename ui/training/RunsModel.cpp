#include "training/RunsModel.hpp"

#include <QLocale>
#include <QPixmap>
#include <algorithm>
#include <cmath>

#include "core/Progress.hpp"

namespace taxon::ui {

namespace {

// Distinct colours that read on light and dark backgrounds, one per ticked run.
const QColor& paletteColour(int index) {
  static const QColor colours[] = {QColor(0x4e, 0x79, 0xa7), QColor(0xf2, 0x8e, 0x2b),
                                   QColor(0xe1, 0x57, 0x59), QColor(0x76, 0xb7, 0xb2),
                                   QColor(0x59, 0xa1, 0x4f), QColor(0xed, 0xc9, 0x48),
                                   QColor(0xb0, 0x7a, 0xa1), QColor(0xff, 0x9d, 0xa7),
                                   QColor(0x9c, 0x75, 0x5f), QColor(0x79, 0x70, 0x6e)};
  return colours[index % 10];
}

QPixmap swatch(const QColor& colour) {
  QPixmap pixmap(12, 12);
  pixmap.fill(colour);
  return pixmap;
}

}  // namespace

RunsModel::RunsModel(QObject* parent) : QAbstractTableModel(parent) {}

void RunsModel::setRuns(std::vector<RunSnapshot> runs) {
  bool same = runs.size() == runs_.size();
  for (std::size_t i = 0; same && i < runs.size(); ++i) {
    same = runs[i].dir == runs_[i].dir;
  }
  if (same) {
    runs_ = std::move(runs);
    if (!runs_.empty()) {
      Q_EMIT dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
    }
  } else {
    beginResetModel();
    runs_ = std::move(runs);
    endResetModel();
  }
  // A run that is gone is no longer ticked.
  const QStringList before = ticked_;
  for (const QString& dir : before) {
    if (run(dir) == nullptr) {
      setTicked(dir, false);
    }
  }
}

const RunSnapshot* RunsModel::run(const QString& dir) const {
  const auto it =
      std::find_if(runs_.begin(), runs_.end(), [&](const RunSnapshot& r) { return r.dir == dir; });
  return it == runs_.end() ? nullptr : &*it;
}

bool RunsModel::setTicked(const QString& dir, bool on) {
  if (on == ticked_.contains(dir) || (on && run(dir) == nullptr)) {
    return false;
  }
  if (on) {
    // The first colour no ticked run has.
    int free = 0;
    while (std::find(colourIndex_.cbegin(), colourIndex_.cend(), free) != colourIndex_.cend()) {
      ++free;
    }
    colourIndex_.insert(dir, free);
    ticked_.push_back(dir);
  } else {
    colourIndex_.remove(dir);
    ticked_.removeAll(dir);
  }
  for (int row = 0; row < rowCount(); ++row) {
    if (runs_[static_cast<std::size_t>(row)].dir == dir) {
      Q_EMIT dataChanged(index(row, Name), index(row, Name));
    }
  }
  Q_EMIT tickedChanged();
  return true;
}

QColor RunsModel::colour(const QString& dir) const {
  const auto it = colourIndex_.constFind(dir);
  return it == colourIndex_.cend() ? QColor() : paletteColour(*it);
}

int RunsModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(runs_.size());
}

int RunsModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

QString RunsModel::stateText(const RunSnapshot& run) {
  return QString::fromLatin1(train::runStatusName(run.state.status));
}

QString RunsModel::wallTimeText(double seconds) {
  if (seconds <= 0.0) {
    return QStringLiteral("—");
  }
  return QString::fromStdString(core::formatDuration(seconds));
}

QVariant RunsModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount()) {
    return {};
  }
  const RunSnapshot& r = runs_[static_cast<std::size_t>(index.row())];
  const QLocale locale;
  const auto setting = [&](const char* key) { return r.settings.value(QLatin1String(key)); };
  if (role == DirRole) {
    return r.dir;
  }
  if (role == Qt::CheckStateRole && index.column() == Name) {
    return ticked_.contains(r.dir) ? Qt::Checked : Qt::Unchecked;
  }
  if (role == Qt::DecorationRole && index.column() == Name && ticked_.contains(r.dir)) {
    return swatch(colour(r.dir));
  }
  if (role == Qt::ToolTipRole) {
    QStringList lines{r.dir};
    if (r.state.recorded && !r.state.recorded->message.empty() &&
        r.state.status == train::RunStatus::Failed) {
      lines.push_back(QString::fromStdString(r.state.recorded->message));
    }
    lines += r.problems;
    return lines.join(QLatin1Char('\n'));
  }
  if (role == SortRole) {
    switch (index.column()) {
      case ModelSize:
        return setting("depth_multiplier").toDouble();
      case InputSize:
        return setting("image_size").toInt();
      case Batch:
        return setting("batch_size").toInt();
      case Steps:
        return static_cast<qlonglong>(r.lastStep);
      case BestPrecision:
        return r.bestPrecisionAt1.value_or(-1.0);
      case LastPrecision:
        return r.lastPrecisionAt1.value_or(-1.0);
      case WallTime:
        return r.wallSeconds;
      default:
        return data(index, Qt::DisplayRole);
    }
  }
  if (role == Qt::TextAlignmentRole && index.column() >= ModelSize) {
    return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
  }
  if (role != Qt::DisplayRole) {
    return {};
  }
  switch (index.column()) {
    case Name:
      return r.name;
    case State:
      return stateText(r);
    case Recipe:
      return setting("recipe").toString();
    case ModelSize:
      return r.settings.isEmpty() ? QString()
                                  : QString::number(setting("depth_multiplier").toDouble());
    case InputSize:
      return r.settings.isEmpty() ? QString() : tr("%1 px").arg(setting("image_size").toInt());
    case Batch:
      return r.settings.isEmpty() ? QString() : QString::number(setting("batch_size").toInt());
    case Steps:
      return r.totalSteps > 0
                 ? tr("%1 / %2").arg(locale.toString(static_cast<qlonglong>(r.lastStep)),
                                     locale.toString(static_cast<qlonglong>(r.totalSteps)))
                 : locale.toString(static_cast<qlonglong>(r.lastStep));
    case BestPrecision:
      return r.bestPrecisionAt1 ? QString::number(*r.bestPrecisionAt1, 'f', 4)
                                : QStringLiteral("—");
    case LastPrecision:
      return r.lastPrecisionAt1 ? QString::number(*r.lastPrecisionAt1, 'f', 4)
                                : QStringLiteral("—");
    case WallTime:
      return wallTimeText(r.wallSeconds);
    default:
      return {};
  }
}

bool RunsModel::setData(const QModelIndex& index, const QVariant& value, int role) {
  if (!index.isValid() || index.column() != Name || role != Qt::CheckStateRole) {
    return false;
  }
  const QString dir = runs_[static_cast<std::size_t>(index.row())].dir;
  setTicked(dir, value.value<Qt::CheckState>() == Qt::Checked);
  return true;
}

Qt::ItemFlags RunsModel::flags(const QModelIndex& index) const {
  Qt::ItemFlags f = QAbstractTableModel::flags(index);
  if (index.column() == Name) {
    f |= Qt::ItemIsUserCheckable;
  }
  return f;
}

QVariant RunsModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal) {
    return {};
  }
  if (role == Qt::ToolTipRole) {
    switch (section) {
      case ModelSize:
        return tr("Depth multiplier: 1.0 is the full Inception-v3");
      case Steps:
        return tr("Steps logged, of the run's length");
      case WallTime:
        return tr("From the run's first figure to its last (pauses between resumes included)");
      default:
        return {};
    }
  }
  if (role != Qt::DisplayRole) {
    return {};
  }
  static const char* const names[] = {"Run",   "State", "Recipe",   "Model size", "Input",
                                      "Batch", "Steps", "Best p@1", "Last p@1",   "Wall time"};
  return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

}  // namespace taxon::ui
