#include "inspect/InspectPage.hpp"

#include <QAction>
#include <QComboBox>
#include <QCompleter>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QListWidget>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QThreadPool>
#include <QToolButton>
#include <QVBoxLayout>
#include <algorithm>
#include <exception>

#include "checkpoint/CheckpointFiles.hpp"
#include "common/CategoryPickerDialog.hpp"
#include "common/Paths.hpp"
#include "common/ProjectSession.hpp"
#include "common/SimilarImagesPanel.hpp"
#include "common/Thumbnails.hpp"
#include "common/WhyPanel.hpp"
#include "eval/ReportReader.hpp"
#include "inspect/CategoryMetricsModel.hpp"
#include "inspect/ConfusedPairsModel.hpp"
#include "inspect/ConfusionHeatMap.hpp"
#include "inspect/ConfusionModel.hpp"
#include "inspect/DuplicatesPanel.hpp"
#include "inspect/ExampleListModel.hpp"
#include "inspect/MislabeledModel.hpp"

namespace taxon::ui {
namespace {

QTableView* makeTable(QAbstractItemModel* model, QWidget* parent) {
  auto* view = new QTableView(parent);
  view->setModel(model);
  view->setSelectionBehavior(QAbstractItemView::SelectRows);
  view->setEditTriggers(QAbstractItemView::NoEditTriggers);
  view->setAlternatingRowColors(true);
  view->setWordWrap(false);
  view->verticalHeader()->hide();
  view->verticalHeader()->setDefaultSectionSize(view->fontMetrics().height() + 6);
  view->horizontalHeader()->setStretchLastSection(false);
  view->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
  return view;
}

QAction* makeRelabelAction(QWidget* view, QObject* parent) {
  auto* action = new QAction(QObject::tr("Relabel…"), parent);
  action->setShortcut(QKeySequence(Qt::Key_M));
  action->setShortcutContext(Qt::WidgetWithChildrenShortcut);
  action->setToolTip(QObject::tr("Give the selected images another category (M)"));
  view->addAction(action);
  view->setContextMenuPolicy(Qt::ActionsContextMenu);
  return action;
}

}  // namespace

InspectPage::InspectPage(ProjectSession* session, QWidget* parent)
    : QWidget(parent), session_(session) {
  confusion_ = new ConfusionModel(this);
  pairs_ = new ConfusedPairsModel(this);
  categories_ = new CategoryMetricsModel(this);
  categoriesProxy_ = new QSortFilterProxyModel(this);
  categoriesProxy_->setSourceModel(categories_);
  categoriesProxy_->setSortRole(Qt::UserRole);
  categoriesProxy_->setSortCaseSensitivity(Qt::CaseInsensitive);
  mislabeled_ = new MislabeledModel(this);
  thumbnails_ = new Thumbnails(Thumbnails::Options{}, this);  // 96 px, 32 MB, 2 threads
  examples_ = new ExampleListModel(thumbnails_, this);
  reader_ = std::make_unique<QThreadPool>();
  reader_->setMaxThreadCount(1);
  buildUi();

  if (session_ != nullptr) {
    const auto projectChanged = [this] {
      idCache_.clear();
      refreshRows();
      similar_->setProject(session_->isOpen() ? session_->projectDir() : QString());
    };
    connect(session_, &ProjectSession::opened, this, projectChanged);
    connect(session_, &ProjectSession::closed, this, projectChanged);
    if (session_->isOpen()) {
      similar_->setProject(session_->projectDir());
    }
  }
  updateActions();
}

InspectPage::~InspectPage() {
  // A report still being read: wait for it here, while the page is whole (its result is queued
  // to the page and dropped with it).
  reader_->clear();
  reader_->waitForDone();
}

void InspectPage::buildUi() {
  summary_ = new QLabel(tr("No evaluation report loaded."), this);
  summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  summary_->setWordWrap(true);
  error_ = new QLabel(this);
  error_->setWordWrap(true);
  error_->setStyleSheet(QStringLiteral("color: #b00020;"));
  error_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  error_->hide();

  level_ = new QComboBox(this);
  level_->setToolTip(tr("Merge categories to the first levels of their path"));
  subtree_ = new QComboBox(this);
  subtree_->setEditable(true);
  subtree_->setInsertPolicy(QComboBox::NoInsert);
  subtree_->setMinimumContentsLength(24);
  subtree_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  subtree_->lineEdit()->setPlaceholderText(tr("All categories"));
  subtree_->lineEdit()->setClearButtonEnabled(true);
  subtree_->completer()->setFilterMode(Qt::MatchContains);
  subtree_->completer()->setCaseSensitivity(Qt::CaseInsensitive);
  subtree_->completer()->setCompletionMode(QCompleter::PopupCompletion);
  subtree_->setToolTip(tr("Show only the categories under this path"));
  sort_ = new QComboBox(this);
  sort_->addItem(tr("Name"), static_cast<int>(ConfusionModel::SortOrder::ByName));
  sort_->addItem(tr("Support"), static_cast<int>(ConfusionModel::SortOrder::BySupport));
  sort_->addItem(tr("Errors"), static_cast<int>(ConfusionModel::SortOrder::ByErrors));
  auto* fit = new QPushButton(tr("Fit"), this);
  fit->setToolTip(tr("Show the whole matrix (wheel: zoom, drag: pan)"));

  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel(tr("Level:"), this));
  controls->addWidget(level_);
  controls->addSpacing(12);
  controls->addWidget(new QLabel(tr("Subtree:"), this));
  controls->addWidget(subtree_, 1);
  controls->addSpacing(12);
  controls->addWidget(new QLabel(tr("Sort by:"), this));
  controls->addWidget(sort_);
  controls->addWidget(fit);

