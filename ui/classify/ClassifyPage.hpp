// The app's Classify page: drop image files (or folders) on it, paste an image or copied files
// (Ctrl+V), or open some; each image gets a row with its thumbnail and its top 5 categories as
// score bars. The model comes from a run the user picks in the Model box (named in the header
// with its step and, where the run was evaluated, its precision@1) and one of its checkpoints:
// its newest by default, picked up anew while that run trains, or a fixed one. The
// classification runs on a ClassifyJob's worker thread. With a project set, the selected image's
// most similar images of the project (after `taxon embed` with the model's checkpoint) are shown
// beside the list, with category, split and distance. "Why?" shows where the model looked in the
// selected image (Grad-CAM) for each of its top categories, one toggle per category.
#pragma once

#include <QString>
#include <QStringList>
#include <QWidget>

class QComboBox;
class QLabel;
class QListView;
class QListWidget;
class QProgressBar;
class QPushButton;
class QMimeData;

namespace taxon::ui {

class ClassifyJob;
class PredictionModel;
class WhyPanel;

class ClassifyPage : public QWidget {
  Q_OBJECT

 public:
  explicit ClassifyPage(QWidget* parent = nullptr);
  ~ClassifyPage() override;

  // A train dir (or one checkpoint file); the newest checkpoint in it is used.
  void setCheckpointDir(const QString& dir);
  // The runs to choose from (train dirs, e.g. ProjectSession::runDirs()). The chosen run stays
  // chosen while it is listed; otherwise `defaultRun` (when listed) is chosen, else none.
  void setRuns(const QStringList& trainDirs, const QString& defaultRun = {});
  // Chooses a run, with `checkpoint` (a file of it) or its newest checkpoint when empty. As the
  // Model box does, except that the box marks the choice as the user's (userChoseRun()).
  void chooseRun(const QString& trainDir, const QString& checkpoint = {});
  QString chosenRun() const { return run_; }
  // True once the user picked a run in the box: the app then stops choosing for them.
  bool userChoseRun() const { return userChose_; }
  QComboBox* runBox() const { return runs_; }
  QComboBox* checkpointBox() const { return checkpoints_; }
  // "demo (train), precision@1 0.7634": a run's name, and its evaluation when it has one.
  static QString runLabel(const QString& trainDir);
  QString checkpointDir() const { return checkpointDir_; }
  // The project searched for similar images (the app's open project); empty: none.
  void setProject(const QString& project);
  // The panel of similar images of the selected row.
  QListWidget* similarList() const { return similar_; }
  QString similarNote() const;
  // "Why?": where the model looked in the selected image, for each of its top categories.
  void setWhyShown(bool on);
  QPushButton* whyButton() const { return why_; }
  WhyPanel* whyPanel() const { return whyPanel_; }
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

  void listCheckpoints();
  void showSimilar();  // of the current row
  void showWhy();      // of the current row, when "Why?" is on

  QString checkpointDir_;
  QString project_;
  QString run_;
  bool userChose_ = false;
  QComboBox* runs_ = nullptr;
  QComboBox* checkpoints_ = nullptr;
  int pasted_ = 0;  // numbers "Pasted image N"
  ClassifyJob* job_ = nullptr;
  PredictionModel* model_ = nullptr;
  QListView* list_ = nullptr;
  QListWidget* similar_ = nullptr;
  QLabel* similarNote_ = nullptr;
  QWidget* similarPanel_ = nullptr;
  QLabel* modelLabel_ = nullptr;
  QLabel* message_ = nullptr;
  QProgressBar* busy_ = nullptr;
  QPushButton* open_ = nullptr;
  QPushButton* clear_ = nullptr;
  QPushButton* why_ = nullptr;
  WhyPanel* whyPanel_ = nullptr;
};

}  // namespace taxon::ui
