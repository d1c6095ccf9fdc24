// Bulk accept: every unlabeled image (of a category's subtree, or all) whose top suggestion
// scores at least a threshold gets that category, as one undoable edit. The count is shown live
// as the threshold moves, before anything changes. GUI thread only.
#pragma once

#include <QDialog>
#include <QString>
#include <cstdint>
#include <vector>

class QDoubleSpinBox;
class QLabel;
class QPushButton;

namespace taxon::ui {

class ProjectSession;

class AcceptDialog : public QDialog {
  Q_OBJECT

 public:
  // `categoryIds`: the subtree whose suggestions are accepted (empty: any); `where` names it.
  AcceptDialog(ProjectSession* session, std::vector<std::int64_t> categoryIds, const QString& where,
               QWidget* parent = nullptr);

  void setMinScore(double score);
  std::int64_t previewCount() const { return count_; }  // images the edit would label
  // Makes the edit; the number labeled (0 when refused: the reason is shown).
  std::int64_t acceptNow();

 private:
  void update();

  ProjectSession* session_;
  std::vector<std::int64_t> categoryIds_;
  QString where_;
  QDoubleSpinBox* score_;
  QLabel* preview_;
  QPushButton* accept_;
  std::int64_t count_ = 0;
};

}  // namespace taxon::ui
