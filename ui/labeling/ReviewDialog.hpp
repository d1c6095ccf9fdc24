// Review mode, built for speed: one large image, the model's top 5 with scores (and the roll-up
// when no category is sure), and one key per decision: 1-5 give the k-th suggestion, Enter the
// first, M opens the category picker, S skips, Ctrl+Z undoes, Esc closes. The next image shows at
// once: the following ones are decoded and scaled ahead on worker threads, so a decision never
// waits on the disk. Each decision's latency (key press to the next image painted) is kept, and
// the status line shows the median. GUI thread only; the workers only decode.
#pragma once

#include <QDialog>
#include <QElapsedTimer>
#include <QHash>
#include <QImage>
#include <QMutex>
#include <QSet>
#include <QSize>
#include <memory>
#include <vector>

#include "labeling/ReviewQueue.hpp"

class QLabel;
class QThreadPool;

namespace taxon::ui {

class ProjectSession;

class ReviewDialog : public QDialog {
  Q_OBJECT

 public:
  static constexpr int kPrefetch = 6;  // images decoded ahead of the current one

  ReviewDialog(ProjectSession* session, ReviewQueue::Kind kind, QWidget* parent = nullptr);
  ~ReviewDialog() override;

  ReviewQueue* queue() const { return queue_; }
  // Milliseconds from each decision's key press to the next image painted, in order.
  const std::vector<double>& latencies() const { return latencies_; }
  int prefetchMisses() const { return misses_; }  // images shown before their decode was ready
  bool isPrefetched(std::int64_t imageId) const;

 protected:
  void keyPressEvent(QKeyEvent* event) override;

 private:
  void showCurrent();
  void prefetch();
  QImage scaled(const QString& file) const;  // decoded and fitted to the image area
  void decided(bool ok, const QString& error);

  ProjectSession* session_;
  ReviewQueue* queue_;
  QLabel* image_;
  QLabel* label_;  // the image's category now (disagreements)
  std::vector<QLabel*> choices_;
  QLabel* rollup_;
  QLabel* status_;
  QSize area_{560, 560};

  struct Cache {
    QMutex mutex;
    QHash<std::int64_t, QImage> images;
  };
  std::shared_ptr<Cache> cache_ = std::make_shared<Cache>();
  QSet<std::int64_t> requested_;
  std::unique_ptr<QThreadPool> pool_;
  QElapsedTimer decision_;  // running from a decision's key press until the next image shows
  std::vector<double> latencies_;
  int misses_ = 0;
};

}  // namespace taxon::ui
