// The images a person reviews one at a time with the model's suggestions (`taxon suggest`):
// the unlabeled ones, least sure first (smallest margin between the top two), or the
// disagreements, labeled images whose label the model contradicts with a score of at least 0.9,
// surest contradiction first, or the images active learning picked to label next
// (`taxon suggest --pick`), in the order picked. Read from the catalog a page at a time. Each
// decision is one edit through the ProjectSession (saved at once, undone by undo()). No widgets:
// ReviewDialog shows it; tests drive it directly. GUI thread only.
#pragma once

#include <QHash>
#include <QObject>
#include <QSet>
#include <QString>
#include <cstdint>
#include <utility>
#include <vector>

namespace taxon::project {
struct Suggestion;
}

namespace taxon::ui {

class ProjectSession;

class ReviewQueue : public QObject {
  Q_OBJECT

 public:
  enum class Kind { Unlabeled, Disagreements, LabelNext };

  struct Item {
    std::int64_t imageId = 0;
    QString file;
    QString label;                                // its category now; empty when unlabeled
    std::vector<std::pair<QString, double>> top;  // the suggestion, best first (up to 5)
    QString rollup;                               // "Shoes > Sneakers 0.93" or empty
  };

  static constexpr int kPageSize = 200;
  static constexpr double kDisagreementScore = 0.9;

  ReviewQueue(ProjectSession* session, Kind kind, QObject* parent = nullptr);

  Kind kind() const { return kind_; }
  // Re-reads the queue from the catalog (the images decided or skipped so far stay out).
  void reload();
  const Item* current() const;
  const Item* ahead(int steps) const;  // the item `steps` after the current one, for prefetch
  std::int64_t remaining() const;      // images still to review, the current one included
  int decided() const { return static_cast<int>(decisions_.size()); }

  // Gives the current image the k-th suggestion (0-based), or `categoryPath`; then the next one
  // is current. False (with the reason) when refused.
  bool accept(int k, QString* error = nullptr);
  bool choose(const QString& categoryPath, QString* error = nullptr);
  void skip();  // leaves the current image as it is for now
  // Undoes the latest decision (the session's undo) and makes its image current again.
  bool undo(QString* error = nullptr);

 Q_SIGNALS:
  void currentChanged();

 private:
  void advance();
  void addItem(const project::Suggestion& suggestion, const QHash<std::int64_t, QString>& names);
  bool decide(const QString& categoryPath, QString* error);

  ProjectSession* session_;
  Kind kind_;
  std::vector<Item> items_;
  std::size_t position_ = 0;
  std::int64_t total_ = 0;     // in the catalog when last read
  QSet<std::int64_t> passed_;  // decided or skipped: not listed again
  // What undo() steps back to, latest last, and whether the decision was an edit (keeping a
  // disagreement's label is not).
  std::vector<std::pair<Item, bool>> decisions_;
};

}  // namespace taxon::ui
