#include "inspect/ThumbnailLoader.hpp"

#include <QImageReader>
#include <QMetaObject>

namespace taxon::ui {

ThumbnailLoader::ThumbnailLoader(QSize size, QObject* parent)
    : QObject(parent), size_(size), cache_(32 * 1024 * 1024) {
  pool_.setMaxThreadCount(2);
}

ThumbnailLoader::~ThumbnailLoader() {
  // The tasks post back to this object: let none outlive it. Posted events to a deleted
  // object are dropped by Qt.
  pool_.clear();
  pool_.waitForDone();
}

QImage ThumbnailLoader::thumbnail(const QString& file) {
  if (file.isEmpty() || failed_.contains(file)) {
    return {};
  }
  if (const QImage* cached = cache_.object(file)) {
    return *cached;
  }
  if (pending_.contains(file)) {
    return {};
  }
  pending_.insert(file);
  const QSize bounds = size_;
  pool_.start([this, file, bounds] {
    QImageReader reader(file);
    reader.setAutoTransform(true);
    const QSize full = reader.size();
    if (full.isValid()) {
      reader.setScaledSize(full.scaled(bounds, Qt::KeepAspectRatio).expandedTo(QSize(1, 1)));
    }
    QImage image = reader.read();
    if (!image.isNull() && (image.width() > bounds.width() || image.height() > bounds.height())) {
      image = image.scaled(bounds, Qt::KeepAspectRatio, Qt::SmoothTransformation);
    }
    QMetaObject::invokeMethod(
        this, [this, file, image] { finished(file, image); }, Qt::QueuedConnection);
  });
  return {};
}

bool ThumbnailLoader::waitForDone(int msecs) {
  return pool_.waitForDone(msecs);
}

void ThumbnailLoader::finished(const QString& file, const QImage& image) {
  pending_.remove(file);
  if (image.isNull()) {
    failed_.insert(file);
  } else {
    cache_.insert(file, new QImage(image), static_cast<qsizetype>(image.sizeInBytes()));
  }
  Q_EMIT ready(file);
}

}  // namespace taxon::ui