  heatMap_ = new ConfusionHeatMap(this);
  heatMap_->setModel(confusion_);

  tabs_ = new QTabWidget(this);
  pairsView_ = makeTable(pairs_, this);
  pairsView_->setSelectionMode(QAbstractItemView::SingleSelection);
  tabs_->addTab(pairsView_, tr("Confused pairs"));
  categoriesView_ = makeTable(categoriesProxy_, this);
  categoriesView_->setSortingEnabled(true);
  categoriesView_->sortByColumn(CategoryMetricsModel::NameColumn, Qt::AscendingOrder);
  tabs_->addTab(categoriesView_, tr("Categories"));
  auto* mislabeledPane = new QWidget(this);
  mislabeledView_ = makeTable(mislabeled_, mislabeledPane);
  mislabeledView_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  relabelMislabeled_ = makeRelabelAction(mislabeledView_, this);
  auto* mislabeledButton = new QToolButton(mislabeledPane);
  mislabeledButton->setDefaultAction(relabelMislabeled_);
  auto* mislabeledLayout = new QVBoxLayout(mislabeledPane);
  mislabeledLayout->setContentsMargins(0, 0, 0, 0);
  mislabeledLayout->addWidget(mislabeledView_);
  mislabeledLayout->addWidget(mislabeledButton, 0, Qt::AlignRight);
  tabs_->addTab(mislabeledPane, tr("Likely mislabeled"));
  duplicates_ = new DuplicatesPanel(session_, thumbnails_, this);
  tabs_->addTab(duplicates_, tr("Duplicates"));
  connect(duplicates_, &DuplicatesPanel::unresolvedChanged, this, [this](int groups) {
    tabs_->setTabText(tabs_->indexOf(duplicates_),
                      groups > 0 ? tr("Duplicates (%1)").arg(groups) : tr("Duplicates"));
  });

  QWidget* examplesPane = buildExamplesPane();

  auto* right = new QSplitter(Qt::Vertical, this);
  right->addWidget(tabs_);
  right->addWidget(examplesPane);
  right->setStretchFactor(0, 1);
  right->setStretchFactor(1, 1);
  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(heatMap_);
  split->addWidget(right);
  split->setStretchFactor(0, 1);
  split->setStretchFactor(1, 1);

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(summary_);
  layout->addWidget(error_);
  layout->addLayout(controls);
  layout->addWidget(split, 1);

  connect(level_, &QComboBox::activated, this, &InspectPage::applyLevel);
  connect(subtree_, &QComboBox::activated, this, &InspectPage::applySubtree);
  connect(subtree_->lineEdit(), &QLineEdit::editingFinished, this, &InspectPage::applySubtree);
  connect(sort_, &QComboBox::activated, this, &InspectPage::applySort);
  connect(fit, &QPushButton::clicked, heatMap_, &ConfusionHeatMap::fitToView);
  connect(heatMap_, &ConfusionHeatMap::cellActivated, this, &InspectPage::showCell);
  connect(pairsView_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          [this](const QModelIndex& current) {
            if (current.isValid()) {
              showPair(current.row());
            }
          });
  connect(examplesView_->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
    activeList_ = ListKind::Examples;
    updateActions();
  });
  connect(mislabeledView_->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
    activeList_ = ListKind::Mislabeled;
    updateActions();
  });
  connect(relabelExamples_, &QAction::triggered, this,
          [this] { pickAndRelabel(ListKind::Examples); });
  connect(relabelMislabeled_, &QAction::triggered, this,
          [this] { pickAndRelabel(ListKind::Mislabeled); });
}

