#include "labeling/ThumbnailCache.hpp"

#include <QDir>
#include <QFileInfo>
#include <QImageReader>
#include <QMetaObject>
#include <QPointer>
#include <QSaveFile>
#include <algorithm>

namespace taxon::ui {

ThumbnailCache::ThumbnailCache(int side, QObject* parent) : QObject(parent), side_(side) {
  memory_.setMaxCost(4000);  // thumbnails, about 64 KiB each at 128 px
  // Leave a core for the GUI thread (and the trainer when one runs).
  pool_.setMaxThreadCount(std::max(1, QThread::idealThreadCount() - 1));
}

ThumbnailCache::~ThumbnailCache() {
  pool_.clear();
  pool_.waitForDone();
}

void ThumbnailCache::setDiskFolder(const QString& folder) {
  diskFolder_ = folder;
  memory_.clear();
  unreadable_.clear();
}

QImage ThumbnailCache::makeThumbnail(const QString& file, int side) {
  QImageReader reader(file);
  reader.setAutoTransform(true);  // EXIF orientation
  const QSize size = reader.size();
  if (size.isValid() && (size.width() > side || size.height() > side)) {
    reader.setScaledSize(size.scaled(side, side, Qt::KeepAspectRatio));
  }
  QImage image = reader.read();
  if (image.isNull()) {
    return {};
  }
  if (image.width() > side || image.height() > side) {
    image = image.scaled(side, side, Qt::KeepAspectRatio, Qt::SmoothTransformation);
  } else {
    // Small images (Fashion-MNIST's 28 x 28) are enlarged by a whole factor without smoothing,
    // so their pixels stay sharp and the grid cells are filled.
    const int factor = side / std::max(image.width(), image.height());
    if (factor > 1) {
      image = image.scaled(image.size() * factor, Qt::KeepAspectRatio, Qt::FastTransformation);
    }
  }
  return image;
}

QImage ThumbnailCache::thumbnail(std::int64_t imageId, const QString& file, const QString& hash) {
  if (const QImage* cached = memory_.object(imageId)) {
    return *cached;
  }
  if (inFlight_.contains(imageId) || unreadable_.contains(imageId)) {
    return {};
  }
  inFlight_.insert(imageId, true);
  const QString disk =
      diskFolder_.isEmpty() || hash.size() < 4
          ? QString()
          : QDir(diskFolder_)
                .filePath(hash.left(2) + QLatin1Char('/') + hash + QStringLiteral(".png"));
  const int side = side_;
  QPointer<ThumbnailCache> self(this);
  pool_.start([self, imageId, file, disk, side] {
    QImage image;
    if (!disk.isEmpty() && QFileInfo::exists(disk)) {
      image.load(disk);
    }
    if (image.isNull()) {
      image = makeThumbnail(file, side);
      if (!image.isNull() && !disk.isEmpty()) {
        QDir().mkpath(QFileInfo(disk).path());
        QSaveFile out(disk);  // atomic: a killed app leaves no half-written thumbnail
        if (out.open(QIODevice::WriteOnly) && image.save(&out, "PNG")) {
          out.commit();
        }
      }
    }
    if (self) {
      QMetaObject::invokeMethod(
          self.data(),
          [self, imageId, image, file] {
            if (self) {
              self->deliver(imageId, image, file);
            }
          },
          Qt::QueuedConnection);
    }
  });
  return {};
}

void ThumbnailCache::deliver(std::int64_t imageId, const QImage& image, const QString& file) {
  inFlight_.remove(imageId);
  if (image.isNull()) {
    unreadable_.insert(imageId, true);
    Q_EMIT failed(imageId, file);
    return;
  }
  memory_.insert(imageId, new QImage(image), 1);
  Q_EMIT ready(imageId);
}

void ThumbnailCache::waitForDone() {
  pool_.waitForDone();
}

}  // namespace taxon::ui
