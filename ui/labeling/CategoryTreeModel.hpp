// The project's category tree for the Data page: one node per segment of the " > " paths, with
// the number of images per split in the node's whole subtree, and first, when the project has
// any, an "Unlabeled" node for the images without a category (its path is empty; it takes no
// drops). Built from one catalog query
// (countsByCategory), so it is instant at 1,000 categories; rebuilt when the session reports
// edits. Dropping images (mime type kImageIdsMime) on a node relabels them into that node's path
// through the session, which saves the edit at once. GUI thread only.
#pragma once

#include <QAbstractItemModel>
#include <QStringList>
#include <cstdint>
#include <memory>
#include <vector>

namespace taxon::ui {

class ProjectSession;

// Mime type of dragged images: their catalog ids as text, one per line.
inline constexpr const char* kImageIdsMime = "application/x-taxon-image-ids";

class CategoryTreeModel : public QAbstractItemModel {
  Q_OBJECT

 public:
  enum Column { kName, kTrain, kValidation, kTest, kTotal, kColumnCount };
  enum Role {
    kPathRole = Qt::UserRole + 1,  // QString: the node's full path
    kCategoryIdRole,               // qint64: the category with exactly this path, 0 if none
    kSubtreeIdsRole,  // QList<qint64>: categories in the subtree, this one included; for the
                      // Unlabeled node {project::kUnlabeled}
    kUnlabeledRole,   // bool: the node of the images without a category
  };

  explicit CategoryTreeModel(ProjectSession* session, QObject* parent = nullptr);
  ~CategoryTreeModel() override;

  void reload();  // re-reads the catalog (called on the session's signals)
  QModelIndex indexOfPath(const QString& path) const;
  QModelIndex unlabeledIndex() const;  // invalid when every image has a category
  std::int64_t totalImages() const;

  QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
  QModelIndex parent(const QModelIndex& child) const override;
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;
  QStringList mimeTypes() const override;
  Qt::DropActions supportedDropActions() const override;
  bool canDropMimeData(const QMimeData* data, Qt::DropAction action, int row, int column,
                       const QModelIndex& parent) const override;
  bool dropMimeData(const QMimeData* data, Qt::DropAction action, int row, int column,
                    const QModelIndex& parent) override;

 Q_SIGNALS:
  void relabelFailed(const QString& message);  // a drop the catalog refused

 private:
  struct Node {
    QString name;
    QString path;
    std::int64_t categoryId = 0;
    bool unlabeled = false;                 // the images without a category
    std::int64_t counts[4] = {0, 0, 0, 0};  // train, validation, test, total
    Node* parent = nullptr;
    int row = 0;
    std::vector<std::unique_ptr<Node>> children;
  };
  Node* nodeOf(const QModelIndex& index) const;
  static void collectIds(const Node* node, QList<qint64>& ids);

  ProjectSession* session_;
  std::unique_ptr<Node> root_;
};

}  // namespace taxon::ui
