#include "labeling/ImageGridModel.hpp"

#include <QFileInfo>
#include <QIcon>
#include <QMimeData>
#include <QPixmap>

#include "common/Paths.hpp"
#include "common/ProjectSession.hpp"
#include "common/Thumbnails.hpp"
#include "labeling/CategoryTreeModel.hpp"

namespace taxon::ui {

ImageGridModel::ImageGridModel(ProjectSession* session, Thumbnails* thumbnails, QObject* parent)
    : QAbstractListModel(parent), session_(session), thumbnails_(thumbnails) {
  connect(thumbnails_, &Thumbnails::ready, this, &ImageGridModel::thumbnailReady);
  connect(thumbnails_, &Thumbnails::failed, this, &ImageGridModel::thumbnailReady);
  connect(session_, &ProjectSession::closed, this, [this] { setCategories({}); });
  const int side = thumbnails_->size().width();
  placeholder_ = QPixmap(side, side);
  placeholder_.fill(Qt::transparent);
  unreadable_ = QIcon::fromTheme(QStringLiteral("image-missing")).pixmap(side / 2);
  if (unreadable_.isNull()) {
    unreadable_ = placeholder_;
  }
}

void ImageGridModel::setCategories(const QList<qint64>& categoryIds,
                                   std::optional<project::Split> split) {
  categoryIds_ = categoryIds;
  split_ = split;
  suggested_.reset();
  refresh();
}

void ImageGridModel::setSuggested(const project::SuggestionQuery& query) {
  suggested_ = query;
  suggested_->limit = -1;
  suggested_->offset = 0;
  refresh();
}

void ImageGridModel::refresh() {
  beginResetModel();
  segments_.clear();
  rows_.clear();
  rowOfFile_.clear();
  categoryNames_.clear();
  suggestionText_.clear();
  total_ = 0;
  if (auto* catalog = session_->catalog()) {
    for (const auto& category : catalog->categories()) {
      categoryNames_.insert(category.id, QString::fromStdString(category.path));
    }
    if (suggested_) {
      total_ = catalog->suggestionCount(*suggested_);
      segments_.push_back({0, total_, 0});
    }
    for (const qint64 id : suggested_ ? QList<qint64>() : categoryIds_) {
      const std::int64_t count = catalog->imageCount(id, split_);
      if (count > 0) {
        segments_.push_back({id, count, 0});
        total_ += count;
      }
    }
  }
  endResetModel();
}

std::vector<std::int64_t> ImageGridModel::imageIds(const QModelIndexList& indexes) const {
  std::vector<std::int64_t> ids;
  for (const QModelIndex& index : indexes) {
    if (index.isValid() && index.row() < static_cast<int>(rows_.size())) {
      ids.push_back(rows_[static_cast<std::size_t>(index.row())].id);
    }
  }
  return ids;
}

int ImageGridModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

QVariant ImageGridModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= static_cast<int>(rows_.size())) {
    return {};
  }
  const project::ImageRecord& image = rows_[static_cast<std::size_t>(index.row())];
  switch (role) {
    case Qt::DisplayRole: {
      const QString name = QFileInfo(QString::fromStdString(image.path)).fileName();
      const QString suggestion = suggestionText_.value(image.id);
      return suggestion.isEmpty() ? name : name + QLatin1Char('\n') + suggestion;
    }
    case kSuggestionRole:
      return suggestionText_.value(image.id);
    case Qt::DecorationRole: {
      const QString file = data(index, kFileRole).toString();
      const QImage thumbnail = thumbnails_->thumbnail(file, QString::fromStdString(image.hash));
      if (thumbnail.isNull()) {
        // A placeholder of the thumbnail's size keeps the grid's cells from jumping.
        return thumbnails_->unreadable(file) ? unreadable_ : placeholder_;
      }
      return QPixmap::fromImage(thumbnail);
    }
    case Qt::ToolTipRole:
      return QStringLiteral("%1\n%2").arg(QString::fromStdString(image.path),
                                          data(index, kDetailsRole).toString());
    case kImageIdRole:
      return QVariant::fromValue<qint64>(image.id);
    case kFileRole:
      return session_->catalog() == nullptr ? QString()
                                            : fromPath(session_->catalog()->resolve(image.path));
    case kCategoryRole:
      return categoryNames_.value(image.categoryId);
    case kSplitRole:
      return QString::fromLatin1(project::splitName(image.split).data(),
                                 static_cast<int>(project::splitName(image.split).size()));
    case kDetailsRole:
      return tr("%1 x %2 %3, %4 KiB, %5 split; from %6")
          .arg(image.width)
          .arg(image.height)
          .arg(QString::fromStdString(image.format))
          .arg(static_cast<double>(image.bytes) / 1024.0, 0, 'f', 1)
          .arg(data(index, kSplitRole).toString(), QString::fromStdString(image.source));
    default:
      return {};
  }
}

