// The Inspect page: an evaluation report folder (eval::readReport) shown as a confusion heat map
// (collapsible to a level of the category tree, filterable to a subtree, sortable), the most
// confused pairs, per-category metrics and the likely-mislabeled images, and an examples pane
// with the images behind the clicked cell or the selected pair and their scores, and for the
// current example where the model looked for its label and for its prediction (Grad-CAM), and
// the groups of copies `taxon duplicates` found, each resolved in one edit (DuplicatesPanel).
// Images of the open project can be relabelled from any list ("Relabel…", the context menu or the
// key M) via ProjectSession, which makes each relabel one undo step. The app opens reports with
// openReport, which reads them on a worker thread (0.12 s for 90,000 predictions at 1,000 classes:
// more than the event loop may stall) and shows them when read; thumbnails load on worker threads
// too. GUI thread.
#pragma once

#include <QHash>
#include <QString>
#include <QWidget>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "eval/Metrics.hpp"
#include "inspect/ExampleRow.hpp"

class QAbstractItemView;
class QAction;
class QComboBox;
class QLabel;
class QListView;
class QSortFilterProxyModel;
class QTableView;
class QTabWidget;
class QThreadPool;

namespace taxon::ui {

class CategoryMetricsModel;
class ConfusedPairsModel;
class ConfusionHeatMap;
class ConfusionModel;
class DuplicatesPanel;
class ExampleListModel;
class MislabeledModel;
class ProjectSession;
class SimilarImagesPanel;
class Thumbnails;
class WhyPanel;

class InspectPage : public QWidget {
  Q_OBJECT

 public:
  // `session` may be null (then no image can be relabelled); not owned.
  explicit InspectPage(ProjectSession* session, QWidget* parent = nullptr);
  ~InspectPage() override;

  // Reads the report in `evalDir` on a worker thread and shows it when read: reportLoaded, or
  // reportFailed with a sentence naming the file (shown on the page; the report that was shown
  // stays). A later openReport or loadReport supersedes one still being read.
  void openReport(const QString& evalDir);
  bool isReading() const;
  // The same, read on the calling thread (tests, and callers that need the report at once).
  // On failure returns false and puts the sentence in `error` too.
  bool loadReport(const QString& evalDir, QString* error = nullptr);

  // Shows the images of one confusion cell (the model's current index space), as a click on the
  // heat map does.
  void showCell(int actualClass, int predictedClass);
  // Shows the images of row `row` of the confused pairs (both directions).
  void showPair(int row);
  // Relabels the in-project images selected in the list used last (examples or likely
  // mislabeled) to `categoryPath` (created if new): what "Relabel…" does after the picker.
  // False (and `error`) when nothing relabellable is selected or the session refused.
  bool relabelSelected(const QString& categoryPath, QString* error = nullptr);

  // --- for tests ---
  ConfusionModel* confusionModel() { return confusion_; }
  ConfusionHeatMap* heatMap() { return heatMap_; }
  ExampleListModel* exampleModel() { return examples_; }
  MislabeledModel* mislabeledModel() { return mislabeled_; }
  ConfusedPairsModel* pairsModel() { return pairs_; }
  CategoryMetricsModel* categoryModel() { return categories_; }
  QAbstractItemView* examplesView();
  QAbstractItemView* mislabeledView();
  QAbstractItemView* pairsView();
  Thumbnails* thumbnails() { return thumbnails_; }
  SimilarImagesPanel* similarPanel() { return similar_; }
  WhyPanel* whyPanel() { return why_; }
  DuplicatesPanel* duplicatesPanel() { return duplicates_; }
  QTabWidget* tabs() { return tabs_; }
  QString examplesTitle() const;
  QString errorText() const;

 Q_SIGNALS:
  void reportLoaded(const QString& dir);
  void reportFailed(const QString& dir, const QString& message);

 private:
  enum class ListKind { Examples, Mislabeled };

  void buildUi();
  QWidget* buildExamplesPane();  // the images of a cell or pair, and Relabel
  void applyReport(std::shared_ptr<const eval::MetricsReport> report, const QString& evalDir);
  void showSummary();  // the report's one-line summary (or that there is none)
  void showReport();
  void updateLevelChoices();
  void applyLevel();
  void applySubtree();
  void applySort();
  void setExamples(std::vector<std::size_t> predictionIndices, const QString& title);
  void refreshRows();  // after the project changed: image ids and files again
  ExampleRow makeRow(const QString& key, std::int64_t label, std::int64_t predicted,
                     double labelProbability, double predictedProbability);
  std::optional<std::int64_t> imageIdForKey(const QString& key);
  QString className(std::int64_t id) const;
  std::vector<std::int64_t> selectedImageIds(ListKind list) const;
  void updateActions();
  void pickAndRelabel(ListKind list);
  void showError(const QString& text);
  void showWhy();  // the current example's label and prediction maps

  ProjectSession* session_ = nullptr;
  std::unique_ptr<QThreadPool> reader_;  // one thread: openReport's reading
  quint64 request_ = 0;                  // the latest openReport/loadReport; older results drop
  std::shared_ptr<const eval::MetricsReport> report_;
  QString reportDir_;
  std::vector<std::size_t> shown_;  // indices into report_->predictions of the examples pane
  QString shownTitle_;
  QHash<QString, std::optional<std::int64_t>> idCache_;
  ListKind activeList_ = ListKind::Examples;

  ConfusionModel* confusion_ = nullptr;
  ConfusedPairsModel* pairs_ = nullptr;
  CategoryMetricsModel* categories_ = nullptr;
  QSortFilterProxyModel* categoriesProxy_ = nullptr;
  MislabeledModel* mislabeled_ = nullptr;
  Thumbnails* thumbnails_ = nullptr;
  ExampleListModel* examples_ = nullptr;

  QLabel* summary_ = nullptr;
  QLabel* error_ = nullptr;
  QComboBox* level_ = nullptr;
  QComboBox* subtree_ = nullptr;
  QComboBox* sort_ = nullptr;
  ConfusionHeatMap* heatMap_ = nullptr;
  QTabWidget* tabs_ = nullptr;
  QTableView* pairsView_ = nullptr;
  QTableView* categoriesView_ = nullptr;
  QTableView* mislabeledView_ = nullptr;
  QLabel* examplesTitle_ = nullptr;
  QListView* examplesView_ = nullptr;
  SimilarImagesPanel* similar_ = nullptr;  // of the current example
  WhyPanel* why_ = nullptr;                // of the current example
  DuplicatesPanel* duplicates_ = nullptr;  // the report folder's duplicates.csv
  QLabel* status_ = nullptr;
  QAction* relabelExamples_ = nullptr;
  QAction* relabelMislabeled_ = nullptr;
};

}  // namespace taxon::ui
