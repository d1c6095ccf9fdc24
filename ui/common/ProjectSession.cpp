#include "common/ProjectSession.hpp"

#include <QDir>
#include <QFileInfo>
#include <exception>

#include "common/Paths.hpp"
#include "project/Catalog.hpp"
#include "project/ProjectLayout.hpp"

namespace taxon::ui {
namespace {

void setError(QString* error, const QString& text) {
  if (error != nullptr) {
    *error = text;
  }
}

}  // namespace

ProjectSession::ProjectSession(QObject* parent) : QObject(parent) {}

ProjectSession::~ProjectSession() = default;

bool ProjectSession::open(const QString& dir, bool create, QString* error) {
  try {
    auto catalog = std::make_unique<project::Catalog>(toPath(dir), create);
    catalog_ = std::move(catalog);
    dir_ = QFileInfo(dir).absoluteFilePath();
  } catch (const std::exception& e) {
    setError(error, QString::fromUtf8(e.what()));
    return false;
  }
  Q_EMIT opened(dir_);
  Q_EMIT undoStateChanged(canUndo(), canRedo());
  return true;
}

void ProjectSession::close() {
  if (!catalog_) {
    return;
  }
  catalog_.reset();
  dir_.clear();
  Q_EMIT closed();
  Q_EMIT undoStateChanged(false, false);
}

QString ProjectSession::recordsDir() const {
  return dir_.isEmpty() ? QString() : fromPath(project::ProjectLayout(toPath(dir_)).recordsDir());
}

QString ProjectSession::runsDir() const {
  return dir_.isEmpty() ? QString() : fromPath(project::ProjectLayout(toPath(dir_)).runsDir());
}

QStringList ProjectSession::runDirs() const {
  QStringList dirs;
  if (dir_.isEmpty()) {
    return dirs;
  }
  for (const auto& dir : project::ProjectLayout(toPath(dir_)).runDirs()) {
    dirs.push_back(fromPath(dir));
  }
  return dirs;
}

QStringList ProjectSession::categoryPaths() const {
  QStringList paths;
  if (!catalog_) {
    return paths;
  }
  for (const auto& category : catalog_->categories()) {
    paths.push_back(QString::fromStdString(category.path));
  }
  return paths;
}

std::optional<std::int64_t> ProjectSession::imageIdForKey(const QString& key) const {
  if (!catalog_ || key.isEmpty()) {
    return std::nullopt;
  }
  try {
    // Relative keys are relative to the project folder (resolve), not to the working folder.
    if (auto image = catalog_->imageByPath(catalog_->resolve(key.toStdString()))) {
      return image->id;
    }
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return std::nullopt;
}

QString ProjectSession::imageFile(std::int64_t imageId) const {
  if (!catalog_) {
    return {};
  }
  const auto image = catalog_->image(imageId);
  return image ? fromPath(catalog_->resolve(image->path)) : QString();
}

bool ProjectSession::relabel(const std::vector<std::int64_t>& imageIds, const QString& categoryPath,
                             QString* error) {
  if (!catalog_) {
    setError(error, tr("No project is open."));
    return false;
  }
  try {
    const bool newCategory = !catalog_->findCategory(categoryPath.toStdString()).has_value();
    const std::int64_t category = catalog_->ensureCategory(categoryPath.toStdString());
    const std::int64_t edit = catalog_->relabel(imageIds, category);
    afterEdit(edit != 0, newCategory);
  } catch (const std::exception& e) {
    setError(error, QString::fromUtf8(e.what()));
    return false;
  }
  return true;
}

bool ProjectSession::changeImages(const std::vector<project::ImageChange>& changes,
                                  const std::string& kind, QString* error) {
  if (!catalog_) {
    setError(error, tr("No project is open."));
    return false;
  }
  try {
    const std::int64_t edit = catalog_->changeImages(changes, kind);
    afterEdit(edit != 0, false);
  } catch (const std::exception& e) {
    setError(error, QString::fromUtf8(e.what()));
    return false;
  }
  return true;
}

std::int64_t ProjectSession::acceptSuggestions(const project::SuggestionQuery& query,
                                               QString* error) {
  if (!catalog_) {
    setError(error, tr("No project is open."));
    return 0;
  }
  try {
    const std::int64_t count = catalog_->suggestionCount(query);
    const std::int64_t edit = catalog_->acceptSuggestions(query);
    afterEdit(edit != 0, false);
    return edit != 0 ? count : 0;
  } catch (const std::exception& e) {
    setError(error, QString::fromUtf8(e.what()));
    return 0;
  }
}

bool ProjectSession::createCategory(const QString& path, QString* error) {
  if (!catalog_) {
    setError(error, tr("No project is open."));
    return false;
  }
  try {
    catalog_->createCategory(path.toStdString());
    afterEdit(false, true);
  } catch (const std::exception& e) {
    setError(error, QString::fromUtf8(e.what()));
    return false;
  }
  return true;
}

bool ProjectSession::renameCategory(std::int64_t id, const QString& newPath, QString* error) {
  if (!catalog_) {
    setError(error, tr("No project is open."));
    return false;
  }
  try {
    catalog_->renameCategory(id, newPath.toStdString());
    afterEdit(false, true);
  } catch (const std::exception& e) {
    setError(error, QString::fromUtf8(e.what()));
    return false;
  }
  return true;
}

bool ProjectSession::mergeCategory(std::int64_t from, std::int64_t into, QString* error) {
  if (!catalog_) {
    setError(error, tr("No project is open."));
    return false;
  }
  try {
    catalog_->mergeCategories(from, into);
    afterEdit(true, true);
  } catch (const std::exception& e) {
    setError(error, QString::fromUtf8(e.what()));
    return false;
  }
  return true;
}

bool ProjectSession::deleteCategory(std::int64_t id, QString* error) {
  if (!catalog_) {
    setError(error, tr("No project is open."));
    return false;
  }
  try {
    catalog_->deleteCategory(id);
    afterEdit(false, true);
  } catch (const std::exception& e) {
    setError(error, QString::fromUtf8(e.what()));
    return false;
  }
  return true;
}

bool ProjectSession::canUndo() const {
  return catalog_ && catalog_->canUndo();
}

bool ProjectSession::canRedo() const {
  return catalog_ && catalog_->canRedo();
}

bool ProjectSession::undo(QString* error) {
  return replay(/*forward=*/false, error);
}

bool ProjectSession::redo(QString* error) {
  return replay(/*forward=*/true, error);
}

bool ProjectSession::replay(bool forward, QString* error) {
  if (!catalog_) {
    return false;
  }
  try {
    if (!(forward ? catalog_->redo() : catalog_->undo())) {
      return false;
    }
  } catch (const std::exception& e) {
    setError(error, QString::fromUtf8(e.what()));
    Q_EMIT editRefused(QString::fromUtf8(e.what()));
    return false;
  }
  afterEdit(true, true);
  return true;
}

void ProjectSession::afterEdit(bool labels, bool categories) {
  if (categories) {
    Q_EMIT categoriesChanged();
  }
  if (labels) {
    Q_EMIT labelsChanged();
  }
  Q_EMIT undoStateChanged(canUndo(), canRedo());
}

}  // namespace taxon::ui
