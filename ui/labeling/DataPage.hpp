// The Data page: the category tree with image counts per split, the thumbnail grid of the
// selected category (its whole subtree), a large preview of the current image, and labeling:
// drag images onto a category, press M (or "Move to…") for the searchable category picker, or
// select many and move them at once. Categories are created, renamed, merged and deleted from the
// tree's context menu. Every edit is saved at once through the ProjectSession; undo and redo are
// the main window's (Ctrl+Z, Ctrl+Shift+Z).
// With a model's suggestions (`taxon suggest`): the grid can list the unlabeled images suggested
// for the selected node (all of them on the Unlabeled node) by score, margin or entropy, above a
// score; Review opens the one-key review (ReviewDialog) of the unlabeled images or of the
// disagreements; Accept labels every suggestion above a score at once (AcceptDialog).
// With embeddings (`taxon embed`): under the preview, the current image's 12 most similar images
// of the project (from the project's most recently written store), with category, split and
// distance.
#pragma once

#include <QList>
#include <QString>
#include <QWidget>
#include <cstdint>
#include <vector>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QListView;
class QListWidget;
class QTreeView;
class QModelIndex;

namespace taxon::ui {

class CategoryTreeModel;
class ImageGridModel;
class ProjectSession;
class SimilarImagesPanel;
class Thumbnails;

class DataPage : public QWidget {
  Q_OBJECT

 public:
  explicit DataPage(ProjectSession* session, QWidget* parent = nullptr);

  CategoryTreeModel* categoryModel() const { return tree_; }
  ImageGridModel* imageModel() const { return images_; }
  QListView* gridView() const { return gridView_; }
  QTreeView* treeView() const { return treeView_; }
  Thumbnails* thumbnails() const { return thumbnails_; }
  QListWidget* similarList() const;
  QString similarNote() const;

  // Selects a category (or an inner node of the tree) by path; false when there is none.
  bool selectCategory(const QString& path);
  // Moves the images selected in the grid to `categoryPath` (created if missing). Returns the
  // number moved; shows the catalog's refusal in the status line.
  int moveSelectedTo(const QString& categoryPath);
  // What the grid lists: the node's images, or the unlabeled images suggested for it, sorted by
  // score, margin or entropy and filtered by a minimum score and, for the last two, by a bound on
  // the sort key (margin at most, entropy at least; a negative bound keeps the current one).
  enum class Listing { Images, SurestFirst, LeastSureFirst, MostUncertainFirst };
  void setListing(Listing listing, double minScore = 0.0, double bound = -1.0);

 public Q_SLOTS:
  void moveSelectedWithPicker();  // M
  void newCategory();
  void renameCategory();
  void mergeCategory();
  void deleteCategory();
  void reviewSuggestions();
  void reviewDisagreements();
  void acceptSuggestions();

 Q_SIGNALS:
  void importRequested();

 private:
  void buildViews();  // the category tree and the image grid
  void categorySelected();
  void currentImageChanged(const QModelIndex& current);
  void fitCountColumns();  // the count columns as wide as their widest number
  void rememberExpanded();
  void restoreExpanded();
  void showStatus(const QString& text);
  void showSelection(const QList<qint64>& ids);  // the grid for the selected node's ids
  void showBound();                              // the bound box for the listing's sort key
  Listing currentListing() const;
  QList<qint64> selectedIds() const;  // the selected node's category ids
  QString currentPath() const;
  std::int64_t currentCategoryId() const;

  ProjectSession* session_;
  Thumbnails* thumbnails_;
  CategoryTreeModel* tree_;
  ImageGridModel* images_;
  QTreeView* treeView_;
  QListView* gridView_;
  QComboBox* split_;
  QComboBox* listing_;
  QDoubleSpinBox* minScore_;
  QDoubleSpinBox* bound_;  // margin ≤ (least sure first) or entropy ≥ (most uncertain first)
  QAction* boundAction_;
  double maxMargin_ = 1.0;
  double minEntropy_ = 0.0;
  QLabel* preview_;
  QLabel* details_;
  SimilarImagesPanel* similar_;
  QLabel* status_;
  QStringList expanded_;
  QString selectedPath_;
  bool selectedUnlabeled_ = false;  // the Unlabeled node is selected (its path is empty)
};

}  // namespace taxon::ui
