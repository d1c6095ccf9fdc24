// The Inspect page's "Duplicates" tab: the groups of copies `taxon duplicates` found (the
// report folder's duplicates.csv), with what is wrong with each now (leakage: copies in two
// splits; a label conflict: copies in two categories), the selected group's images as thumbnails
// with category and split, and one-edit resolutions around the image kept as it is: the others
// take its split, its category, or both (ProjectSession::changeImages: one undo step). Members'
// categories and splits are read from the open project, so a resolved group says so at once.
// GUI thread.
#pragma once

#include <QString>
#include <QWidget>
#include <cstdint>
#include <vector>

#include "similar/Duplicates.hpp"

class QLabel;
class QListWidget;
class QPushButton;
class QTableWidget;

namespace taxon::ui {

class ProjectSession;
class Thumbnails;

class DuplicatesPanel : public QWidget {
  Q_OBJECT

 public:
  // `session` may be null (nothing can be resolved then); neither is owned.
  DuplicatesPanel(ProjectSession* session, Thumbnails* thumbnails, QWidget* parent = nullptr);

  // Reads REPORT_DIR/duplicates.csv when there is one; otherwise says which command makes it.
  void load(const QString& reportDir);
  int groupCount() const { return static_cast<int>(groups_.size()); }
  // Groups that still have leakage or a label conflict in the open project.
  int unresolvedCount() const;
  QString note() const;
  QTableWidget* groupsTable() const { return table_; }
  QListWidget* membersList() const { return members_; }

  // Shows group `row`'s images (as clicking its row does).
  void showGroup(int row);
  // Resolves group `row` around its member `keep` (what the buttons do with the selected image).
  bool resolve(int row, std::int64_t keep, similar::Resolution resolution,
               QString* error = nullptr);

 Q_SIGNALS:
  // The number of groups still to resolve changed (the tab's title shows it).
  void unresolvedChanged(int groups);

 private:
  struct Current {
    std::string category;
    project::Split split = project::Split::Unassigned;
    bool present = false;
  };
  Current current(const similar::DuplicateMember& member) const;
  QString problem(int row) const;  // "leakage", "label conflict", both, or "" when resolved
  void refresh();                  // the table's rows and the shown group, from the project
  void resolveSelected(similar::Resolution resolution);
  void updateButtons();

  ProjectSession* session_;
  Thumbnails* thumbnails_;
  std::vector<similar::DuplicateGroup> groups_;
  int shownGroup_ = -1;
  QLabel* note_;
  QTableWidget* table_;
  QListWidget* members_;
  QPushButton* takeSplit_;
  QPushButton* takeCategory_;
  QPushButton* takeBoth_;
};

}  // namespace taxon::ui
