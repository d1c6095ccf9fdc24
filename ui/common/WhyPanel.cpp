#include "common/WhyPanel.hpp"

#include <QComboBox>
#include <QDir>
#include <QHBoxLayout>
#include <QIcon>
#include <QLabel>
#include <QListWidget>
#include <QMetaObject>
#include <QPixmap>
#include <QPointer>
#include <QThreadPool>
#include <QToolButton>
#include <QVBoxLayout>
#include <algorithm>
#include <exception>
#include <opencv2/core/mat.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "checkpoint/CheckpointFiles.hpp"
#include "common/Paths.hpp"
#include "explain/Explainer.hpp"

namespace taxon::ui {

namespace {

QImage toQImage(const cv::Mat& bgr) {
  const QImage shared(bgr.data, bgr.cols, bgr.rows, static_cast<qsizetype>(bgr.step),
                      QImage::Format_BGR888);
  return shared.convertToFormat(QImage::Format_RGB888);  // a deep copy
}

}  // namespace

struct WhyPanel::Cache {
  std::unique_ptr<explain::Explainer> explainer;
  QString checkpoint;  // what `explainer` was asked to load
  // The newest checkpoint file there at that load (a damaged newest one is passed over by the
  // load, so this is not always the file loaded): a different one means a newer save.
  std::string newestSeen;
};

WhyPanel::WhyPanel(const QString& title, int mapSide, QWidget* parent)
    : QWidget(parent),
      mapSide_(mapSide),
      latest_(std::make_shared<std::atomic<quint64>>(0)),
      cache_(std::make_shared<Cache>()),
      pool_(std::make_unique<QThreadPool>()) {
  pool_->setMaxThreadCount(1);
  pool_->setExpiryTimeout(-1);  // one thread for the panel's life: torch keeps per-thread state
  auto* heading = new QLabel(title, this);
  note_ = new QLabel(this);
  note_->setObjectName(QStringLiteral("whyNote"));
  note_->setWordWrap(true);
  note_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  blockBox_ = new QComboBox(this);
  blockBox_->setObjectName(QStringLiteral("whyBlock"));
  blockBox_->addItem(tr("auto"), QStringLiteral("auto"));
  for (const char* block : {"Mixed_7c", "Mixed_6e", "Mixed_5d"}) {
    blockBox_->addItem(QString::fromLatin1(block), QString::fromLatin1(block));
  }
  blockBox_->setToolTip(
      tr("The block whose map is explained: auto takes the last mixed block whose map is at "
         "least 5 x 5 (Mixed_7c from 203-pixel inputs); earlier blocks see less of the picture "
         "from each position"));
  toggleRow_ = new QHBoxLayout;
  toggleRow_->setContentsMargins(0, 0, 0, 0);
  toggleRow_->addStretch(1);
  toggleRow_->addWidget(blockBox_);
  connect(blockBox_, &QComboBox::activated, this, [this] {
    if (!request_.categories.isEmpty()) {
      run();
    }
  });
  list_ = new QListWidget(this);
  list_->setObjectName(QStringLiteral("whyList"));
  list_->setViewMode(QListView::IconMode);
  list_->setIconSize(QSize(mapSide_, mapSide_));
  list_->setGridSize(QSize(mapSide_ + 16, mapSide_ + 52));
  list_->setResizeMode(QListView::Adjust);
  list_->setMovement(QListView::Static);
  list_->setWordWrap(true);
  list_->setSelectionMode(QAbstractItemView::NoSelection);
  list_->setMinimumHeight(mapSide_ + 60);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(heading);
  layout->addWidget(note_);
  layout->addLayout(toggleRow_);
  layout->addWidget(list_, 1);
}

WhyPanel::~WhyPanel() {
  latest_->store(~quint64{0});  // queued work skips itself
  pool_->waitForDone();
}

QString WhyPanel::note() const {
  return note_->text();
}

void WhyPanel::clear(const QString& note) {
  ++generation_;
  latest_->store(generation_);
  maps_.clear();
  for (auto* toggle : toggles_) {
    delete toggle;
  }
  toggles_.clear();
  list_->clear();
  note_->setText(note);
}

void WhyPanel::explain(const QString& checkpoint, const QString& file, const QByteArray& bytes,
                       const QStringList& categories, const QStringList& captions, int shown) {
  request_ = {checkpoint, file, bytes, categories, captions};
  shown_ = shown;
  run();
}

void WhyPanel::run() {
  clear(tr("Looking where the model looked…"));
  const quint64 generation = generation_;
  ++busy_;
  QPointer<WhyPanel> self(this);
  auto latest = latest_;
  auto cache = cache_;
  const Request r = request_;
  const std::string block = blockBox_->currentData().toString().toStdString();
  pool_->start([self, latest, cache, generation, r, block] {
    QList<Map> maps;
    QImage view;
    QString error, explained;
    int mapSide = 0;
    if (latest->load() == generation) {
      try {
        // A train dir is followed while it trains: a newer checkpoint there replaces the model.
        const auto path = toPath(r.checkpoint);
        const auto newest = checkpoint::newestCheckpoint(path);
        const std::string newestPath = newest ? newest->path.string() : std::string();
        if (!cache->explainer || cache->checkpoint != r.checkpoint ||
            newestPath != cache->newestSeen) {
          cache->explainer.reset();
          cache->checkpoint = r.checkpoint;
          cache->newestSeen = newestPath;
          cache->explainer = std::make_unique<explain::Explainer>(path);
        }
        cache->explainer->setBlock(block);
        const auto& names = cache->explainer->categories();
        std::vector<std::int64_t> wanted;
        for (const QString& category : r.categories) {
          const auto at = std::find(names.begin(), names.end(), category.toStdString());
          if (at == names.end()) {
            throw std::runtime_error("the model has no category \"" + category.toStdString() +
                                     "\"");
          }
          wanted.push_back(at - names.begin());
        }
        const auto e = r.bytes.isEmpty()
                           ? cache->explainer->explainFile(toPath(r.file), 0, wanted)
                           : cache->explainer->explainBytes(r.bytes.toStdString(),
                                                            r.file.toStdString(), 0, wanted);
        if (!e.error.empty()) {
          throw std::runtime_error(e.error);
        }
        view = toQImage(e.view);
        explained = QString::fromStdString(e.block);
        mapSide = e.mapSide;
        for (qsizetype i = 0; i < r.categories.size(); ++i) {
          const auto& heat = e.maps[static_cast<std::size_t>(i)];
          maps.append({r.categories[i], i < r.captions.size() ? r.captions[i] : r.categories[i],
                       toQImage(explain::overlay(e.view, heat.map)), heat.empty});
        }
      } catch (const std::exception& e) {
        error = QString::fromStdString(e.what());
      }
    }
    QMetaObject::invokeMethod(
        self.data(),
        [self, generation, maps, view, explained, mapSide, error] {
          if (self) {
            self->show(generation, maps, view, explained, mapSide, error);
          }
        },
        Qt::QueuedConnection);
  });
}

void WhyPanel::show(quint64 generation, const QList<Map>& maps, const QImage& view,
                    const QString& block, int mapSide, const QString& error) {
  --busy_;
  if (generation != generation_) {
    return;
  }
  if (!error.isEmpty()) {
    note_->setText(tr("Could not explain this image: %1").arg(error));
    Q_EMIT explained();
    return;
  }
  maps_ = maps;
  view_ = view;
  note_->setText(tr("Red: where the evidence for a category is strongest (Grad-CAM on %1, a "
                    "%2 × %2 map). Toggle a category to show its map.")
                     .arg(block)
                     .arg(mapSide));
  for (qsizetype i = 0; i < maps_.size(); ++i) {
    auto* toggle = new QToolButton(this);
    toggle->setCheckable(true);
    toggle->setChecked(i < shown_);
    toggle->setText(maps_[i].caption.section(QLatin1Char('\n'), 0, 0));
    toggle->setToolTip(maps_[i].category);
    toggle->setObjectName(QStringLiteral("whyToggle%1").arg(i));
    connect(toggle, &QToolButton::toggled, this, &WhyPanel::showChecked);
    toggleRow_->insertWidget(static_cast<int>(i), toggle);
    toggles_.append(toggle);
  }
  showChecked();
  Q_EMIT explained();
}

void WhyPanel::showChecked() {
  list_->clear();
  auto add = [this](const QImage& image, const QString& text, const QString& tip) {
    const QImage shown =
        image.scaled(mapSide_, mapSide_, Qt::KeepAspectRatio, Qt::SmoothTransformation);
    auto* item = new QListWidgetItem(QIcon(QPixmap::fromImage(shown)), text, list_);
    item->setToolTip(tip);
    item->setTextAlignment(Qt::AlignHCenter | Qt::AlignTop);
  };
  if (!view_.isNull()) {
    add(view_, tr("what the model saw"), tr("The central crop the model classifies"));
  }
  for (qsizetype i = 0; i < maps_.size(); ++i) {
    if (toggles_[i]->isChecked()) {
      add(maps_[i].overlay, maps_[i].caption + (maps_[i].empty ? tr("\n(no evidence)") : QString()),
          maps_[i].category);
    }
  }
}

}  // namespace taxon::ui
