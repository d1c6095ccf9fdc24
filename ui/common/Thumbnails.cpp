#include "common/Thumbnails.hpp"

#include <QDir>
#include <QFileInfo>
#include <QImageReader>
#include <QMetaObject>
#include <QPointer>
#include <QSaveFile>
#include <algorithm>

namespace taxon::ui {
namespace {

// The disk copy of a thumbnail: FOLDER/ab/abcdef….png, by content hash; empty without one.
QString diskFile(const QString& folder, const QString& hash) {
  if (folder.isEmpty() || hash.size() < 4) {
    return {};
  }
  return QDir(folder).filePath(hash.left(2) + QLatin1Char('/') + hash + QStringLiteral(".png"));
}

// The thumbnail from the disk cache, else decoded (and then written there).
QImage loadOrDecode(const QString& file, const QString& disk, QSize bounds, ThumbnailFit fit) {
  QImage image;
  if (!disk.isEmpty() && QFileInfo::exists(disk)) {
    image.load(disk);
  }
  if (!image.isNull()) {
    return image;
  }
  image = decodeThumbnail(file, bounds, fit);
  if (!image.isNull() && !disk.isEmpty()) {
    QDir().mkpath(QFileInfo(disk).path());
    QSaveFile out(disk);  // atomic: a killed app leaves no half-written thumbnail
    if (out.open(QIODevice::WriteOnly) && image.save(&out, "PNG")) {
      out.commit();
    }
  }
  return image;
}

}  // namespace

QImage decodeThumbnail(QImageReader& reader, QSize bounds, ThumbnailFit fit) {
  reader.setAutoTransform(true);  // EXIF orientation
  const QSize full = reader.size();
  if (full.isValid()) {
    const bool larger = full.width() > bounds.width() || full.height() > bounds.height();
    if (fit == ThumbnailFit::Fit) {
      reader.setScaledSize(full.scaled(bounds, Qt::KeepAspectRatio).expandedTo(QSize(1, 1)));
    } else if (larger) {
      reader.setScaledSize(full.scaled(bounds, Qt::KeepAspectRatio));
    }
  }
  QImage image = reader.read();
  if (image.isNull() || fit == ThumbnailFit::Shrink) {
    return image;
  }
  if (image.width() > bounds.width() || image.height() > bounds.height()) {
    return image.scaled(bounds, Qt::KeepAspectRatio, Qt::SmoothTransformation);
  }
  if (fit == ThumbnailFit::PixelEnlarge) {
    const int factor = std::min(bounds.width() / std::max(1, image.width()),
                                bounds.height() / std::max(1, image.height()));
    if (factor > 1) {
      image = image.scaled(image.size() * factor, Qt::KeepAspectRatio, Qt::FastTransformation);
    }
  }
  return image;
}

QImage decodeThumbnail(const QString& file, QSize bounds, ThumbnailFit fit) {
  QImageReader reader(file);
  return decodeThumbnail(reader, bounds, fit);
}

Thumbnails::Thumbnails(const Options& options, QObject* parent)
    : QObject(parent), options_(options), memory_(options.memoryBytes) {
  pool_.setMaxThreadCount(std::max(1, options.threads));
}

Thumbnails::~Thumbnails() {
  // The tasks post back to this object: let none outlive it.
  pool_.clear();
  pool_.waitForDone();
}

void Thumbnails::setDiskFolder(const QString& folder) {
  diskFolder_ = folder;
  memory_.clear();
  unreadable_.clear();
}

QImage Thumbnails::thumbnail(const QString& file, const QString& hash) {
  if (file.isEmpty() || unreadable_.contains(file)) {
    return {};
  }
  if (const QImage* cached = memory_.object(file)) {
    return *cached;
  }
  if (inFlight_.contains(file)) {
    return {};
  }
  inFlight_.insert(file);
  const QString disk = diskFile(diskFolder_, hash);
  const QSize bounds = options_.bounds;
  const ThumbnailFit fit = options_.fit;
  QPointer<Thumbnails> self(this);
  pool_.start([self, file, disk, bounds, fit] {
    const QImage image = loadOrDecode(file, disk, bounds, fit);
    if (!self) {
      return;
    }
    QMetaObject::invokeMethod(
        self.data(),
        [self, file, image] {
          if (self) {
            self->deliver(file, image);
          }
        },
        Qt::QueuedConnection);
  });
  return {};
}

void Thumbnails::deliver(const QString& file, const QImage& image) {
  inFlight_.remove(file);
  if (image.isNull()) {
    unreadable_.insert(file);
    Q_EMIT failed(file);
    return;
  }
  memory_.insert(file, new QImage(image), std::max<qsizetype>(1, image.sizeInBytes()));
  Q_EMIT ready(file);
}

bool Thumbnails::waitForDone(int msecs) {
  return pool_.waitForDone(msecs);
}

}  // namespace taxon::ui
