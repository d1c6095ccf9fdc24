#include "labeling/CategoryTreeModel.hpp"

#include <QFont>
#include <QMetaObject>
#include <QMimeData>
#include <map>

#include "common/ProjectSession.hpp"
#include "project/Catalog.hpp"

namespace taxon::ui {

CategoryTreeModel::CategoryTreeModel(ProjectSession* session, QObject* parent)
    : QAbstractItemModel(parent), session_(session), root_(std::make_unique<Node>()) {
  connect(session_, &ProjectSession::opened, this, &CategoryTreeModel::reload);
  connect(session_, &ProjectSession::closed, this, &CategoryTreeModel::reload);
  connect(session_, &ProjectSession::labelsChanged, this, &CategoryTreeModel::reload);
  connect(session_, &ProjectSession::categoriesChanged, this, &CategoryTreeModel::reload);
  reload();
}

CategoryTreeModel::~CategoryTreeModel() = default;

void CategoryTreeModel::reload() {
  beginResetModel();
  root_ = std::make_unique<Node>();
  if (auto* catalog = session_->catalog()) {
    // The images without a category first, so that they are in sight at 1,000 categories.
    if (const auto unlabeled = catalog->imageCount(project::kUnlabeled); unlabeled > 0) {
      auto node = std::make_unique<Node>();
      node->name = tr("Unlabeled");
      node->unlabeled = true;
      node->parent = root_.get();
      const project::Split splits[3] = {project::Split::Train, project::Split::Validation,
                                        project::Split::Test};
      for (int i = 0; i < 3; ++i) {
        node->counts[i] = catalog->imageCount(project::kUnlabeled, splits[i]);
        root_->counts[i] += node->counts[i];
      }
      node->counts[3] = unlabeled;
      root_->counts[3] += unlabeled;
      root_->children.push_back(std::move(node));
    }
    // Paths sorted, so a parent segment is always met before its children.
    std::map<QString, Node*> byPath;
    for (const auto& row : catalog->countsByCategory()) {
      const QString path = QString::fromStdString(row.path);
      const QStringList parts = path.split(QStringLiteral(" > "));
      Node* node = root_.get();
      QString prefix;
      for (const QString& part : parts) {
        prefix = prefix.isEmpty() ? part : prefix + QStringLiteral(" > ") + part;
        auto found = byPath.find(prefix);
        if (found == byPath.end()) {
          auto child = std::make_unique<Node>();
          child->name = part;
          child->path = prefix;
          child->parent = node;
          child->row = static_cast<int>(node->children.size());
          found = byPath.emplace(prefix, child.get()).first;
          node->children.push_back(std::move(child));
        }
        node = found->second;
      }
      node->categoryId = row.categoryId;
      const std::int64_t counts[4] = {row.train, row.validation, row.test, row.total()};
      for (Node* up = node; up != nullptr; up = up->parent) {
        for (int i = 0; i < 4; ++i) {
          up->counts[i] += counts[i];
        }
      }
    }
  }
  endResetModel();
}

QModelIndex CategoryTreeModel::indexOfPath(const QString& path) const {
  const Node* node = root_.get();
  QString prefix;
  for (const QString& part : path.split(QStringLiteral(" > "))) {
    prefix = prefix.isEmpty() ? part : prefix + QStringLiteral(" > ") + part;
    const Node* next = nullptr;
    for (const auto& child : node->children) {
      if (child->path == prefix && !child->unlabeled) {
        next = child.get();
        break;
      }
    }
    if (next == nullptr) {
      return {};
    }
    node = next;
  }
  return node == root_.get() ? QModelIndex() : createIndex(node->row, 0, const_cast<Node*>(node));
}

QModelIndex CategoryTreeModel::unlabeledIndex() const {
  if (root_->children.empty() || !root_->children.front()->unlabeled) {
    return {};
  }
  return createIndex(0, 0, root_->children.front().get());
}

std::int64_t CategoryTreeModel::totalImages() const {
  return root_->counts[3];
}

CategoryTreeModel::Node* CategoryTreeModel::nodeOf(const QModelIndex& index) const {
  return index.isValid() ? static_cast<Node*>(index.internalPointer()) : root_.get();
}

QModelIndex CategoryTreeModel::index(int row, int column, const QModelIndex& parent) const {
  const Node* node = nodeOf(parent);
  if (row < 0 || column < 0 || column >= kColumnCount ||
      row >= static_cast<int>(node->children.size())) {
    return {};
  }
  return createIndex(row, column, node->children[static_cast<std::size_t>(row)].get());
}

QModelIndex CategoryTreeModel::parent(const QModelIndex& child) const {
  if (!child.isValid()) {
    return {};
  }
  const Node* up = nodeOf(child)->parent;
  if (up == nullptr || up == root_.get()) {
    return {};
  }
  return createIndex(up->row, 0, const_cast<Node*>(up));
}

int CategoryTreeModel::rowCount(const QModelIndex& parent) const {
  if (parent.isValid() && parent.column() != 0) {
    return 0;
  }
  return static_cast<int>(nodeOf(parent)->children.size());
}

int CategoryTreeModel::columnCount(const QModelIndex&) const {
  return kColumnCount;
}

void CategoryTreeModel::collectIds(const Node* node, QList<qint64>& ids) {
  if (node->unlabeled) {
    ids.push_back(project::kUnlabeled);
  } else if (node->categoryId != 0) {
    ids.push_back(node->categoryId);
  }
  for (const auto& child : node->children) {
    collectIds(child.get(), ids);
  }
}

QVariant CategoryTreeModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid()) {
    return {};
  }
  const Node* node = nodeOf(index);
  switch (role) {
    case Qt::DisplayRole:
      if (index.column() == kName) {
        return node->name;
      }
      return QVariant::fromValue<qlonglong>(node->counts[index.column() - 1]);
    case Qt::TextAlignmentRole:
      return index.column() == kName ? QVariant() : QVariant(Qt::AlignRight | Qt::AlignVCenter);
    case Qt::FontRole:
      if (node->unlabeled && index.column() == kName) {
        QFont font;
        font.setItalic(true);
        return font;
      }
      return {};
    case Qt::ToolTipRole:
      return tr("%1\n%L2 images: %L3 train, %L4 validation, %L5 test")
          .arg(node->unlabeled ? tr("Images without a category: left out of records and training "
                                    "until they are labeled")
                               : node->path)
          .arg(node->counts[3])
          .arg(node->counts[0])
          .arg(node->counts[1])
          .arg(node->counts[2]);
    case kPathRole:
      return node->path;
    case kCategoryIdRole:
      return QVariant::fromValue<qint64>(node->categoryId);
    case kUnlabeledRole:
      return node->unlabeled;
    case kSubtreeIdsRole: {
      QList<qint64> ids;
      collectIds(node, ids);
      return QVariant::fromValue(ids);
    }
    default:
      return {};
  }
}

