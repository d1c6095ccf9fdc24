#include "labeling/AcceptDialog.hpp"

#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

#include "common/ProjectSession.hpp"
#include "project/Catalog.hpp"

namespace taxon::ui {

AcceptDialog::AcceptDialog(ProjectSession* session, std::vector<std::int64_t> categoryIds,
                           const QString& where, QWidget* parent)
    : QDialog(parent), session_(session), categoryIds_(std::move(categoryIds)), where_(where) {
  setWindowTitle(tr("Accept suggestions"));
  score_ = new QDoubleSpinBox(this);
  score_->setObjectName(QStringLiteral("minScore"));
  score_->setRange(0.0, 1.0);
  score_->setDecimals(2);
  score_->setSingleStep(0.01);
  score_->setValue(0.95);
  preview_ = new QLabel(this);
  preview_->setObjectName(QStringLiteral("acceptPreview"));
  preview_->setWordWrap(true);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
  accept_ = buttons->addButton(tr("Accept"), QDialogButtonBox::AcceptRole);
  auto* form = new QFormLayout;
  form->addRow(tr("Top suggestion's score at least:"), score_);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(preview_);
  layout->addWidget(buttons);
  connect(score_, &QDoubleSpinBox::valueChanged, this, &AcceptDialog::update);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(accept_, &QPushButton::clicked, this, [this] {
    if (acceptNow() > 0) {
      QDialog::accept();
    }
  });
  update();
}

void AcceptDialog::setMinScore(double score) {
  score_->setValue(score);
}

void AcceptDialog::update() {
  count_ = 0;
  if (auto* catalog = session_->catalog()) {
    project::SuggestionQuery query;
    query.minScore = score_->value();
    query.categoryIds = categoryIds_;
    count_ = catalog->suggestionCount(query);
  }
  preview_->setText(tr("%n unlabeled image(s)%1 will get their top suggestion, as one edit "
                       "(Edit > Undo reverts it).",
                       nullptr, static_cast<int>(count_))
                        .arg(where_.isEmpty() ? QString() : tr(" suggested for %1").arg(where_)));
  accept_->setText(tr("Accept %L1").arg(count_));
  accept_->setEnabled(count_ > 0);
}

std::int64_t AcceptDialog::acceptNow() {
  project::SuggestionQuery query;
  query.minScore = score_->value();
  query.categoryIds = categoryIds_;
  QString error;
  const auto labeled = session_->acceptSuggestions(query, &error);
  if (labeled == 0) {
    preview_->setText(error.isEmpty() ? tr("Nothing to accept.") : error);
  }
  return labeled;
}

}  // namespace taxon::ui