QWidget* InspectPage::buildExamplesPane() {
  auto* examplesPane = new QWidget(this);
  examplesTitle_ =
      new QLabel(tr("Click a cell of the matrix or a pair to see its images."), examplesPane);
  examplesTitle_->setWordWrap(true);
  examplesView_ = new QListView(examplesPane);
  examplesView_->setModel(examples_);
  examplesView_->setViewMode(QListView::IconMode);
  examplesView_->setIconSize(thumbnails_->size());
  examplesView_->setGridSize(QSize(thumbnails_->size().width() + 44,
                                   thumbnails_->size().height() + 3 * fontMetrics().height() + 12));
  examplesView_->setUniformItemSizes(true);
  examplesView_->setMovement(QListView::Static);
  examplesView_->setResizeMode(QListView::Adjust);
  examplesView_->setWordWrap(true);
  examplesView_->setLayoutMode(QListView::Batched);
  examplesView_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  relabelExamples_ = makeRelabelAction(examplesView_, this);
  auto* examplesButton = new QToolButton(examplesPane);
  examplesButton->setDefaultAction(relabelExamples_);
  status_ = new QLabel(examplesPane);
  status_->setWordWrap(true);
  auto* examplesFooter = new QHBoxLayout;
  examplesFooter->addWidget(status_, 1);
  examplesFooter->addWidget(examplesButton);
  // The current example's similar images of the project (after `taxon embed`).
  similar_ = new SimilarImagesPanel(thumbnails_, examplesPane);
  // Where the model looked in the current example, for its label and for its prediction.
  why_ =
      new WhyPanel(tr("<b>Why: the label's and the prediction's evidence</b>"), 84, examplesPane);
  why_->setObjectName(QStringLiteral("whyPanel"));
  why_->list()->setWrapping(false);  // the picture, the label's map, the prediction's: one row
  why_->clear(tr("Select an example to see where the model looked."));
  auto* whyAndSimilar = new QSplitter(Qt::Vertical, examplesPane);
  whyAndSimilar->addWidget(why_);
  whyAndSimilar->addWidget(similar_);
  whyAndSimilar->setStretchFactor(0, 3);
  whyAndSimilar->setStretchFactor(1, 2);
  auto* examplesAndSimilar = new QHBoxLayout;
  examplesAndSimilar->addWidget(examplesView_, 1);
  examplesAndSimilar->addWidget(whyAndSimilar, 1);
  auto* examplesLayout = new QVBoxLayout(examplesPane);
  examplesLayout->setContentsMargins(0, 0, 0, 0);
  examplesLayout->addWidget(examplesTitle_);
  examplesLayout->addLayout(examplesAndSimilar, 1);
  examplesLayout->addLayout(examplesFooter);
  connect(examplesView_->selectionModel(), &QItemSelectionModel::currentChanged, this,
          [this](const QModelIndex& current) {
            similar_->showFor(current.isValid() ? examples_->row(current.row()).file : QString());
            showWhy();
          });
  return examplesPane;
}

namespace {

// The checkpoint a report was computed with: RUN/model.ckpt-STEP.taxon beside RUN/eval when
// summary.json names its step and the file is still there, else RUN itself (its newest); empty
// when RUN holds no checkpoint.
QString reportCheckpoint(const QString& evalDir) {
  const QDir run = QFileInfo(evalDir).dir();
  QFile summary(QDir(evalDir).filePath(QStringLiteral("summary.json")));
  if (summary.open(QIODevice::ReadOnly)) {
    const auto json = QJsonDocument::fromJson(summary.readAll()).object();
    if (json.contains(QStringLiteral("step"))) {
      const QString file = run.filePath(QString::fromStdString(checkpoint::checkpointFileName(
          static_cast<std::int64_t>(json.value(QStringLiteral("step")).toDouble()))));
      if (QFileInfo(file).isFile()) {
        return file;
      }
    }
  }
  return checkpoint::newestCheckpoint(toPath(run.absolutePath())) ? run.absolutePath() : QString();
}

QString reportError(const std::exception& e) {
  return QObject::tr("Cannot show the evaluation report: %1").arg(QString::fromUtf8(e.what()));
}

}  // namespace