QVariant CategoryTreeModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) {
    return {};
  }
  switch (section) {
    case kName:
      return tr("Category");
    case kTrain:
      return tr("Train");
    case kValidation:
      return tr("Validation");
    case kTest:
      return tr("Test");
    case kTotal:
      return tr("Total");
    default:
      return {};
  }
}

Qt::ItemFlags CategoryTreeModel::flags(const QModelIndex& index) const {
  if (!index.isValid()) {
    return Qt::NoItemFlags;
  }
  // Images are labeled by dropping them on a category; the Unlabeled node is not one.
  return nodeOf(index)->unlabeled
             ? Qt::ItemIsEnabled | Qt::ItemIsSelectable
             : Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsDropEnabled;
}

QStringList CategoryTreeModel::mimeTypes() const {
  return {QString::fromLatin1(kImageIdsMime)};
}

Qt::DropActions CategoryTreeModel::supportedDropActions() const {
  return Qt::MoveAction | Qt::CopyAction;
}

bool CategoryTreeModel::canDropMimeData(const QMimeData* data, Qt::DropAction, int, int,
                                        const QModelIndex& parent) const {
  return parent.isValid() && !nodeOf(parent)->unlabeled && data != nullptr &&
         data->hasFormat(QString::fromLatin1(kImageIdsMime));
}

bool CategoryTreeModel::dropMimeData(const QMimeData* data, Qt::DropAction action, int row,
                                     int column, const QModelIndex& parent) {
  if (!canDropMimeData(data, action, row, column, parent)) {
    return false;
  }
  std::vector<std::int64_t> ids;
  const QString text = QString::fromLatin1(data->data(QString::fromLatin1(kImageIdsMime)));
  for (const QString& line : text.split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
    bool ok = false;
    const qint64 id = line.toLongLong(&ok);
    if (ok) {
      ids.push_back(id);
    }
  }
  if (ids.empty()) {
    return false;
  }
  // Relabel after the view's drop handling has finished: the edit resets this model. The view
  // is told that nothing was inserted (false), so it removes nothing at the source either.
  const QString path = nodeOf(parent)->path;
  QMetaObject::invokeMethod(
      this,
      [this, ids, path] {
        QString error;
        if (!session_->relabel(ids, path, &error)) {
          Q_EMIT relabelFailed(error);
        }
      },
      Qt::QueuedConnection);
  return false;
}

}  // namespace taxon::ui
