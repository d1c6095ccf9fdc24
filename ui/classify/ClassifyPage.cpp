#include "classify/ClassifyPage.hpp"

#include <QAction>
#include <QBuffer>
#include <QClipboard>
#include <QComboBox>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QImage>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QListView>
#include <QListWidget>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QUrl>
#include <QVBoxLayout>
#include <algorithm>

#include "checkpoint/CheckpointFiles.hpp"
#include "classify/ClassifyJob.hpp"
#include "classify/PredictionModel.hpp"
#include "classify/ScoreBarDelegate.hpp"
#include "common/Paths.hpp"
#include "common/WhyPanel.hpp"

namespace taxon::ui {

namespace {

QString hint() {
  return ClassifyPage::tr("Drop images or folders here, paste an image (Ctrl+V) or open some.");
}

QString noModel() {
  return ClassifyPage::tr("No trained model yet: train one on the Train page");
}

QStringList localFiles(const QMimeData* mime) {
  QStringList files;
  if (mime == nullptr || !mime->hasUrls()) {
    return files;
  }
  for (const QUrl& url : mime->urls()) {
    if (url.isLocalFile()) {
      files.append(url.toLocalFile());
    }
  }
  return files;
}

bool carriesImages(const QMimeData* mime) {
  return mime != nullptr && (!localFiles(mime).isEmpty() || mime->hasImage());
}

// The page answers a person waiting: the inference form in bf16 where the CPU or GPU computes it
// natively, as `taxon classify` does by default.
infer::ClassifierSettings interactiveSettings() {
  infer::ClassifierSettings settings;
  settings.precision = "auto";
  return settings;
}

}  // namespace

ClassifyPage::ClassifyPage(QWidget* parent)
    : QWidget(parent),
      job_(new ClassifyJob(interactiveSettings(), this)),
      model_(new PredictionModel(this)) {
  setAcceptDrops(true);

  open_ = new QPushButton(tr("Open images…"), this);
  open_->setObjectName(QStringLiteral("openButton"));
  auto* pasteButton = new QPushButton(tr("Paste"), this);
  pasteButton->setObjectName(QStringLiteral("pasteButton"));
  clear_ = new QPushButton(tr("Clear"), this);
  clear_->setObjectName(QStringLiteral("clearButton"));
  busy_ = new QProgressBar(this);
  busy_->setObjectName(QStringLiteral("busyIndicator"));
  busy_->setRange(0, 0);  // indeterminate
  busy_->setTextVisible(false);
  busy_->setMaximumWidth(120);
  busy_->setVisible(false);
  modelLabel_ = new QLabel(tr("No model loaded"), this);
  modelLabel_->setObjectName(QStringLiteral("modelLabel"));
  modelLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  message_ = new QLabel(hint(), this);
  message_->setObjectName(QStringLiteral("messageLabel"));
  message_->setWordWrap(true);
  message_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  list_ = new QListView(this);
  list_->setObjectName(QStringLiteral("predictionList"));
  list_->setModel(model_);
  list_->setItemDelegate(new ScoreBarDelegate(list_));
  list_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  list_->setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
  list_->setAlternatingRowColors(true);

  runs_ = new QComboBox(this);
  runs_->setObjectName(QStringLiteral("runBox"));
  runs_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  runs_->setToolTip(tr("The run whose model classifies"));
  checkpoints_ = new QComboBox(this);
  checkpoints_->setObjectName(QStringLiteral("checkpointBox"));
  checkpoints_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  checkpoints_->setToolTip(
      tr("Its newest checkpoint (followed while the run trains) or a fixed one"));

  auto* choice = new QHBoxLayout;
  choice->addWidget(new QLabel(tr("Model:"), this));
  choice->addWidget(runs_);
  choice->addWidget(checkpoints_);
  choice->addStretch(1);
  auto* bar = new QHBoxLayout;
  bar->addWidget(open_);
  bar->addWidget(pasteButton);
  bar->addWidget(clear_);
  why_ = new QPushButton(tr("Why?"), this);
  why_->setObjectName(QStringLiteral("whyButton"));
  why_->setCheckable(true);
  why_->setToolTip(
      tr("Show where the model looked in the selected image for each of its top "
         "categories (Grad-CAM)"));
  bar->addWidget(why_);
  bar->addStretch(1);
  bar->addWidget(busy_);
  bar->addWidget(modelLabel_);
  // Similar images of the selected row: thumbnails with category, split and distance.
  similarPanel_ = new QWidget(this);
  similarPanel_->setObjectName(QStringLiteral("similarPanel"));
  auto* similarTitle = new QLabel(tr("<b>Similar images in the project</b>"), similarPanel_);
  similarNote_ = new QLabel(similarPanel_);
  similarNote_->setObjectName(QStringLiteral("similarNote"));
  similarNote_->setWordWrap(true);
  similarNote_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  similar_ = new QListWidget(similarPanel_);
  similar_->setObjectName(QStringLiteral("similarList"));
  similar_->setViewMode(QListView::IconMode);
  similar_->setIconSize(QSize(ClassifyJob::kSimilarThumbnail, ClassifyJob::kSimilarThumbnail));
  similar_->setGridSize(
      QSize(ClassifyJob::kSimilarThumbnail + 48, ClassifyJob::kSimilarThumbnail + 44));
  similar_->setResizeMode(QListView::Adjust);
  similar_->setMovement(QListView::Static);
  similar_->setWordWrap(true);
  similar_->setSelectionMode(QAbstractItemView::SingleSelection);
  auto* similarLayout = new QVBoxLayout(similarPanel_);
  similarLayout->setContentsMargins(0, 0, 0, 0);
  similarLayout->addWidget(similarTitle);
  similarLayout->addWidget(similarNote_);
  similarLayout->addWidget(similar_, 1);
  similarPanel_->setVisible(false);
  whyPanel_ = new WhyPanel(tr("<b>Where the model looked</b>"), WhyPanel::kMapSide, this);
  whyPanel_->setObjectName(QStringLiteral("whyPanel"));
  whyPanel_->setVisible(false);
  auto* side = new QWidget(this);
  auto* sideLayout = new QVBoxLayout(side);
  sideLayout->setContentsMargins(0, 0, 0, 0);
  sideLayout->addWidget(whyPanel_, 1);
  sideLayout->addWidget(similarPanel_, 1);
  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(list_);
  split->addWidget(side);
  split->setStretchFactor(0, 1);
  split->setStretchFactor(1, 1);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(choice);
  layout->addLayout(bar);
  layout->addWidget(message_);
  layout->addWidget(split, 1);

  auto* pasteAction = new QAction(tr("Paste"), this);
  pasteAction->setShortcut(QKeySequence::Paste);
  pasteAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
  addAction(pasteAction);

  connect(runs_, &QComboBox::activated, this, [this](int index) {
    userChose_ = true;
    chooseRun(runs_->itemData(index).toString());
  });
  connect(checkpoints_, &QComboBox::activated, this, [this](int index) {
    const QString file = checkpoints_->itemData(index).toString();
    setCheckpointDir(file.isEmpty() ? run_ : file);
  });
  connect(open_, &QPushButton::clicked, this, &ClassifyPage::openImages);
  connect(pasteButton, &QPushButton::clicked, this, &ClassifyPage::paste);
  connect(pasteAction, &QAction::triggered, this, &ClassifyPage::paste);
  connect(clear_, &QPushButton::clicked, this, &ClassifyPage::clear);
  connect(job_, &ClassifyJob::modelLoaded, this, &ClassifyPage::onModelLoaded);
  connect(job_, &ClassifyJob::failed, this,
          [this](const QString& text) { showMessage(text, true); });
  connect(job_, &ClassifyJob::busyChanged, busy_, &QWidget::setVisible);
  connect(job_, &ClassifyJob::resultsReady, this, [this](const QList<ImageResult>& results) {
    model_->append(results);
    list_->scrollToBottom();
    Q_EMIT classified(model_->rowCount());
  });
  connect(list_->selectionModel(), &QItemSelectionModel::currentChanged, this,
          &ClassifyPage::showSimilar);
  connect(model_, &QAbstractItemModel::modelReset, this, &ClassifyPage::showSimilar);
  connect(list_->selectionModel(), &QItemSelectionModel::currentChanged, this,
          &ClassifyPage::showWhy);
  connect(model_, &QAbstractItemModel::modelReset, this, &ClassifyPage::showWhy);
  connect(why_, &QPushButton::toggled, this, &ClassifyPage::setWhyShown);
}

void ClassifyPage::setWhyShown(bool on) {
  if (why_->isChecked() != on) {
    why_->setChecked(on);  // comes back here through toggled
    return;
  }
  whyPanel_->setVisible(on);
  showWhy();
}

void ClassifyPage::showWhy() {
  if (!why_->isChecked()) {
    return;
  }
  const QModelIndex current = list_->currentIndex();
  if (!current.isValid() || current.row() >= model_->rowCount()) {
    whyPanel_->clear(tr("Select an image to see where the model looked."));
    return;
  }
  const ImageResult& result = model_->result(current.row());
  if (!result.error.isEmpty() || result.top.isEmpty()) {
    whyPanel_->clear(result.error);
    return;
  }
  QStringList categories, captions;
  for (qsizetype i = 0; i < result.top.size(); ++i) {
    categories.append(result.top[i].name);
    captions.append(tr("%1. %2\n%3")
                        .arg(i + 1)
                        .arg(result.top[i].name.section(QStringLiteral(" > "), -1))
                        .arg(result.top[i].score, 0, 'f', 3));
  }
  whyPanel_->explain(result.checkpoint, result.path, result.bytes, categories, captions, 1);
}

void ClassifyPage::setProject(const QString& project) {
  project_ = project;
  job_->setProject(project);
  similarPanel_->setVisible(!project.isEmpty());
}

QString ClassifyPage::similarNote() const {
  return similarNote_->text();
}

void ClassifyPage::showSimilar() {
  similar_->clear();
  const QModelIndex current = list_->currentIndex();
  if (!current.isValid() || current.row() >= model_->rowCount()) {
    similarNote_->setText(tr("Select an image to see the project's images most like it."));
    return;
  }
  const ImageResult& result = model_->result(current.row());
  if (!result.similarNote.isEmpty()) {
    similarNote_->setText(result.similarNote);
    return;
  }
  if (result.similar.isEmpty()) {
    similarNote_->setText(result.error.isEmpty() ? tr("None found.") : result.error);
    return;
  }
  similarNote_->setText(tr("Nearest first, by the model's features (cosine distance)."));
  for (const SimilarEntry& entry : result.similar) {
    auto* item = new QListWidgetItem(
        QIcon(QPixmap::fromImage(entry.thumbnail)),
        tr("%1\n%2 · %3")
            .arg(entry.category.isEmpty() ? tr("(unlabeled)")
                                          : entry.category.section(QStringLiteral(" > "), -1),
                 entry.split)
            .arg(entry.distance, 0, 'f', 4),
        similar_);
    item->setToolTip(tr("%1\n%2\nsplit %3, distance %4")
                         .arg(QDir::toNativeSeparators(entry.path),
                              entry.category.isEmpty() ? tr("(unlabeled)") : entry.category,
                              entry.split)
                         .arg(entry.distance, 0, 'f', 4));
    item->setData(Qt::UserRole, entry.path);
    item->setTextAlignment(Qt::AlignHCenter | Qt::AlignTop);
  }
  similar_->scrollToTop();
}

ClassifyPage::~ClassifyPage() = default;

void ClassifyPage::setCheckpointDir(const QString& dir) {
  if (dir == checkpointDir_) {
    return;
  }
  checkpointDir_ = dir;
  if (dir.isEmpty()) {
    modelLabel_->setText(tr("No model loaded"));
  } else {
    modelLabel_->setText(tr("Model: the newest checkpoint of %1").arg(QFileInfo(dir).fileName()));
  }
  modelLabel_->setToolTip(QDir::toNativeSeparators(dir));
}

QString ClassifyPage::runLabel(const QString& trainDir) {
  const QFileInfo info(trainDir);
  // `taxon demo` trains into PROJECT/train.
  QString label = info.fileName() == QStringLiteral("train") ? tr("demo (train)") : info.fileName();
  QFile summary(QDir(trainDir).filePath(QStringLiteral("eval/summary.json")));
  if (summary.open(QIODevice::ReadOnly)) {
    const QJsonObject json = QJsonDocument::fromJson(summary.readAll()).object();
    if (json.contains(QStringLiteral("precision_at_1"))) {
      label += tr(", precision@1 %1")
                   .arg(json.value(QStringLiteral("precision_at_1")).toDouble(), 0, 'f', 4);
    }
  }
  return label;
}

void ClassifyPage::setRuns(const QStringList& trainDirs, const QString& defaultRun) {
  runs_->clear();
  for (const QString& dir : trainDirs) {
    runs_->addItem(runLabel(dir), dir);
  }
  if (trainDirs.isEmpty()) {
    runs_->addItem(tr("(no run yet)"), QString());
  }
  QString keep = trainDirs.contains(run_) ? run_ : QString();
  if (keep.isEmpty()) {
    userChose_ = false;
    keep = trainDirs.contains(defaultRun) ? defaultRun : QString();
  }
  if (keep != run_ || keep.isEmpty()) {
    chooseRun(keep);
  } else {
    runs_->setCurrentIndex(std::max(0, runs_->findData(run_)));
    listCheckpoints();
  }
}

void ClassifyPage::chooseRun(const QString& trainDir, const QString& checkpoint) {
  run_ = trainDir;
  runs_->setCurrentIndex(std::max(0, runs_->findData(trainDir)));
  listCheckpoints();
  if (!checkpoint.isEmpty()) {
    checkpoints_->setCurrentIndex(std::max(0, checkpoints_->findData(checkpoint)));
  }
  setCheckpointDir(checkpoint.isEmpty() ? trainDir : checkpoint);
}

void ClassifyPage::listCheckpoints() {
  const QString current = checkpoints_->currentData().toString();
  checkpoints_->clear();
  checkpoints_->setEnabled(!run_.isEmpty());
  if (run_.isEmpty()) {
    return;
  }
  checkpoints_->addItem(tr("newest checkpoint"), QString());
  auto files = checkpoint::listCheckpoints(toPath(run_));
  std::reverse(files.begin(), files.end());  // newest first
  for (const auto& file : files) {
    checkpoints_->addItem(tr("step %L1").arg(file.step), fromPath(file.path));
  }
  checkpoints_->setCurrentIndex(std::max(0, checkpoints_->findData(current)));
}

void ClassifyPage::classifyFiles(const QStringList& files) {
  if (files.isEmpty()) {
    return;
  }
  if (checkpointDir_.isEmpty()) {
    showMessage(noModel(), true);
    return;
  }
  showMessage(hint(), false);
  job_->classifyFiles(checkpointDir_, files);
}

bool ClassifyPage::classifyMimeData(const QMimeData* mime) {
  const QStringList files = localFiles(mime);
  if (!files.isEmpty()) {
    classifyFiles(files);
    return true;
  }
  if (mime == nullptr || !mime->hasImage()) {
    return false;
  }
  const QImage image = qvariant_cast<QImage>(mime->imageData());
  if (image.isNull()) {
    showMessage(tr("The pasted image could not be read."), true);
    return true;
  }
  if (checkpointDir_.isEmpty()) {
    showMessage(noModel(), true);
    return true;
  }
  QByteArray png;
  QBuffer buffer(&png);
  buffer.open(QIODevice::WriteOnly);
  image.save(&buffer, "PNG");
  showMessage(hint(), false);
  job_->classifyBytes(checkpointDir_, png, tr("Pasted image %1").arg(++pasted_));
  return true;
}

void ClassifyPage::paste() {
  const QMimeData* mime = QGuiApplication::clipboard()->mimeData();
  if (!classifyMimeData(mime)) {
    showMessage(tr("The clipboard holds no image and no image files."), true);
  }
}

void ClassifyPage::clear() {
  job_->cancel();
  model_->clear();
  showMessage(hint(), false);
}

QString ClassifyPage::message() const {
  return message_->text();
}

QString ClassifyPage::modelText() const {
  return modelLabel_->text();
}

bool ClassifyPage::isBusy() const {
  return job_->busy();
}

void ClassifyPage::dragEnterEvent(QDragEnterEvent* event) {
  if (carriesImages(event->mimeData())) {
    event->setDropAction(Qt::CopyAction);
    event->accept();
  } else {
    event->ignore();
  }
}

void ClassifyPage::dragMoveEvent(QDragMoveEvent* event) {
  if (carriesImages(event->mimeData())) {
    event->setDropAction(Qt::CopyAction);
    event->accept();
  } else {
    event->ignore();
  }
}

void ClassifyPage::dropEvent(QDropEvent* event) {
  if (classifyMimeData(event->mimeData())) {
    event->setDropAction(Qt::CopyAction);
    event->accept();
  } else {
    event->ignore();
  }
}

void ClassifyPage::openImages() {
  const QStringList files = QFileDialog::getOpenFileNames(
      this, tr("Open images"), QString(),
      tr("Images (*.jpg *.jpeg *.png *.bmp *.webp *.tif *.tiff);;All files (*)"));
  classifyFiles(files);
}

void ClassifyPage::showMessage(const QString& text, bool error) {
  message_->setText(text);
  if (error) {
    // Red that reads on light and dark windows alike.
    message_->setStyleSheet(QStringLiteral("color: #d03030;"));
  } else {
    message_->setStyleSheet(QString());
  }
}

void ClassifyPage::onModelLoaded(const QString& checkpoint, qint64 step) {
  const QString run = run_.isEmpty() ? QFileInfo(checkpoint).dir().path() : run_;
  modelLabel_->setText(
      tr("Run %1: %2, step %3").arg(runLabel(run), QFileInfo(checkpoint).fileName()).arg(step));
  modelLabel_->setToolTip(QDir::toNativeSeparators(checkpoint));
}

}  // namespace taxon::ui