bool InspectPage::loadReport(const QString& evalDir, QString* error) {
  ++request_;  // a report still being read by openReport is no longer wanted
  std::shared_ptr<const eval::MetricsReport> report;
  try {
    report = std::make_shared<const eval::MetricsReport>(
        eval::readReport(std::filesystem::path(evalDir.toStdU16String())));
  } catch (const std::exception& e) {
    const QString text = reportError(e);
    if (error != nullptr) {
      *error = text;
    }
    showError(text);
    return false;
  }
  applyReport(std::move(report), evalDir);
  return true;
}

void InspectPage::openReport(const QString& evalDir) {
  const quint64 request = ++request_;
  summary_->setText(
      tr("Reading the report <b>%1</b>…").arg(QFileInfo(evalDir).fileName().toHtmlEscaped()));
  reader_->start([this, request, evalDir] {
    std::shared_ptr<const eval::MetricsReport> report;
    QString error;
    try {
      report = std::make_shared<const eval::MetricsReport>(
          eval::readReport(std::filesystem::path(evalDir.toStdU16String())));
    } catch (const std::exception& e) {
      error = reportError(e);
    }
    // The destructor waits for this task, so the page is alive here; the queued call is
    // dropped if the page goes before the event loop delivers it.
    QMetaObject::invokeMethod(
        this,
        [this, request, evalDir, report = std::move(report), error]() mutable {
          if (request != request_) {
            return;  // another report was asked for since
          }
          if (report == nullptr) {
            showSummary();
            showError(error);
            Q_EMIT reportFailed(evalDir, error);
            return;
          }
          applyReport(std::move(report), evalDir);
        },
        Qt::QueuedConnection);
  });
}

bool InspectPage::isReading() const {
  return reader_->activeThreadCount() > 0;
}

void InspectPage::applyReport(std::shared_ptr<const eval::MetricsReport> report,
                              const QString& evalDir) {
  report_ = std::move(report);
  reportDir_ = QFileInfo(evalDir).absoluteFilePath();
  duplicates_->load(reportDir_);
  error_->hide();
  error_->clear();
  showReport();
  Q_EMIT reportLoaded(reportDir_);
}

void InspectPage::showWhy() {
  const QModelIndex current = examplesView_->currentIndex();
  if (!current.isValid() || current.row() >= examples_->rowCount()) {
    why_->clear(tr("Select an example to see where the model looked."));
    return;
  }
  const ExampleRow& row = examples_->row(current.row());
  if (row.file.isEmpty()) {
    why_->clear(tr("This example's image file is not known (not in the open project)."));
    return;
  }
  const QString checkpoint = reportCheckpoint(reportDir_);
  if (checkpoint.isEmpty()) {
    why_->clear(tr("No checkpoint beside this report (%1) to explain it with.")
                    .arg(QDir::toNativeSeparators(QFileInfo(reportDir_).path())));
    return;
  }
  QStringList categories{row.labelName};
  QStringList captions{tr("label: %1\n%2")
                           .arg(row.labelName.section(QStringLiteral(" > "), -1))
                           .arg(row.labelProbability, 0, 'f', 3)};
  if (row.predictedName != row.labelName) {
    categories.append(row.predictedName);
    captions.append(tr("predicted: %1\n%2")
                        .arg(row.predictedName.section(QStringLiteral(" > "), -1))
                        .arg(row.predictedProbability, 0, 'f', 3));
  }
  why_->explain(checkpoint, row.file, {}, categories, captions,
                static_cast<int>(categories.size()));
}

void InspectPage::showError(const QString& text) {
  error_->setText(text);
  error_->show();
}

QString InspectPage::errorText() const {
  return error_->isHidden() ? QString() : error_->text();
}

void InspectPage::showSummary() {
  if (report_ == nullptr) {
    summary_->setText(tr("No evaluation report loaded."));
    summary_->setToolTip({});
    return;
  }
  const auto& r = *report_;
  QStringList parts;
  parts << tr("%1 images, %2 categories").arg(r.examples).arg(r.categoryNames.size());
  parts << tr("precision@1 %1").arg(r.precisionAt1, 0, 'f', 4);
  parts << tr("recall@%1 %2").arg(r.topK).arg(r.recallAtK, 0, 'f', 4);
  for (const auto& level : r.levels) {
    parts << tr("level %1 accuracy %2").arg(level.level).arg(level.accuracy, 0, 'f', 4);
  }
  parts << tr("mean loss %1").arg(r.meanLoss, 0, 'f', 4);
  summary_->setText(QStringLiteral("<b>%1</b> — %2")
                        .arg(QFileInfo(reportDir_).fileName().toHtmlEscaped(),
                             parts.join(QStringLiteral(" · ")).toHtmlEscaped()));
  summary_->setToolTip(reportDir_);
}

