// The one place the UI turns image files into thumbnails. decodeThumbnail() reads an image at its
// display size (QImageReader's scaled size, EXIF orientation applied); Thumbnails is the service
// the pages share the pattern of: decodes on its own worker threads, never on the GUI thread, a
// memory cache of recently used thumbnails (least recently used go first) and, when given a
// folder, a disk cache named by the image's content hash, so that a large project opens its grid
// at once the second time. The service is owned by and used from the GUI thread; ready() and
// failed() arrive there too.
#pragma once

#include <QCache>
#include <QImage>
#include <QObject>
#include <QSet>
#include <QSize>
#include <QString>
#include <QThreadPool>

class QImageReader;

namespace taxon::ui {

// How a thumbnail fills its box.
enum class ThumbnailFit {
  Shrink,       // larger images shrink into the box; smaller ones stay as they are
  Fit,          // every image is scaled (smoothly, up or down) to fit the box
  PixelEnlarge  // larger images shrink; smaller ones grow by a whole factor without smoothing,
                // so their pixels stay sharp (Fashion-MNIST's 28 x 28)
};

// Reads the image of `reader` into `bounds`; a null image when it cannot be read (the reader's
// errorString() says why). Thread-safe for distinct readers.
QImage decodeThumbnail(QImageReader& reader, QSize bounds, ThumbnailFit fit);
QImage decodeThumbnail(const QString& file, QSize bounds, ThumbnailFit fit);

class Thumbnails : public QObject {
  Q_OBJECT

 public:
  struct Options {
    QSize bounds{96, 96};
    ThumbnailFit fit = ThumbnailFit::Fit;
    qsizetype memoryBytes = 32 * 1024 * 1024;  // the memory cache's budget
    int threads = 2;                           // decoding threads
  };

  explicit Thumbnails(const Options& options, QObject* parent = nullptr);
  ~Thumbnails() override;  // drops queued decodes and waits for those running

  QSize size() const { return options_.bounds; }
  // The disk cache folder (e.g. PROJECT/.taxon-cache/thumbnails); empty: memory only. Forgets
  // what is cached in memory and which files could not be read.
  void setDiskFolder(const QString& folder);

  // The cached thumbnail of `file`, or a null image after scheduling it (ready() or failed()
  // follows) or when the file cannot be read (not retried). `hash`, the catalog's content hash,
  // names the disk copy; without it only memory is used.
  QImage thumbnail(const QString& file, const QString& hash = {});
  bool cached(const QString& file) const { return memory_.contains(file); }
  bool unreadable(const QString& file) const { return unreadable_.contains(file); }
  int pending() const { return static_cast<int>(inFlight_.size()); }
  // Waits until no decode runs or `msecs` passed (-1: no limit); true when idle (tests).
  bool waitForDone(int msecs = -1);

 Q_SIGNALS:
  void ready(const QString& file);
  void failed(const QString& file);

 private:
  void deliver(const QString& file, const QImage& image);

  Options options_;
  QString diskFolder_;
  QCache<QString, QImage> memory_;  // cost: bytes
  QSet<QString> inFlight_;
  QSet<QString> unreadable_;
  QThreadPool pool_;
};

}  // namespace taxon::ui
