// The confusion matrix of an evaluation report as a table model (rows: actual, columns:
// predicted), testable without a window. The classes can be collapsed to a level of the " > "
// category paths (level 1 = the first segment; cells of merged classes are summed), filtered to
// a subtree (a path prefix: rows and columns both inside it) and sorted. The matrix is sparse
// (hash map of nonzero cells), so 1,000 classes cost what their confusions cost. Rates are
// row-normalized over everything the actual class was predicted as, including predictions
// outside the subtree. GUI thread.
#pragma once

#include <QAbstractTableModel>
#include <QHash>
#include <QString>
#include <QStringList>
#include <cstdint>
#include <memory>
#include <vector>

#include "eval/Metrics.hpp"

namespace taxon::ui {

class ConfusionModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Role {
    CountRole = Qt::UserRole + 1,  // qint64, examples of the row's class predicted as the column's
    RateRole,                      // double, count / everything predicted for the row's class
    ActualNameRole,                // QString
    PredictedNameRole,             // QString
  };
  enum class SortOrder { ByName, BySupport, ByErrors };  // support and errors: largest first

  struct Cell {
    int actual = 0;  // row in the current (collapsed, filtered, sorted) index space
    int predicted = 0;
    std::int64_t count = 0;
  };

  explicit ConfusionModel(QObject* parent = nullptr);

  // Replaces the report (resets the level to 0, the subtree to everything, keeps the sort).
  void setReport(std::shared_ptr<const eval::MetricsReport> report);
  const eval::MetricsReport* report() const { return report_.get(); }

  // 0: every category as it is; L >= 1: the first L path segments.
  void setLevel(int level);
  int level() const { return level_; }
  int maxLevel() const { return maxLevel_; }
  // A path prefix ("Women > Shoes"), matched on whole segments; empty: everything.
  void setSubtree(const QString& prefix);
  QString subtree() const { return subtree_; }
  void setSortOrder(SortOrder order);
  // Every inner node of the category tree ("Women", "Women > Shoes", ...), sorted.
  QStringList subtreeChoices() const { return subtreeChoices_; }

  // --- the current index space ---
  int classCount() const { return static_cast<int>(classes_.size()); }
  QString className(int index) const;
  std::int64_t count(int actual, int predicted) const;
  double rate(int actual, int predicted) const;
  std::int64_t rowTotal(int actual) const;        // support of the (merged) class
  std::int64_t errors(int actual) const;          // rowTotal minus the diagonal
  std::int64_t columnTotal(int predicted) const;  // images predicted as the (merged) class
  // The report's classes merged into `index`.
  const std::vector<int>& leafClasses(int index) const;
  // Where a report class is now: its index, or -1 when filtered out.
  int indexOfLeaf(int leafClass) const;
  // Nonzero cells, by (actual, predicted).
  const std::vector<Cell>& cells() const { return cells_; }

  // --- the report's predictions behind a cell or a pair, as indices into report()->predictions
  // The predictions of cell (actual, predicted): mistakes the most confident first (the worst
  // first), correct ones the least sure first (the nearest to a mistake first).
  std::vector<std::size_t> cellPredictions(int actual, int predicted) const;
  // The predictions of report classes `a` and `b` taken for each other (either way), the most
  // confident first.
  std::vector<std::size_t> pairPredictions(std::int64_t a, std::int64_t b) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  struct Class {
    QString name;
    std::vector<int> leaves;
    std::int64_t total = 0;
    std::int64_t diagonal = 0;
  };
  void rebuild();
  static quint64 key(int actual, int predicted) {
    return (static_cast<quint64>(static_cast<quint32>(actual)) << 32) |
           static_cast<quint32>(predicted);
  }

  std::shared_ptr<const eval::MetricsReport> report_;
  std::vector<QStringList> leafPaths_;  // segments of each report class
  int maxLevel_ = 0;
  QStringList subtreeChoices_;

  int level_ = 0;
  QString subtree_;
  SortOrder sortOrder_ = SortOrder::ByName;

  std::vector<Class> classes_;
  std::vector<int> leafIndex_;  // report class -> index or -1
  std::vector<Cell> cells_;
  QHash<quint64, std::int64_t> counts_;
};

}  // namespace taxon::ui
