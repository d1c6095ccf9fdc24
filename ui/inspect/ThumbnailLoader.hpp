// Small images for the example lists, decoded at their display size (QImageReader's scaled
// size) on the loader's own worker threads, never on the GUI thread, and kept in a memory cache
// of about 32 MB. Owned by and used from the GUI thread; ready() arrives there too.
#pragma once

#include <QCache>
#include <QImage>
#include <QObject>
#include <QSet>
#include <QSize>
#include <QString>
#include <QThreadPool>

namespace taxon::ui {

class ThumbnailLoader : public QObject {
  Q_OBJECT

 public:
  explicit ThumbnailLoader(QSize size = QSize(96, 96), QObject* parent = nullptr);
  ~ThumbnailLoader() override;  // waits for the decodes in flight

  QSize size() const { return size_; }
  // The cached thumbnail of `file`, or a null image while it loads (ready(file) follows) or when
  // the file cannot be read.
  QImage thumbnail(const QString& file);
  // For tests: waits until no decode is running or `msecs` passed; true when idle.
  bool waitForDone(int msecs);

 Q_SIGNALS:
  void ready(const QString& file);

 private:
  void finished(const QString& file, const QImage& image);

  QSize size_;
  QCache<QString, QImage> cache_;  // cost: bytes
  QSet<QString> pending_;
  QSet<QString> failed_;
  QThreadPool pool_;
};

}  // namespace taxon::ui