void InspectPage::showReport() {
  const auto& r = *report_;
  showSummary();
  confusion_->setReport(report_);
  pairs_->setReport(report_);
  categories_->setReport(report_);
  updateLevelChoices();
  subtree_->clear();
  subtree_->addItem(QString());
  subtree_->addItems(confusion_->subtreeChoices());
  subtree_->setCurrentIndex(0);
  confusion_->setSortOrder(static_cast<ConfusionModel::SortOrder>(sort_->currentData().toInt()));

  shown_.clear();
  shownTitle_ = r.predictions.empty() && r.examples > 0
                    ? tr("This report has no per-image predictions (predictions.csv); evaluate "
                         "again to see the images behind a cell.")
                    : tr("Click a cell of the matrix or a pair to see its images.");
  refreshRows();
  pairsView_->resizeColumnsToContents();
  categoriesView_->resizeColumnsToContents();
  mislabeledView_->resizeColumnsToContents();
}

void InspectPage::updateLevelChoices() {
  level_->clear();
  for (int level = 1; level < confusion_->maxLevel(); ++level) {
    level_->addItem(tr("Level %1").arg(level), level);
  }
  level_->addItem(tr("All"), 0);
  level_->setCurrentIndex(level_->count() - 1);
}

void InspectPage::applyLevel() {
  confusion_->setLevel(level_->currentData().toInt());
}

void InspectPage::applySubtree() {
  const QString text = subtree_->currentText().trimmed();
  confusion_->setSubtree(text);
  if (!text.isEmpty() && confusion_->classCount() == 0) {
    status_->setText(tr("No category lies under \"%1\".").arg(text));
  }
}

void InspectPage::applySort() {
  confusion_->setSortOrder(static_cast<ConfusionModel::SortOrder>(sort_->currentData().toInt()));
}

QString InspectPage::className(std::int64_t id) const {
  const auto index = static_cast<std::size_t>(id);
  return report_ && id >= 0 && index < report_->categoryNames.size()
             ? QString::fromStdString(report_->categoryNames[index])
             : QString();
}

std::optional<std::int64_t> InspectPage::imageIdForKey(const QString& key) {
  if (session_ == nullptr || !session_->isOpen() || key.isEmpty()) {
    return std::nullopt;
  }
  const auto it = idCache_.constFind(key);
  if (it != idCache_.constEnd()) {
    return *it;
  }
  const auto id = session_->imageIdForKey(key);
  idCache_.insert(key, id);
  return id;
}

ExampleRow InspectPage::makeRow(const QString& key, std::int64_t label, std::int64_t predicted,
                                double labelProbability, double predictedProbability) {
  ExampleRow row;
  row.key = key;
  row.labelName = className(label);
  row.predictedName = className(predicted);
  row.labelProbability = labelProbability;
  row.predictedProbability = predictedProbability;
  row.imageId = imageIdForKey(key);
  if (row.imageId) {
    row.file = session_->imageFile(*row.imageId);
  } else if (!key.isEmpty()) {
    // Not in the open project: still show the picture when the key is a readable file.
    const QFileInfo info(QFileInfo(key).isAbsolute() || session_ == nullptr || !session_->isOpen()
                             ? key
                             : QDir(session_->projectDir()).filePath(key));
    row.file = info.isFile() ? info.absoluteFilePath() : QString();
  }
  return row;
}

void InspectPage::refreshRows() {
  std::vector<ExampleRow> mislabeledRows;
  if (report_) {
    for (const auto& m : report_->mislabeled) {
      mislabeledRows.push_back(makeRow(QString::fromStdString(m.key), m.label, m.predicted,
                                       m.labelProbability, m.predictedProbability));
    }
  }
  mislabeled_->setRows(std::move(mislabeledRows));
  setExamples(shown_, shownTitle_);
}

