// Thumbnails of the project's images, made on worker threads (a QThreadPool) and cached twice:
// in memory (the most recent few thousand) and on disk under PROJECT/.taxon-cache/thumbnails,
// named by the image's content hash, so a project of a million images opens its grid at once the
// second time. thumbnail() never blocks: it returns what is cached (or a null image) and
// schedules the work; ready() says when a thumbnail arrived. GUI thread only.
#pragma once

#include <QCache>
#include <QHash>
#include <QImage>
#include <QObject>
#include <QString>
#include <QThreadPool>
#include <cstdint>

namespace taxon::ui {

class ThumbnailCache : public QObject {
  Q_OBJECT

 public:
  explicit ThumbnailCache(int side = 128, QObject* parent = nullptr);
  ~ThumbnailCache() override;

  // The disk cache folder (e.g. PROJECT/.taxon-cache/thumbnails); empty: memory only.
  void setDiskFolder(const QString& folder);
  int side() const { return side_; }

  // The cached thumbnail of `file`, or a null image after scheduling it. `hash` names the disk
  // copy (the catalog's content hash); when empty, only the memory cache is used.
  QImage thumbnail(std::int64_t imageId, const QString& file, const QString& hash);
  // Waits for scheduled work (tests, shutdown).
  void waitForDone();
  bool cached(std::int64_t imageId) const { return memory_.contains(imageId); }
  bool unreadable(std::int64_t imageId) const { return unreadable_.contains(imageId); }
  int pending() const { return static_cast<int>(inFlight_.size()); }

  // Makes a thumbnail of `file` at most `side` pixels on its longer side; a null image when the
  // file cannot be read. Thread-safe.
  static QImage makeThumbnail(const QString& file, int side);

 Q_SIGNALS:
  void ready(qint64 imageId);
  void failed(qint64 imageId, const QString& file);

 private:
  void deliver(std::int64_t imageId, const QImage& image, const QString& file);

  int side_;
  QString diskFolder_;
  QCache<std::int64_t, QImage> memory_;
  QHash<std::int64_t, bool> inFlight_;
  QHash<std::int64_t, bool> unreadable_;  // not retried
  QThreadPool pool_;
};

}  // namespace taxon::ui
