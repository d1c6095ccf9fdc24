// "Why": where a model looked in one image (explain/Explainer.hpp, Grad-CAM on the last mixed
// block) for a few of its categories, as heat maps laid over the picture the model saw, side by
// side, one toggle per category to show or hide its map. The Classify page asks for a result's
// top categories, the Inspect page for an example's label and prediction.
//
// The maps are computed on one worker thread of the panel's own (a model load takes about a
// second, one image's maps a fraction of one at 299 x 299 on a CPU); a newer request supersedes
// the ones still queued. The explainer is kept between requests and reloaded when the checkpoint
// asked for changes. GUI thread.
#pragma once

#include <QByteArray>
#include <QImage>
#include <QList>
#include <QString>
#include <QStringList>
#include <QWidget>
#include <atomic>
#include <memory>

class QAbstractButton;
class QComboBox;
class QHBoxLayout;
class QLabel;
class QListWidget;
class QThreadPool;

namespace taxon::ui {

class WhyPanel : public QWidget {
  Q_OBJECT

 public:
  static constexpr int kMapSide = 150;  // default pixels of a shown overlay's longer side

  explicit WhyPanel(const QString& title, int mapSide = kMapSide, QWidget* parent = nullptr);
  ~WhyPanel() override;

  struct Map {
    QString category;  // the full path
    QString caption;   // as shown under it
    QImage overlay;    // the heat map over the picture (RGB)
    bool empty = false;
  };

  // Explains `file` (or `bytes` when not empty, named `file`) with the checkpoint `checkpoint` (a
  // train dir: its newest checkpoint; or a checkpoint file): one map per name of `categories`
  // (the model's category paths), captioned by `captions`; the first `shown` maps are toggled on.
  void explain(const QString& checkpoint, const QString& file, const QByteArray& bytes,
               const QStringList& categories, const QStringList& captions, int shown);
  // Empties the panel and shows `note` instead.
  void clear(const QString& note = {});

  bool isBusy() const { return busy_ > 0; }
  QString note() const;
  QListWidget* list() const { return list_; }
  QList<QAbstractButton*> toggles() const { return toggles_; }
  // The block explained: "auto" or a block's name (explain::Explainer::setBlock); a change
  // explains the current image again.
  QComboBox* blockBox() const { return blockBox_; }
  const QList<Map>& maps() const { return maps_; }

 Q_SIGNALS:
  // The maps of the latest request are shown, or its error is (note()).
  void explained();

 private:
  struct Cache;
  void show(quint64 generation, const QList<Map>& maps, const QImage& view, const QString& block,
            int mapSide, const QString& error);
  void run();  // the latest request, again
  void showChecked();

  int mapSide_;
  QLabel* note_ = nullptr;
  QComboBox* blockBox_ = nullptr;
  QHBoxLayout* toggleRow_ = nullptr;
  QListWidget* list_ = nullptr;
  QList<QAbstractButton*> toggles_;
  QList<Map> maps_;
  QImage view_;    // the picture the model saw
  int shown_ = 0;  // maps toggled on when the latest request's maps arrive
  struct Request {
    QString checkpoint, file;
    QByteArray bytes;
    QStringList categories, captions;
  };
  Request request_;         // the latest, run again when the block changes
  quint64 generation_ = 0;  // GUI thread
  int busy_ = 0;
  std::shared_ptr<std::atomic<quint64>> latest_;  // read by the worker to skip superseded work
  std::shared_ptr<Cache> cache_;                  // the worker's explainer
  std::unique_ptr<QThreadPool> pool_;             // last: waited for before the rest goes
};

}  // namespace taxon::ui