Qt::ItemFlags ImageGridModel::flags(const QModelIndex& index) const {
  if (!index.isValid()) {
    return Qt::NoItemFlags;
  }
  return Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsDragEnabled |
         Qt::ItemNeverHasChildren;
}

bool ImageGridModel::canFetchMore(const QModelIndex& parent) const {
  return !parent.isValid() && static_cast<std::int64_t>(rows_.size()) < total_;
}

void ImageGridModel::fetchMore(const QModelIndex& parent) {
  auto* catalog = session_->catalog();
  if (parent.isValid() || catalog == nullptr) {
    return;
  }
  for (auto& segment : segments_) {
    if (segment.fetched >= segment.count) {
      continue;
    }
    std::vector<project::ImageRecord> page;
    if (suggested_) {
      auto query = *suggested_;
      query.limit = kPageSize;
      query.offset = segment.fetched;
      for (const auto& suggestion : catalog->suggestions(query)) {
        if (auto image = catalog->image(suggestion.imageId)) {
          page.push_back(std::move(*image));
        }
      }
    } else {
      page = catalog->images(segment.categoryId, split_, kPageSize, segment.fetched);
    }
    if (page.empty()) {  // the catalog changed under us; stop here until the next refresh
      total_ = static_cast<std::int64_t>(rows_.size());
      return;
    }
    segment.fetched += static_cast<std::int64_t>(page.size());
    addRows(std::move(page));
    return;
  }
}

void ImageGridModel::addRows(std::vector<project::ImageRecord> page) {
  auto* catalog = session_->catalog();
  const int first = static_cast<int>(rows_.size());
  beginInsertRows({}, first, first + static_cast<int>(page.size()) - 1);
  for (auto& image : page) {
    // One indexed lookup per row (a page of 256 takes about a millisecond).
    if (const auto suggestion = catalog->suggestion(image.id);
        suggestion && !suggestion->top.empty()) {
      suggestionText_.insert(
          image.id, QStringLiteral("%1 %2")
                        .arg(categoryNames_.value(suggestion->categoryId(), tr("(deleted)")))
                        .arg(suggestion->score(), 0, 'f', 2));
    }
    rowOfFile_.insert(fromPath(catalog->resolve(image.path)), static_cast<int>(rows_.size()));
    rows_.push_back(std::move(image));
  }
  endInsertRows();
}

QStringList ImageGridModel::mimeTypes() const {
  return {QString::fromLatin1(kImageIdsMime)};
}

QMimeData* ImageGridModel::mimeData(const QModelIndexList& indexes) const {
  QByteArray text;
  for (const std::int64_t id : imageIds(indexes)) {
    text += QByteArray::number(static_cast<qlonglong>(id)) + '\n';
  }
  auto* mime = new QMimeData;
  mime->setData(QString::fromLatin1(kImageIdsMime), text);
  return mime;
}

Qt::DropActions ImageGridModel::supportedDragActions() const {
  return Qt::MoveAction;
}

void ImageGridModel::thumbnailReady(const QString& file) {
  const auto row = rowOfFile_.constFind(file);
  if (row != rowOfFile_.constEnd()) {
    const QModelIndex changed = index(*row);
    Q_EMIT dataChanged(changed, changed, {Qt::DecorationRole});
  }
}

}  // namespace taxon::ui
