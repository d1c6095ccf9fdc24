#include "common/CategoryPickerDialog.hpp"

#include <QCoreApplication>
#include <QDialogButtonBox>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QRegularExpression>
#include <QSortFilterProxyModel>
#include <QStringListModel>
#include <QVBoxLayout>

namespace taxon::ui {

CategoryPickerDialog::CategoryPickerDialog(const QStringList& categories, const QString& title,
                                           bool allowNew, QWidget* parent)
    : QDialog(parent), allowNew_(allowNew) {
  setWindowTitle(title);
  model_ = new QStringListModel(categories, this);
  proxy_ = new QSortFilterProxyModel(this);
  proxy_->setSourceModel(model_);
  proxy_->setFilterCaseSensitivity(Qt::CaseInsensitive);

  search_ = new QLineEdit(this);
  search_->setObjectName(QStringLiteral("categorySearch"));
  search_->setPlaceholderText(tr("Type to search categories"));
  search_->setClearButtonEnabled(true);
  search_->installEventFilter(this);
  list_ = new QListView(this);
  list_->setObjectName(QStringLiteral("categoryList"));
  list_->setModel(proxy_);
  list_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  list_->setUniformItemSizes(true);  // fast at thousands of categories
  hint_ = new QLabel(this);
  hint_->setWordWrap(true);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(search_);
  layout->addWidget(list_, 1);
  layout->addWidget(hint_);
  layout->addWidget(buttons);

  connect(search_, &QLineEdit::textChanged, this, &CategoryPickerDialog::applyFilter);
  connect(search_, &QLineEdit::returnPressed, this, &CategoryPickerDialog::acceptCurrent);
  connect(list_, &QListView::activated, this, &CategoryPickerDialog::acceptCurrent);
  connect(buttons, &QDialogButtonBox::accepted, this, &CategoryPickerDialog::acceptCurrent);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  applyFilter(QString());
  resize(460, 420);
}

void CategoryPickerDialog::setSearchText(const QString& text) {
  search_->setText(text);
}

int CategoryPickerDialog::visibleCount() const {
  return proxy_->rowCount();
}

void CategoryPickerDialog::applyFilter(const QString& text) {
  // Every word must appear somewhere in the path, in any order: "sneak wom" finds
  // "Women > Shoes > Sneakers".
  QString pattern;
  for (const QString& word :
       text.split(QRegularExpression(QStringLiteral("\\s+")), Qt::SkipEmptyParts)) {
    pattern += QStringLiteral("(?=.*%1)").arg(QRegularExpression::escape(word));
  }
  proxy_->setFilterRegularExpression(
      QRegularExpression(pattern, QRegularExpression::CaseInsensitiveOption));
  if (proxy_->rowCount() > 0) {
    list_->setCurrentIndex(proxy_->index(0, 0));
  }
  const bool typedNew = allowNew_ && proxy_->rowCount() == 0 && !text.trimmed().isEmpty();
  hint_->setText(typedNew ? tr("Enter creates the new category \"%1\".").arg(text.trimmed())
                          : tr("%n categor(ies). Up/Down to move, Enter to choose.", nullptr,
                               proxy_->rowCount()));
}

void CategoryPickerDialog::acceptCurrent() {
  const QModelIndex current = list_->currentIndex();
  if (current.isValid()) {
    chosen_ = current.data().toString();
  } else if (allowNew_ && !search_->text().trimmed().isEmpty()) {
    chosen_ = search_->text().trimmed();
  } else {
    return;
  }
  accept();
}

bool CategoryPickerDialog::eventFilter(QObject* watched, QEvent* event) {
  // Up, Down, Page Up and Page Down in the search field move through the list.
  if (watched == search_ && event->type() == QEvent::KeyPress) {
    const auto* key = static_cast<QKeyEvent*>(event);
    switch (key->key()) {
      case Qt::Key_Up:
      case Qt::Key_Down:
      case Qt::Key_PageUp:
      case Qt::Key_PageDown: {
        QKeyEvent copy(key->type(), key->key(), key->modifiers(), key->text());
        QCoreApplication::sendEvent(list_, &copy);
        return true;
      }
      default:
        break;
    }
  }
  return QDialog::eventFilter(watched, event);
}

std::optional<QString> CategoryPickerDialog::pick(QWidget* parent, const QStringList& categories,
                                                  const QString& title, bool allowNew) {
  CategoryPickerDialog dialog(categories, title, allowNew, parent);
  if (dialog.exec() != QDialog::Accepted) {
    return std::nullopt;
  }
  return dialog.chosen();
}

}  // namespace taxon::ui
