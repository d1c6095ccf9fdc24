#include "labeling/DataPage.hpp"

#include <QAction>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QImageReader>
#include <QInputDialog>
#include <QLabel>
#include <QListView>
#include <QListWidget>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QSplitter>
#include <QStyle>
#include <QThread>
#include <QToolBar>
#include <QTreeView>
#include <QVBoxLayout>
#include <algorithm>

#include "common/CategoryPickerDialog.hpp"
#include "common/Paths.hpp"
#include "common/ProjectSession.hpp"
#include "common/SimilarImagesPanel.hpp"
#include "common/Thumbnails.hpp"
#include "labeling/AcceptDialog.hpp"
#include "labeling/CategoryTreeModel.hpp"
#include "labeling/ImageGridModel.hpp"
#include "labeling/ReviewDialog.hpp"
#include "project/Catalog.hpp"
#include "project/ProjectLayout.hpp"

namespace taxon::ui {

DataPage::DataPage(ProjectSession* session, QWidget* parent) : QWidget(parent), session_(session) {
  // 128 px cells; the most recent few thousand thumbnails (64 KiB each) stay in memory, and the
  // workers leave a core for the GUI thread (and the trainer when one runs).
  thumbnails_ = new Thumbnails({QSize(128, 128), ThumbnailFit::PixelEnlarge, 4000 * 64 * 1024,
                                QThread::idealThreadCount() - 1},
                               this);
  tree_ = new CategoryTreeModel(session_, this);
  images_ = new ImageGridModel(session_, thumbnails_, this);

  buildViews();

  preview_ = new QLabel(this);
  preview_->setObjectName(QStringLiteral("preview"));
  preview_->setAlignment(Qt::AlignCenter);
  preview_->setMinimumSize(240, 240);
  preview_->setText(tr("Select an image"));
  details_ = new QLabel(this);
  details_->setWordWrap(true);
  details_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  similar_ = new SimilarImagesPanel(thumbnails_, this);
  status_ = new QLabel(this);
  status_->setObjectName(QStringLiteral("dataStatus"));

  split_ = new QComboBox(this);
  split_->addItem(tr("All splits"));
  split_->addItem(tr("Train"), QStringLiteral("train"));
  split_->addItem(tr("Validation"), QStringLiteral("validation"));
  split_->addItem(tr("Test"), QStringLiteral("test"));
  split_->addItem(tr("Unassigned"), QStringLiteral("unassigned"));

  auto* toolbar = new QToolBar(this);
  auto* importAction =
      toolbar->addAction(QIcon::fromTheme(QStringLiteral("document-import")), tr("Import…"));
  auto* moveAction = toolbar->addAction(tr("Move to…"));
  moveAction->setShortcut(QKeySequence(Qt::Key_M));
  moveAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
  moveAction->setToolTip(tr("Move the selected images to another category (M)"));
  addAction(moveAction);
  toolbar->addSeparator();
  toolbar->addWidget(new QLabel(tr("Show: "), this));
  toolbar->addWidget(split_);
  listing_ = new QComboBox(this);
  listing_->setObjectName(QStringLiteral("listing"));
  listing_->addItem(tr("Images"));
  listing_->addItem(tr("Surest suggestions"));
  listing_->addItem(tr("Least sure (margin)"));
  listing_->addItem(tr("Most uncertain (entropy)"));
  listing_->setToolTip(
      tr("The node's images, or the unlabeled images the model suggests for it (taxon "
         "suggest): by score, by margin (first score minus second, smallest first) or by "
         "entropy of the top 5 (largest first)"));
  minScore_ = new QDoubleSpinBox(this);
  minScore_->setRange(0.0, 1.0);
  minScore_->setSingleStep(0.05);
  minScore_->setDecimals(2);
  minScore_->setPrefix(tr("score ≥ "));
  minScore_->setEnabled(false);
  minScore_->setObjectName(QStringLiteral("minScore"));
  minScore_->setToolTip(tr("Only suggestions whose first category scores at least this"));
  bound_ = new QDoubleSpinBox(this);
  bound_->setObjectName(QStringLiteral("bound"));
  bound_->setSingleStep(0.05);
  bound_->setDecimals(2);
  toolbar->addWidget(listing_);
  toolbar->addWidget(minScore_);
  boundAction_ = toolbar->addWidget(bound_);
  boundAction_->setVisible(false);

  toolbar->addSeparator();
  auto* reviewAction = toolbar->addAction(tr("Review…"));
  reviewAction->setToolTip(tr("Label the unlabeled images one key at a time, least sure first"));
  auto* nextAction = toolbar->addAction(tr("Label next…"));
  nextAction->setToolTip(
      tr("The images active learning picked as the most worth labeling (taxon suggest --pick)"));
  connect(nextAction, &QAction::triggered, this, [this] {
    ReviewDialog review(session_, ReviewQueue::Kind::LabelNext, this);
    review.exec();
  });
  auto* disagreeAction = toolbar->addAction(tr("Disagreements…"));
  disagreeAction->setToolTip(
      tr("Labeled images whose label the model contradicts (taxon suggest --subset all)"));
  auto* acceptAction = toolbar->addAction(tr("Accept…"));
  acceptAction->setToolTip(
      tr("Give every unlabeled image of the selected node whose suggestion is sure enough its "
         "suggestion, as one edit"));
  connect(reviewAction, &QAction::triggered, this, &DataPage::reviewSuggestions);
  connect(disagreeAction, &QAction::triggered, this, &DataPage::reviewDisagreements);
  connect(acceptAction, &QAction::triggered, this, &DataPage::acceptSuggestions);
  connect(listing_, &QComboBox::currentIndexChanged, this, [this](int index) {
    minScore_->setEnabled(static_cast<Listing>(index) != Listing::Images);
    showBound();
    categorySelected();
  });
  connect(minScore_, &QDoubleSpinBox::valueChanged, this, &DataPage::categorySelected);
  connect(bound_, &QDoubleSpinBox::valueChanged, this, [this](double value) {
    (currentListing() == Listing::LeastSureFirst ? maxMargin_ : minEntropy_) = value;
    categorySelected();
  });

  auto* newAction = new QAction(tr("New category…"), this);
  auto* renameAction = new QAction(tr("Rename…"), this);
  renameAction->setShortcut(QKeySequence(Qt::Key_F2));
  renameAction->setShortcutContext(Qt::WidgetShortcut);
  auto* mergeAction = new QAction(tr("Merge into…"), this);
  auto* deleteAction = new QAction(tr("Delete"), this);
  deleteAction->setShortcut(QKeySequence::Delete);
  deleteAction->setShortcutContext(Qt::WidgetShortcut);
  treeView_->addActions({newAction, renameAction, mergeAction, deleteAction});

  auto* side = new QWidget(this);
  auto* sideLayout = new QVBoxLayout(side);
  sideLayout->setContentsMargins(0, 0, 0, 0);
  sideLayout->addWidget(preview_, 1);
  sideLayout->addWidget(details_);
  sideLayout->addWidget(similar_, 1);

  auto* splitter = new QSplitter(this);
  splitter->addWidget(treeView_);
  splitter->addWidget(gridView_);
  splitter->addWidget(side);
  splitter->setStretchFactor(0, 2);
  splitter->setStretchFactor(1, 5);
  splitter->setStretchFactor(2, 2);
  splitter->setSizes({320, 640, 280});

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(toolbar);
  layout->addWidget(splitter, 1);
  layout->addWidget(status_);

  connect(importAction, &QAction::triggered, this, &DataPage::importRequested);
  connect(moveAction, &QAction::triggered, this, &DataPage::moveSelectedWithPicker);
  connect(newAction, &QAction::triggered, this, &DataPage::newCategory);
  connect(renameAction, &QAction::triggered, this, &DataPage::renameCategory);
  connect(mergeAction, &QAction::triggered, this, &DataPage::mergeCategory);
  connect(deleteAction, &QAction::triggered, this, &DataPage::deleteCategory);
  connect(split_, &QComboBox::currentIndexChanged, this, &DataPage::categorySelected);
  connect(treeView_->selectionModel(), &QItemSelectionModel::currentChanged, this,
          &DataPage::categorySelected);
  connect(gridView_->selectionModel(), &QItemSelectionModel::currentChanged, this,
          &DataPage::currentImageChanged);
  connect(tree_, &CategoryTreeModel::relabelFailed, this, &DataPage::showStatus);
  // The tree is rebuilt after every edit: keep what was expanded and selected.
  connect(tree_, &QAbstractItemModel::modelAboutToBeReset, this, &DataPage::rememberExpanded);
  connect(tree_, &QAbstractItemModel::modelReset, this, &DataPage::restoreExpanded);
  connect(session_, &ProjectSession::opened, this, [this](const QString& dir) {
    similar_->setProject(dir);
    thumbnails_->setDiskFolder(fromPath(project::ProjectLayout(toPath(dir)).thumbnailsDir()));
    selectedPath_.clear();
    selectedUnlabeled_ = false;
    images_->setCategories({});
    showStatus(tr("%n image(s) in %1 categories", nullptr, static_cast<int>(tree_->totalImages()))
                   .arg(session_->categoryPaths().size()));
  });
}

void DataPage::buildViews() {
  treeView_ = new QTreeView(this);
  treeView_->setObjectName(QStringLiteral("categoryTree"));
  treeView_->setModel(tree_);
  treeView_->setUniformRowHeights(true);  // fast at thousands of rows
  treeView_->setAcceptDrops(true);
  treeView_->setDropIndicatorShown(true);
  treeView_->setDragDropMode(QAbstractItemView::DropOnly);
  treeView_->setContextMenuPolicy(Qt::ActionsContextMenu);
  treeView_->header()->setSectionResizeMode(CategoryTreeModel::kName, QHeaderView::Stretch);
  treeView_->header()->setStretchLastSection(false);
  // The counts' widths are set from the widest number on each reset (fitCountColumns), not by
  // ResizeToContents, which measures every row on every layout: 60 ms of each expand or edit at
  // 1,000 categories.
  for (int c = CategoryTreeModel::kTrain; c < CategoryTreeModel::kColumnCount; ++c) {
    treeView_->header()->setSectionResizeMode(c, QHeaderView::Interactive);
  }
  fitCountColumns();

  gridView_ = new QListView(this);
  gridView_->setObjectName(QStringLiteral("imageGrid"));
  gridView_->setModel(images_);
  gridView_->setViewMode(QListView::IconMode);
  gridView_->setResizeMode(QListView::Adjust);
  gridView_->setUniformItemSizes(true);
  gridView_->setIconSize(thumbnails_->size());
  gridView_->setGridSize(thumbnails_->size() + QSize(16, 32));
  gridView_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  gridView_->setDragEnabled(true);
  gridView_->setDragDropMode(QAbstractItemView::DragOnly);
  gridView_->setMovement(QListView::Static);
  gridView_->setLayoutMode(QListView::Batched);
  gridView_->setBatchSize(200);
}

QString DataPage::currentPath() const {
  return treeView_->currentIndex().data(CategoryTreeModel::kPathRole).toString();
}

std::int64_t DataPage::currentCategoryId() const {
  return treeView_->currentIndex().data(CategoryTreeModel::kCategoryIdRole).toLongLong();
}

bool DataPage::selectCategory(const QString& path) {
  const QModelIndex index = tree_->indexOfPath(path);
  if (!index.isValid()) {
    return false;
  }
  treeView_->expand(index.parent());
  treeView_->setCurrentIndex(index);
  return true;
}

void DataPage::categorySelected() {
  const QModelIndex current = treeView_->currentIndex();
  selectedPath_ = current.data(CategoryTreeModel::kPathRole).toString();
  selectedUnlabeled_ = current.data(CategoryTreeModel::kUnlabeledRole).toBool();
  showSelection(current.data(CategoryTreeModel::kSubtreeIdsRole).value<QList<qint64>>());
  showStatus(tr("%1: %n image(s)", nullptr, static_cast<int>(images_->totalRows()))
                 .arg(selectedUnlabeled_ ? tr("Unlabeled") : selectedPath_));
}

QListWidget* DataPage::similarList() const {
  return similar_->list();
}

QString DataPage::similarNote() const {
  return similar_->note();
}

void DataPage::currentImageChanged(const QModelIndex& current) {
  if (!current.isValid()) {
    preview_->setText(tr("Select an image"));
    details_->clear();
    similar_->showFor({});
    return;
  }
  // The preview reads one image at its display size; the GUI thread can afford that.
  QImageReader reader(current.data(ImageGridModel::kFileRole).toString());
  const QSize box = preview_->size().expandedTo(QSize(240, 240));
  const QImage image = decodeThumbnail(reader, box, ThumbnailFit::Shrink);
  if (image.isNull()) {
    preview_->setText(tr("Cannot show this image: %1").arg(reader.errorString()));
  } else {
    // Small images (28 x 28) are enlarged without smoothing so their pixels stay visible.
    const QSize shown = image.size().scaled(box, Qt::KeepAspectRatio);
    preview_->setPixmap(QPixmap::fromImage(image.scaled(
        shown.boundedTo(image.size() * 8), Qt::KeepAspectRatio, Qt::FastTransformation)));
  }
  details_->setText(QStringLiteral("<b>%1</b><br>%2<br>%3")
                        .arg(current.data(ImageGridModel::kCategoryRole).toString().toHtmlEscaped(),
                             current.data(Qt::ToolTipRole)
                                 .toString()
                                 .toHtmlEscaped()
                                 .replace(QLatin1Char('\n'), QStringLiteral("<br>")),
                             QString()));
  similar_->showFor(current.data(ImageGridModel::kFileRole).toString());
}

int DataPage::moveSelectedTo(const QString& categoryPath) {
  const auto ids = images_->imageIds(gridView_->selectionModel()->selectedIndexes());
  if (ids.empty()) {
    showStatus(tr("Select images in the grid first."));
    return 0;
  }
  QString error;
  if (!session_->relabel(ids, categoryPath, &error)) {
    showStatus(error);
    return 0;
  }
  showStatus(tr("Moved %n image(s) to %1 (Ctrl+Z undoes).", nullptr, static_cast<int>(ids.size()))
                 .arg(categoryPath));
  return static_cast<int>(ids.size());
}

void DataPage::moveSelectedWithPicker() {
  if (gridView_->selectionModel()->selectedIndexes().isEmpty()) {
    showStatus(tr("Select images in the grid first."));
    return;
  }
  if (const auto path = CategoryPickerDialog::pick(this, session_->categoryPaths(),
                                                   tr("Move to category"), /*allowNew=*/true)) {
    moveSelectedTo(*path);
  }
}

void DataPage::newCategory() {
  const QString base = currentPath();
  bool ok = false;
  const QString path = QInputDialog::getText(
      this, tr("New category"), tr("Path (levels separated by \" > \"):"), QLineEdit::Normal,
      base.isEmpty() ? QString() : base + QStringLiteral(" > "), &ok);
  if (!ok || path.trimmed().isEmpty()) {
    return;
  }
  QString error;
  if (!session_->createCategory(path.trimmed(), &error)) {
    showStatus(error);
    return;
  }
  selectCategory(path.trimmed());
}

void DataPage::renameCategory() {
  const std::int64_t id = currentCategoryId();
  if (id == 0) {
    showStatus(tr("Only a category itself can be renamed; select one (not a group)."));
    return;
  }
  bool ok = false;
  const QString path = QInputDialog::getText(this, tr("Rename category"), tr("New path:"),
                                             QLineEdit::Normal, currentPath(), &ok);
  if (!ok || path.trimmed().isEmpty()) {
    return;
  }
  QString error;
  if (!session_->renameCategory(id, path.trimmed(), &error)) {
    showStatus(error);
  }
}

void DataPage::mergeCategory() {
  const std::int64_t id = currentCategoryId();
  if (id == 0) {
    showStatus(tr("Select a category to merge."));
    return;
  }
  const QString from = currentPath();
  QStringList others = session_->categoryPaths();
  others.removeAll(from);
  const auto into =
      CategoryPickerDialog::pick(this, others, tr("Merge \"%1\" into").arg(from), false);
  if (!into) {
    return;
  }
  auto target = session_->catalog()->findCategory(into->toStdString());
  QString error;
  if (!target || !session_->mergeCategory(id, target->id, &error)) {
    showStatus(error.isEmpty() ? tr("No category \"%1\".").arg(*into) : error);
    return;
  }
  selectCategory(*into);
}

void DataPage::deleteCategory() {
  const std::int64_t id = currentCategoryId();
  if (id == 0) {
    showStatus(tr("Select a category to delete."));
    return;
  }
  QString error;
  if (!session_->deleteCategory(id, &error)) {
    showStatus(error + tr(" Merge it into another category instead."));
  }
}

void DataPage::fitCountColumns() {
  // A column's largest number is a top-level node's (a node counts its whole subtree); the
  // delegate writes numbers as the view's locale does.
  const QFontMetrics metrics(treeView_->font());
  const int padding = 2 * treeView_->style()->pixelMetric(QStyle::PM_FocusFrameHMargin) + 8;
  for (int c = CategoryTreeModel::kTrain; c < CategoryTreeModel::kColumnCount; ++c) {
    qlonglong widest = 0;
    for (int row = 0; row < tree_->rowCount(); ++row) {
      widest = std::max(widest, tree_->index(row, c).data().toLongLong());
    }
    const int width = metrics.horizontalAdvance(treeView_->locale().toString(widest)) + padding;
    treeView_->header()->resizeSection(c, std::max(width, treeView_->header()->sectionSizeHint(c)));
  }
}

void DataPage::rememberExpanded() {
  expanded_.clear();
  std::vector<QModelIndex> stack = {QModelIndex()};
  while (!stack.empty()) {
    const QModelIndex parent = stack.back();
    stack.pop_back();
    for (int row = 0; row < tree_->rowCount(parent); ++row) {
      const QModelIndex child = tree_->index(row, 0, parent);
      if (treeView_->isExpanded(child)) {
        expanded_.push_back(child.data(CategoryTreeModel::kPathRole).toString());
        stack.push_back(child);
      }
    }
  }
}

void DataPage::restoreExpanded() {
  fitCountColumns();
  for (const QString& path : expanded_) {
    treeView_->expand(tree_->indexOfPath(path));
  }
  if (!selectedPath_.isEmpty() || selectedUnlabeled_) {
    const QModelIndex index =
        selectedUnlabeled_ ? tree_->unlabeledIndex() : tree_->indexOfPath(selectedPath_);
    if (index.isValid()) {
      const QSignalBlocker block(treeView_->selectionModel());
      treeView_->setCurrentIndex(index);
    }
    // The ids under the node may have changed (a merge, a new category).
    showSelection(index.data(CategoryTreeModel::kSubtreeIdsRole).value<QList<qint64>>());
  }
}

void DataPage::showSelection(const QList<qint64>& ids) {
  const Listing listing = currentListing();
  if (listing == Listing::Images) {
    const QString split = split_->currentData().toString();
    images_->setCategories(
        ids, split.isEmpty() ? std::nullopt : project::parseSplit(split.toStdString()));
    return;
  }
  project::SuggestionQuery query;
  query.minScore = minScore_->value();
  if (!selectedUnlabeled_) {
    query.categoryIds.assign(ids.begin(), ids.end());
    if (query.categoryIds.empty()) {
      query.categoryIds.push_back(-1);  // no node selected: nothing, not everything
    }
  }
  query.order = listing == Listing::SurestFirst      ? project::SuggestionQuery::Order::Score
                : listing == Listing::LeastSureFirst ? project::SuggestionQuery::Order::Margin
                                                     : project::SuggestionQuery::Order::Entropy;
  query.ascending = listing == Listing::LeastSureFirst;
  if (listing == Listing::LeastSureFirst) {
    query.maxMargin = maxMargin_;
  } else if (listing == Listing::MostUncertainFirst) {
    query.minEntropy = minEntropy_;
  }
  images_->setSuggested(query);
}

void DataPage::setListing(Listing listing, double minScore, double bound) {
  const QSignalBlocker block(minScore_);
  minScore_->setValue(minScore);
  if (bound >= 0.0 && listing == Listing::LeastSureFirst) {
    maxMargin_ = bound;
  } else if (bound >= 0.0 && listing == Listing::MostUncertainFirst) {
    minEntropy_ = bound;
  }
  const QSignalBlocker blockListing(listing_);
  listing_->setCurrentIndex(static_cast<int>(listing));
  minScore_->setEnabled(listing != Listing::Images);
  showBound();
  categorySelected();
}

// The bound follows the sort key: the margin (first score minus second) at most this, or the
// entropy of the top 5 (0: sure, ln 5 = 1.61: all five alike) at least this. Each key keeps its
// own bound.
void DataPage::showBound() {
  const Listing listing = currentListing();
  const QSignalBlocker block(bound_);
  boundAction_->setVisible(listing == Listing::LeastSureFirst ||
                           listing == Listing::MostUncertainFirst);
  if (listing == Listing::LeastSureFirst) {
    bound_->setRange(0.0, 1.0);
    bound_->setPrefix(tr("margin ≤ "));
    bound_->setToolTip(tr("Only suggestions whose first score leads the second by at most this"));
    bound_->setValue(maxMargin_);
  } else if (listing == Listing::MostUncertainFirst) {
    bound_->setRange(0.0, 1.61);
    bound_->setPrefix(tr("entropy ≥ "));
    bound_->setToolTip(
        tr("Only suggestions at least this uncertain (entropy of the top 5 scores; 0: sure)"));
    bound_->setValue(minEntropy_);
  }
}

DataPage::Listing DataPage::currentListing() const {
  return static_cast<Listing>(std::max(0, listing_->currentIndex()));
}

QList<qint64> DataPage::selectedIds() const {
  return treeView_->currentIndex().data(CategoryTreeModel::kSubtreeIdsRole).value<QList<qint64>>();
}

void DataPage::reviewSuggestions() {
  ReviewDialog review(session_, ReviewQueue::Kind::Unlabeled, this);
  review.exec();
}

void DataPage::reviewDisagreements() {
  ReviewDialog review(session_, ReviewQueue::Kind::Disagreements, this);
  review.exec();
}

void DataPage::acceptSuggestions() {
  std::vector<std::int64_t> ids;
  if (!selectedUnlabeled_) {
    for (const qint64 id : selectedIds()) {
      ids.push_back(id);
    }
  }
  AcceptDialog accept(session_, ids, ids.empty() ? QString() : currentPath(), this);
  if (accept.exec() == QDialog::Accepted) {
    showStatus(tr("Accepted the suggestions (Ctrl+Z undoes)."));
  }
}

void DataPage::showStatus(const QString& text) {
  status_->setText(text);
}

}  // namespace taxon::ui
