#include "labeling/ReviewDialog.hpp"

#include <QGridLayout>
#include <QHBoxLayout>
#include <QImageReader>
#include <QKeyEvent>
#include <QLabel>
#include <QThreadPool>
#include <QVBoxLayout>
#include <algorithm>

#include "common/CategoryPickerDialog.hpp"
#include "common/ProjectSession.hpp"

namespace taxon::ui {

ReviewDialog::ReviewDialog(ProjectSession* session, ReviewQueue::Kind kind, QWidget* parent)
    : QDialog(parent), session_(session), pool_(std::make_unique<QThreadPool>()) {
  setWindowTitle(kind == ReviewQueue::Kind::Unlabeled   ? tr("Review suggestions")
                 : kind == ReviewQueue::Kind::LabelNext ? tr("Label next")
                                                        : tr("Review disagreements"));
  pool_->setMaxThreadCount(2);
  image_ = new QLabel(this);
  image_->setObjectName(QStringLiteral("reviewImage"));
  image_->setAlignment(Qt::AlignCenter);
  image_->setFixedSize(area_);
  image_->setStyleSheet(QStringLiteral("background: palette(dark);"));
  label_ = new QLabel(this);
  label_->setWordWrap(true);
  auto* side = new QVBoxLayout;
  side->addWidget(label_);
  for (int k = 0; k < 5; ++k) {
    auto* choice = new QLabel(this);
    choice->setObjectName(QStringLiteral("reviewChoice%1").arg(k + 1));
    choice->setTextFormat(Qt::RichText);
    choice->setMinimumWidth(320);
    choices_.push_back(choice);
    side->addWidget(choice);
  }
  rollup_ = new QLabel(this);
  rollup_->setWordWrap(true);
  side->addWidget(rollup_);
  side->addStretch(1);
  auto* keys = new QLabel(tr("1–5 give the k-th category · Enter the first · M another · "
                             "S skip · Ctrl+Z undo · Esc close"),
                          this);
  keys->setWordWrap(true);
  side->addWidget(keys);
  status_ = new QLabel(this);
  status_->setObjectName(QStringLiteral("reviewStatus"));
  auto* row = new QHBoxLayout;
  row->addWidget(image_);
  row->addLayout(side, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(row, 1);
  layout->addWidget(status_);

  queue_ = new ReviewQueue(session_, kind, this);
  connect(queue_, &ReviewQueue::currentChanged, this, &ReviewDialog::showCurrent);
  showCurrent();
}

ReviewDialog::~ReviewDialog() {
  pool_->clear();
  pool_->waitForDone();
}

QImage ReviewDialog::scaled(const QString& file) const {
  QImageReader reader(file);
  reader.setAutoTransform(true);
  const QImage image = reader.read();
  if (image.isNull()) {
    return {};
  }
  // Small pictures (Fashion-MNIST's 28 px) are enlarged with their pixels kept sharp.
  const bool enlarge = image.width() < area_.width() && image.height() < area_.height();
  return image.scaled(area_, Qt::KeepAspectRatio,
                      enlarge ? Qt::FastTransformation : Qt::SmoothTransformation);
}

bool ReviewDialog::isPrefetched(std::int64_t imageId) const {
  QMutexLocker lock(&cache_->mutex);
  return cache_->images.contains(imageId);
}

void ReviewDialog::prefetch() {
  for (int step = 1; step <= kPrefetch; ++step) {
    const auto* item = queue_->ahead(step);
    if (item == nullptr) {
      break;
    }
    if (requested_.contains(item->imageId)) {
      continue;
    }
    requested_.insert(item->imageId);
    // The worker holds the cache, not the dialog: the destructor waits for it all the same.
    pool_->start([this, cache = cache_, id = item->imageId, file = item->file] {
      QImage image = scaled(file);
      QMutexLocker lock(&cache->mutex);
      cache->images.insert(id, std::move(image));
    });
  }
}

void ReviewDialog::showCurrent() {
  const auto* item = queue_->current();
  if (item == nullptr) {
    image_->setPixmap({});
    image_->setText(tr("Nothing left to review."));
    label_->clear();
    for (auto* choice : choices_) {
      choice->clear();
    }
    rollup_->clear();
  } else {
    QImage image;
    {
      QMutexLocker lock(&cache_->mutex);
      image = cache_->images.take(item->imageId);
    }
    if (image.isNull()) {
      if (decision_.isValid()) {
        ++misses_;  // the user was faster than the workers (or the file is unreadable)
      }
      image = scaled(item->file);
    }
    requested_.remove(item->imageId);
    if (image.isNull()) {
      image_->setText(tr("Cannot read %1").arg(item->file));
    } else {
      image_->setPixmap(QPixmap::fromImage(image));
    }
    label_->setText(item->label.isEmpty()
                        ? tr("Unlabeled")
                        : tr("Labeled: <b>%1</b>").arg(item->label.toHtmlEscaped()));
    for (std::size_t k = 0; k < choices_.size(); ++k) {
      if (k < item->top.size()) {
        choices_[k]->setText(QStringLiteral("<b>%1</b>&nbsp;&nbsp;%2&nbsp;&nbsp;<tt>%3</tt>")
                                 .arg(k + 1)
                                 .arg(item->top[k].first.toHtmlEscaped())
                                 .arg(item->top[k].second, 0, 'f', 3));
      } else {
        choices_[k]->clear();
      }
    }
    rollup_->setText(item->rollup.isEmpty()
                         ? QString()
                         : tr("No category is sure; together: %1").arg(item->rollup));
    prefetch();
  }
  if (decision_.isValid()) {
    image_->repaint();  // painted now: the latency ends when the user can see the next image
    latencies_.push_back(static_cast<double>(decision_.nsecsElapsed()) / 1e6);
    decision_.invalidate();
  }
  QString status =
      tr("%L1 to review · %L2 decided").arg(queue_->remaining()).arg(queue_->decided());
  if (!latencies_.empty()) {
    std::vector<double> sorted = latencies_;
    std::nth_element(sorted.begin(),
                     sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2), sorted.end());
    status += tr(" · %1 ms per decision (median)").arg(sorted[sorted.size() / 2], 0, 'f', 1);
  }
  status_->setText(status);
}

void ReviewDialog::decided(bool ok, const QString& error) {
  if (!ok) {
    decision_.invalidate();
    if (!error.isEmpty()) {
      status_->setText(error);
    }
  }
}

void ReviewDialog::keyPressEvent(QKeyEvent* event) {
  QString error;
  const int key = event->key();
  if (event->matches(QKeySequence::Undo)) {
    decision_.start();
    decided(queue_->undo(&error), error);
    return;
  }
  if (key >= Qt::Key_1 && key <= Qt::Key_5) {
    decision_.start();
    decided(queue_->accept(key - Qt::Key_1, &error), error);
    return;
  }
  switch (key) {
    case Qt::Key_Return:
    case Qt::Key_Enter:
      decision_.start();
      decided(queue_->accept(0, &error), error);
      return;
    case Qt::Key_S:
      if (queue_->current() != nullptr) {
        decision_.start();
        queue_->skip();
      }
      return;
    case Qt::Key_M: {
      if (queue_->current() == nullptr) {
        return;
      }
      const auto path =
          CategoryPickerDialog::pick(this, session_->categoryPaths(), tr("Category"), true);
      if (path) {
        decision_.start();
        decided(queue_->choose(*path, &error), error);
      }
      return;
    }
    default:
      QDialog::keyPressEvent(event);
  }
}

}  // namespace taxon::ui
