// The "Similar images" panel of the Data and Inspect pages: a project image's 12 nearest other
// images of the project by a model's features (similar/Embed.hpp), from the project's most
// recently written `taxon embed` store, as thumbnails with category, split and distance; without
// a store, a line naming the command that makes one.
//
// Searched on the GUI thread: a stored vector's neighbours take milliseconds (exact search up to
// 20,000 images, the graph index beyond); the store is opened on first use and kept (loading a
// 1,000,000-image index takes 2.5 s, once). Thumbnails come from the page's Thumbnails service.
#pragma once

#include <QString>
#include <QWidget>
#include <memory>

class QLabel;
class QListWidget;

namespace taxon::similar {
class NeighbourFinder;
}

namespace taxon::ui {

class Thumbnails;

class SimilarImagesPanel : public QWidget {
  Q_OBJECT

 public:
  static constexpr int kNeighbours = 12;

  SimilarImagesPanel(Thumbnails* thumbnails, QWidget* parent = nullptr);
  ~SimilarImagesPanel() override;

  // The project searched; a change forgets the open store.
  void setProject(const QString& projectDir);
  // Shows the neighbours of the project's image `file` (empty: clears the panel).
  void showFor(const QString& file);

  QListWidget* list() const { return list_; }
  QString note() const;

 private:
  Thumbnails* thumbnails_;
  QString project_;
  QLabel* note_;
  QListWidget* list_;
  std::unique_ptr<similar::NeighbourFinder> finder_;  // of finderStore_
  QString finderStore_;
};

}  // namespace taxon::ui
