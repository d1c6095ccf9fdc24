// The Runs page's table: one row per run of the project with its recipe, model size, input size,
// batch, steps, best and last precision@1, wall time and state, and a tick box that puts the
// run's curves on the charts (the tick shows the run's colour). Sorting and the filter box go
// through a QSortFilterProxyModel over it (SortRole gives numbers for the number columns).
#pragma once

#include <QAbstractTableModel>
#include <QColor>
#include <QHash>
#include <QStringList>
#include <vector>

#include "training/RunCatalog.hpp"

namespace taxon::ui {

class RunsModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column {
    Name,
    State,
    Recipe,
    ModelSize,
    InputSize,
    Batch,
    Steps,
    BestPrecision,
    LastPrecision,
    WallTime,
    ColumnCount
  };
  static constexpr int SortRole = Qt::UserRole + 1;
  static constexpr int DirRole = Qt::UserRole + 2;

  explicit RunsModel(QObject* parent = nullptr);

  // Replaces the rows with `runs` (kept in order); rows of the same runs are updated in place so
  // that the view keeps its selection and scroll position.
  void setRuns(std::vector<RunSnapshot> runs);
  const std::vector<RunSnapshot>& runs() const { return runs_; }
  const RunSnapshot* run(const QString& dir) const;

  // Ticked runs, in the order they were ticked; each keeps its colour while ticked.
  QStringList ticked() const { return ticked_; }
  bool setTicked(const QString& dir, bool on);
  QColor colour(const QString& dir) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  bool setData(const QModelIndex& index, const QVariant& value, int role) override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

  static QString stateText(const RunSnapshot& run);
  static QString wallTimeText(double seconds);

 Q_SIGNALS:
  void tickedChanged();

 private:
  std::vector<RunSnapshot> runs_;
  QStringList ticked_;
  QHash<QString, int> colourIndex_;  // dir -> palette index while ticked
};

}  // namespace taxon::ui
