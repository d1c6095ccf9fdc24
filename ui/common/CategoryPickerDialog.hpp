// A keyboard-driven category picker: type to filter (every word must appear in the path, any
// case), Up/Down to move, Enter to choose, Escape to cancel. A typed path that matches no
// category can be chosen as a new category when allowNew is set.
#pragma once

#include <QDialog>
#include <QString>
#include <QStringList>
#include <optional>

class QLineEdit;
class QListView;
class QLabel;
class QSortFilterProxyModel;
class QStringListModel;

namespace taxon::ui {

class CategoryPickerDialog : public QDialog {
  Q_OBJECT

 public:
  CategoryPickerDialog(const QStringList& categories, const QString& title, bool allowNew,
                       QWidget* parent = nullptr);

  // The chosen category path (after exec() returned Accepted).
  QString chosen() const { return chosen_; }
  // Types `text` into the search field (for tests and for starting from a typed key).
  void setSearchText(const QString& text);
  int visibleCount() const;

  // Opens the dialog and returns the chosen path, or nothing when cancelled.
  static std::optional<QString> pick(QWidget* parent, const QStringList& categories,
                                     const QString& title, bool allowNew = false);

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void applyFilter(const QString& text);
  void acceptCurrent();

  QStringListModel* model_ = nullptr;
  QSortFilterProxyModel* proxy_ = nullptr;
  QLineEdit* search_ = nullptr;
  QListView* list_ = nullptr;
  QLabel* hint_ = nullptr;
  bool allowNew_ = false;
  QString chosen_;
};

}  // namespace taxon::ui