void InspectPage::setExamples(std::vector<std::size_t> predictionIndices, const QString& title) {
  shown_ = std::move(predictionIndices);
  shownTitle_ = title;
  std::vector<ExampleRow> rows;
  rows.reserve(shown_.size());
  for (const auto i : shown_) {
    const auto& p = report_->predictions[i];
    rows.push_back(makeRow(QString::fromStdString(p.key), p.label, p.predicted, p.labelProbability,
                           p.predictedProbability));
  }
  examples_->setRows(std::move(rows));
  examplesTitle_->setText(title);
  updateActions();
}

void InspectPage::showCell(int actualClass, int predictedClass) {
  if (!report_ || actualClass < 0 || predictedClass < 0 ||
      actualClass >= confusion_->classCount() || predictedClass >= confusion_->classCount()) {
    return;
  }
  heatMap_->setSelectedCell(actualClass, predictedClass);
  std::vector<std::size_t> indices = confusion_->cellPredictions(actualClass, predictedClass);
  const QString title =
      report_->predictions.empty()
          ? shownTitle_
          : tr("%1 predicted as %2: %n image(s)", "", static_cast<int>(indices.size()))
                .arg(confusion_->className(actualClass), confusion_->className(predictedClass));
  setExamples(std::move(indices), title);
}

void InspectPage::showPair(int row) {
  if (!report_ || row < 0 || row >= pairs_->rowCount()) {
    return;
  }
  const auto& pair = pairs_->pair(row);
  const int a = confusion_->indexOfLeaf(static_cast<int>(pair.a));
  const int b = confusion_->indexOfLeaf(static_cast<int>(pair.b));
  if (a >= 0 && b >= 0) {
    heatMap_->setSelectedCell(a, b);
  }
  std::vector<std::size_t> indices = confusion_->pairPredictions(pair.a, pair.b);
  const QString title =
      report_->predictions.empty()
          ? shownTitle_
          : tr("%1 and %2 taken for each other: %n image(s)", "", static_cast<int>(indices.size()))
                .arg(className(pair.a), className(pair.b));
  setExamples(std::move(indices), title);
}

QAbstractItemView* InspectPage::examplesView() {
  return examplesView_;
}

QAbstractItemView* InspectPage::mislabeledView() {
  return mislabeledView_;
}

QAbstractItemView* InspectPage::pairsView() {
  return pairsView_;
}

QString InspectPage::examplesTitle() const {
  return examplesTitle_->text();
}

std::vector<std::int64_t> InspectPage::selectedImageIds(ListKind list) const {
  const QAbstractItemView* view = list == ListKind::Examples
                                      ? static_cast<QAbstractItemView*>(examplesView_)
                                      : static_cast<QAbstractItemView*>(mislabeledView_);
  std::vector<std::int64_t> ids;
  for (const QModelIndex& index : view->selectionModel()->selectedRows()) {
    const QVariant id = index.data(ExampleListModel::ImageIdRole);
    if (id.isValid()) {
      ids.push_back(id.toLongLong());
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

void InspectPage::updateActions() {
  const bool open = session_ != nullptr && session_->isOpen();
  relabelExamples_->setEnabled(open && !selectedImageIds(ListKind::Examples).empty());
  relabelMislabeled_->setEnabled(open && !selectedImageIds(ListKind::Mislabeled).empty());
  if (!open && report_) {
    relabelExamples_->setToolTip(tr("Open the project these images belong to to relabel them"));
  }
}

void InspectPage::pickAndRelabel(ListKind list) {
  activeList_ = list;
  const auto ids = selectedImageIds(list);
  if (session_ == nullptr || ids.empty()) {
    status_->setText(tr("None of the selected images is in the open project."));
    return;
  }
  const auto path = CategoryPickerDialog::pick(
      this, session_->categoryPaths(), tr("Relabel %n image(s)", "", static_cast<int>(ids.size())),
      /*allowNew=*/true);
  if (path) {
    relabelSelected(*path);
  }
}

bool InspectPage::relabelSelected(const QString& categoryPath, QString* error) {
  const auto ids = selectedImageIds(activeList_);
  QString message;
  bool ok = false;
  if (session_ == nullptr || !session_->isOpen()) {
    message = tr("No project is open, so no image can be relabelled.");
  } else if (ids.empty()) {
    message = tr("None of the selected images is in the open project.");
  } else if (session_->relabel(ids, categoryPath, &message)) {
    ok = true;
    message = tr("Moved %n image(s) to %1 (Undo puts them back).", "", static_cast<int>(ids.size()))
                  .arg(categoryPath);
  }
  status_->setText(message);
  if (!ok && error != nullptr) {
    *error = message;
  }
  return ok;
}

}  // namespace taxon::ui
