#include "common/SimilarImagesPanel.hpp"

#include <QDir>
#include <QIcon>
#include <QLabel>
#include <QListWidget>
#include <QPixmap>
#include <QVBoxLayout>
#include <exception>

#include "common/Paths.hpp"
#include "common/Thumbnails.hpp"
#include "project/Split.hpp"
#include "similar/Embed.hpp"

namespace taxon::ui {

SimilarImagesPanel::SimilarImagesPanel(Thumbnails* thumbnails, QWidget* parent)
    : QWidget(parent), thumbnails_(thumbnails) {
  auto* title = new QLabel(tr("<b>Similar images</b>"), this);
  note_ = new QLabel(this);
  note_->setObjectName(QStringLiteral("similarNote"));
  note_->setWordWrap(true);
  note_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  list_ = new QListWidget(this);
  list_->setObjectName(QStringLiteral("similarList"));
  list_->setViewMode(QListView::IconMode);
  list_->setIconSize(QSize(64, 64));
  list_->setGridSize(QSize(104, 122));  // category, split and distance on three lines
  list_->setResizeMode(QListView::Adjust);
  list_->setMovement(QListView::Static);
  list_->setWordWrap(true);
  list_->setMinimumHeight(220);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(title);
  layout->addWidget(note_);
  layout->addWidget(list_, 1);
  connect(thumbnails_, &Thumbnails::ready, this, [this](const QString& file) {
    for (int i = 0; i < list_->count(); ++i) {
      if (list_->item(i)->data(Qt::UserRole).toString() == file) {
        list_->item(i)->setIcon(QIcon(QPixmap::fromImage(thumbnails_->thumbnail(file))));
      }
    }
  });
}

SimilarImagesPanel::~SimilarImagesPanel() = default;

void SimilarImagesPanel::setProject(const QString& projectDir) {
  if (projectDir != project_) {
    project_ = projectDir;
    finder_.reset();
    finderStore_.clear();
    showFor({});
  }
}

QString SimilarImagesPanel::note() const {
  return note_->text();
}

void SimilarImagesPanel::showFor(const QString& file) {
  list_->clear();
  if (file.isEmpty() || project_.isEmpty()) {
    note_->clear();
    return;
  }
  const auto project = toPath(project_);
  const auto store = similar::newestStore(project);
  if (!store) {
    note_->setText(tr("No embeddings yet: run taxon embed %1 --checkpoint_dir RUN")
                       .arg(QDir::toNativeSeparators(project_)));
    return;
  }
  try {
    if (!finder_ || finderStore_ != fromPath(*store)) {
      finder_.reset();
      finder_ = std::make_unique<similar::NeighbourFinder>(project, *store);
      finderStore_ = fromPath(*store);
    }
    const QString storeName = QString::fromStdString(store->filename().string());
    const auto features = finder_->storedFeatures(toPath(file));
    if (!features) {
      note_->setText(
          tr("This image has no vector in %1 yet: run taxon embed again").arg(storeName));
      return;
    }
    for (const auto& n : finder_->nearest(*features, kNeighbours, toPath(file))) {
      const QString path = fromPath(n.path);
      const QString category = QString::fromStdString(n.category);
      auto* item = new QListWidgetItem(
          tr("%1\n%2\n%3")
              .arg(category.isEmpty() ? tr("(unlabeled)")
                                      : category.section(QStringLiteral(" > "), -1),
                   QString::fromUtf8(project::splitName(n.split).data()))
              .arg(static_cast<double>(n.distance), 0, 'f', 4),
          list_);
      item->setData(Qt::UserRole, path);
      item->setToolTip(tr("%1\n%2").arg(QDir::toNativeSeparators(path),
                                        category.isEmpty() ? tr("(unlabeled)") : category));
      const QImage thumbnail = thumbnails_->thumbnail(path);
      if (!thumbnail.isNull()) {
        item->setIcon(QIcon(QPixmap::fromImage(thumbnail)));
      }
    }
    list_->scrollToTop();
    note_->setText(tr("Nearest first (cosine distance), from %1").arg(storeName));
  } catch (const std::exception& e) {
    finder_.reset();
    finderStore_.clear();
    note_->setText(QString::fromStdString(e.what()));
  }
}

}  // namespace taxon::ui
