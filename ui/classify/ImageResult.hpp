// What the Classify page shows for one image: small value types that travel from the classify
// worker thread to the GUI thread in queued calls (no engine or torch types).
#pragma once

#include <QByteArray>
#include <QImage>
#include <QList>
#include <QString>

namespace taxon::ui {

struct CategoryScore {
  QString name;        // the full category path, "Women > Shoes > Sneakers"
  double score = 0.0;  // softmax probability, 0..1
};

// One of the project's images most like a classified one (similar/Embed.hpp).
struct SimilarEntry {
  QString path;
  QString category;  // "" when unlabeled
  QString split;     // "train", "validation", "test", "unassigned"
  double distance = 0.0;
  QImage thumbnail;  // small; null when unreadable
};

struct ImageResult {
  QString path;      // the file, or a name such as "Pasted image 1" for clipboard data
  QImage thumbnail;  // at most ClassifyJob::kThumbnailSide pixels a side; null when unreadable
  QList<CategoryScore> top;  // best first; empty when the image failed
  QString error;             // why it could not be classified, naming the file; empty when it was
  // With a project set: its nearest images under the model, nearest first, or why there are none
  // (no embeddings for this checkpoint yet, naming the command that makes them).
  QList<SimilarEntry> similar;
  QString similarNote;
  // The checkpoint file that classified it, and for clipboard data its encoded bytes: what the
  // page's "why" explains it with.
  QString checkpoint;
  QByteArray bytes;
};

}  // namespace taxon::ui
