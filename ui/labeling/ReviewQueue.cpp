#include "labeling/ReviewQueue.hpp"

#include <QHash>

#include "common/Paths.hpp"
#include "common/ProjectSession.hpp"
#include "project/Catalog.hpp"

namespace taxon::ui {

namespace {

project::SuggestionQuery queryFor(ReviewQueue::Kind kind) {
  project::SuggestionQuery query;
  if (kind == ReviewQueue::Kind::Unlabeled) {
    query.order = project::SuggestionQuery::Order::Margin;
    query.ascending = true;  // the ones the model is least sure of first
  } else {
    query.subset = project::SuggestionQuery::Subset::Disagreements;
    query.minScore = ReviewQueue::kDisagreementScore;
  }
  return query;
}

}  // namespace

ReviewQueue::ReviewQueue(ProjectSession* session, Kind kind, QObject* parent)
    : QObject(parent), session_(session), kind_(kind) {
  reload();
}

void ReviewQueue::reload() {
  items_.clear();
  position_ = 0;
  total_ = 0;
  auto* catalog = session_->catalog();
  if (catalog == nullptr) {
    Q_EMIT currentChanged();
    return;
  }
  QHash<std::int64_t, QString> names;
  for (const auto& category : catalog->categories()) {
    names.insert(category.id, QString::fromStdString(category.path));
  }
  if (kind_ == Kind::LabelNext) {
    // The pick, in its order: small (a round of labeling), read whole.
    const auto picked = catalog->picked();
    for (const auto id : picked) {
      if (passed_.contains(id)) {
        continue;
      }
      if (const auto s = catalog->suggestion(id)) {
        addItem(*s, names);
      }
    }
    total_ = static_cast<std::int64_t>(items_.size());
    Q_EMIT currentChanged();
    return;
  }
  auto query = queryFor(kind_);
  total_ = catalog->suggestionCount(query) - passed_.size();
  // Pages until one holds images not passed yet (skipped ones stay listed in the catalog).
  query.limit = kPageSize;
  for (query.offset = 0; items_.empty(); query.offset += kPageSize) {
    const auto page = catalog->suggestions(query);
    if (page.empty()) {
      break;
    }
    for (const auto& s : page) {
      if (!passed_.contains(s.imageId)) {
        addItem(s, names);
      }
    }
  }
  Q_EMIT currentChanged();
}

void ReviewQueue::addItem(const project::Suggestion& s, const QHash<std::int64_t, QString>& names) {
  auto* catalog = session_->catalog();
  const auto image = catalog->image(s.imageId);
  if (!image) {
    return;
  }
  Item item;
  item.imageId = s.imageId;
  item.file = fromPath(catalog->resolve(image->path));
  item.label = names.value(image->categoryId);
  for (const auto& [id, score] : s.top) {
    item.top.emplace_back(names.value(id, tr("(a deleted category)")), score);
  }
  if (!s.rollup.empty()) {
    item.rollup =
        QStringLiteral("%1 %2").arg(QString::fromStdString(s.rollup)).arg(s.rollupScore, 0, 'f', 2);
  }
  items_.push_back(std::move(item));
}

const ReviewQueue::Item* ReviewQueue::current() const {
  return ahead(0);
}

const ReviewQueue::Item* ReviewQueue::ahead(int steps) const {
  const std::size_t at = position_ + static_cast<std::size_t>(steps);
  return at < items_.size() ? &items_[at] : nullptr;
}

std::int64_t ReviewQueue::remaining() const {
  return std::max<std::int64_t>(total_ - static_cast<std::int64_t>(position_), 0);
}

bool ReviewQueue::accept(int k, QString* error) {
  const Item* item = current();
  if (item == nullptr || k < 0 || k >= static_cast<int>(item->top.size())) {
    return false;
  }
  return decide(item->top[static_cast<std::size_t>(k)].first, error);
}

bool ReviewQueue::choose(const QString& categoryPath, QString* error) {
  return current() != nullptr && decide(categoryPath, error);
}

bool ReviewQueue::decide(const QString& categoryPath, QString* error) {
  const Item item = *current();
  // Keeping a disagreement's label is a decision too, but no edit.
  const bool edits = categoryPath != item.label;
  if (edits && !session_->relabel({item.imageId}, categoryPath, error)) {
    return false;
  }
  decisions_.push_back({item, edits});
  advance();
  return true;
}

void ReviewQueue::skip() {
  if (current() != nullptr) {
    advance();
  }
}

void ReviewQueue::advance() {
  passed_.insert(items_[position_].imageId);
  ++position_;
  if (position_ >= items_.size()) {
    reload();  // the next page (decided images are no longer listed, skipped ones are passed)
    return;
  }
  Q_EMIT currentChanged();
}

bool ReviewQueue::undo(QString* error) {
  if (decisions_.empty()) {
    return false;
  }
  const auto [last, edited] = decisions_.back();
  if (edited && !session_->undo(error)) {
    return false;
  }
  decisions_.pop_back();
  passed_.remove(last.imageId);
  // The image is current again, in front of the rest.
  if (position_ > 0 && position_ <= items_.size() &&
      items_[position_ - 1].imageId == last.imageId) {
    --position_;
  } else {
    items_.insert(items_.begin() + static_cast<std::ptrdiff_t>(position_), last);
    ++total_;
  }
  Q_EMIT currentChanged();
  return true;
}

}  // namespace taxon::ui
