// The app's Classify page: drop image files (or folders) on it, paste an image or copied files
// (Ctrl+V), or open some; each image gets a row with its thumbnail and its top 5 categories as
// score bars. Uses the newest checkpoint of the train dir it is given, and picks up newer ones
// while that run trains. The classification runs on a ClassifyJob's worker thread.
#pragma once

#include <QString>
#include <QStringList>
#include <QWidget>

class QLabel;
class QListView;
class QProgressBar;
class QPushButton;
class QMimeData;

namespace taxon::ui {

class ClassifyJob;
class PredictionModel;

class ClassifyPage : public QWidget {
  Q_OBJECT

 public:
  explicit ClassifyPage(QWidget* parent = nullptr);
  ~ClassifyPage() override;

  // A train dir (or one checkpoint file); the newest checkpoint in it is used.
  void setCheckpointDir(const QString& dir);
  QString checkpointDir() const { return checkpointDir_; }
  // Classifies image files (folders: the images inside), as dropping them does.
  void classifyFiles(const QStringList& files);
  // Classifies what a drop or the clipboard carries: local file URLs, or image data (sent as PNG
  // bytes). False when it carries neither.
  bool classifyMimeData(const QMimeData* mime);
  // Ctrl+V: the clipboard's files or image.
  void paste();
  // Cancels what is running and removes every row.
  void clear();

  PredictionModel* model() { return model_; }
  // The sentence the page shows above the list (hints, "No trained model yet...", errors).
  QString message() const;
  // "model.ckpt-120.taxon, step 120", or that no model is loaded.
  QString modelText() const;
  bool isBusy() const;

 Q_SIGNALS:
  // After a batch of results arrived; `rows` is how many rows the model holds now.
  void classified(int rows);

 protected:
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dragMoveEvent(QDragMoveEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void openImages();
  void showMessage(const QString& text, bool error);
  void onModelLoaded(const QString& checkpoint, qint64 step);

  QString checkpointDir_;
  int pasted_ = 0;  // numbers "Pasted image N"
  ClassifyJob* job_ = nullptr;
  PredictionModel* model_ = nullptr;
  QListView* list_ = nullptr;
  QLabel* modelLabel_ = nullptr;
  QLabel* message_ = nullptr;
  QProgressBar* busy_ = nullptr;
  QPushButton* open_ = nullptr;
  QPushButton* clear_ = nullptr;
};

}  // namespace taxon::ui
