// The images of the selected categories for the Data page's thumbnail grid, or the images the
// model suggested for them (Catalog::suggestions: sorted by score, margin or entropy, filtered by
// score); an image with a suggestion shows it under its name. Rows are fetched
// from the catalog lazily, a page at a time (canFetchMore/fetchMore), so a category of a million
// images costs nothing until it is scrolled; decorations come from the Thumbnails service. Dragging
// rows carries their image ids (kImageIdsMime) to the category tree. GUI thread only.
#pragma once

#include <QAbstractListModel>
#include <QHash>
#include <QList>
#include <QPixmap>
#include <cstdint>
#include <optional>
#include <vector>

#include "project/Catalog.hpp"

namespace taxon::ui {

class ProjectSession;
class Thumbnails;

class ImageGridModel : public QAbstractListModel {
  Q_OBJECT

 public:
  enum Role {
    kImageIdRole = Qt::UserRole + 1,  // qint64
    kFileRole,                        // QString: the file on disk
    kCategoryRole,                    // QString: the category path
    kSplitRole,                       // QString: train, validation, test or unassigned
    kDetailsRole,                     // QString: size, format, bytes, source
    kSuggestionRole,                  // QString: "Shoes > Sandal 0.93", empty without one
  };
  static constexpr int kPageSize = 256;

  ImageGridModel(ProjectSession* session, Thumbnails* thumbnails, QObject* parent = nullptr);

  // Shows the images of these categories (in this order), optionally of one split.
  void setCategories(const QList<qint64>& categoryIds,
                     std::optional<project::Split> split = std::nullopt);
  // Shows the images `query` lists (its limit and offset are the model's own), in its order.
  void setSuggested(const project::SuggestionQuery& query);
  void refresh();                 // re-reads the catalog, keeping the filter
  std::int64_t totalRows() const  // rows once everything is fetched
  {
    return total_;
  }
  std::vector<std::int64_t> imageIds(const QModelIndexList& indexes) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;
  bool canFetchMore(const QModelIndex& parent) const override;
  void fetchMore(const QModelIndex& parent) override;
  QStringList mimeTypes() const override;
  QMimeData* mimeData(const QModelIndexList& indexes) const override;
  Qt::DropActions supportedDragActions() const override;

 private:
  struct Segment {
    std::int64_t categoryId = 0;
    std::int64_t count = 0;
    std::int64_t fetched = 0;
  };
  void thumbnailReady(const QString& file);
  void addRows(std::vector<project::ImageRecord> page);

  ProjectSession* session_;
  Thumbnails* thumbnails_;
  QList<qint64> categoryIds_;
  std::optional<project::Split> split_;
  std::vector<Segment> segments_;
  std::vector<project::ImageRecord> rows_;
  QHash<QString, int> rowOfFile_;  // the row showing each image file, for its thumbnail
  QHash<std::int64_t, QString> categoryNames_;
  std::optional<project::SuggestionQuery> suggested_;  // set: the rows are these suggestions
  QHash<std::int64_t, QString> suggestionText_;        // by image id
  std::int64_t total_ = 0;
  QPixmap placeholder_;  // shown until a thumbnail arrives
  QPixmap unreadable_;
};

}  // namespace taxon::ui
