// The project open in the app: its folder and its catalog (taxon.sqlite), shared by every page.
// Lives on the GUI thread and must only be used there; engine jobs on worker threads open their
// own Catalog on the same file (SQLite handles the locking). Every label and category edit goes
// through this object, which saves it at once (the catalog commits before returning) and tells
// the pages through labelsChanged()/categoriesChanged().
#pragma once

#include <QObject>
#include <QString>
#include <QStringList>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace taxon::project {
class Catalog;
struct ImageChange;
struct SuggestionQuery;
}  // namespace taxon::project

namespace taxon::ui {

class ProjectSession : public QObject {
  Q_OBJECT

 public:
  explicit ProjectSession(QObject* parent = nullptr);
  ~ProjectSession() override;

  // Opens (or with `create`, creates) the project in `dir`. On failure returns false, puts a
  // sentence naming the folder in `error`, and keeps the project that was open.
  bool open(const QString& dir, bool create, QString* error = nullptr);
  void close();
  bool isOpen() const { return catalog_ != nullptr; }
  QString projectDir() const { return dir_; }
  QString recordsDir() const;  // PROJECT/records, where build-records writes shards
  QString runsDir() const;     // PROJECT/runs, one train dir per run
  // Every run of the project: PROJECT/runs/NAME by name, then PROJECT/train (where `taxon demo`
  // trains) when it holds a run. Empty when no project is open.
  QStringList runDirs() const;

  // The catalog; null when no project is open. GUI thread only.
  project::Catalog* catalog() const { return catalog_.get(); }

  // Category paths sorted, for pickers.
  QStringList categoryPaths() const;
  // The catalog image id of a key as written in eval reports and record files (the path as the
  // catalog stores it, or an absolute path); empty when the catalog has no such image.
  std::optional<std::int64_t> imageIdForKey(const QString& key) const;
  // An image's file on disk.
  QString imageFile(std::int64_t imageId) const;

  // --- edits: each is saved at once and is one undo step; false + `error` when refused ---
  bool relabel(const std::vector<std::int64_t>& imageIds, const QString& categoryPath,
               QString* error = nullptr);
  // New categories and/or splits for some images, as one edit of `kind` (Catalog::changeImages).
  bool changeImages(const std::vector<project::ImageChange>& changes, const std::string& kind,
                    QString* error = nullptr);
  // Gives every image `query` lists its top suggestion, as one edit; the number of images
  // labeled (0 when none or refused).
  std::int64_t acceptSuggestions(const project::SuggestionQuery& query, QString* error = nullptr);
  bool createCategory(const QString& path, QString* error = nullptr);
  bool renameCategory(std::int64_t id, const QString& newPath, QString* error = nullptr);
  bool mergeCategory(std::int64_t from, std::int64_t into, QString* error = nullptr);
  bool deleteCategory(std::int64_t id, QString* error = nullptr);
  bool canUndo() const;
  bool canRedo() const;
  // Undo and redo label and category edits; false when there is nothing to replay or the
  // catalog refused (the reason in `error` and editRefused()).
  bool undo(QString* error = nullptr);
  bool redo(QString* error = nullptr);

 Q_SIGNALS:
  void opened(const QString& dir);
  void closed();
  void labelsChanged();      // images moved between categories (relabel, merge, undo, redo)
  void categoriesChanged();  // categories created, renamed, merged or deleted
  void undoStateChanged(bool canUndo, bool canRedo);
  void editRefused(const QString& reason);

 private:
  void afterEdit(bool labels, bool categories);
  bool replay(bool forward, QString* error);

  QString dir_;
  std::unique_ptr<project::Catalog> catalog_;
};

}  // namespace taxon::ui
