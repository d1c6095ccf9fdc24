#include "inspect/DuplicatesPanel.hpp"

#include <QDir>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QIcon>
#include <QLabel>
#include <QListWidget>
#include <QPixmap>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <exception>
#include <set>

#include "common/ProjectSession.hpp"
#include "common/Thumbnails.hpp"
#include "project/Catalog.hpp"

namespace taxon::ui {

namespace {

QString lastLevel(const std::string& category) {
  return category.empty() ? DuplicatesPanel::tr("(unlabeled)")
                          : QString::fromStdString(category).section(QStringLiteral(" > "), -1);
}

}  // namespace

DuplicatesPanel::DuplicatesPanel(ProjectSession* session, Thumbnails* thumbnails, QWidget* parent)
    : QWidget(parent), session_(session), thumbnails_(thumbnails) {
  note_ = new QLabel(this);
  note_->setObjectName(QStringLiteral("duplicatesNote"));
  note_->setWordWrap(true);
  note_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  table_ = new QTableWidget(0, 5, this);
  table_->setObjectName(QStringLiteral("duplicateGroups"));
  table_->setHorizontalHeaderLabels(
      {tr("Group"), tr("Copies"), tr("Images"), tr("Splits"), tr("To resolve")});
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->verticalHeader()->hide();
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->setMinimumHeight(4 * table_->verticalHeader()->defaultSectionSize());
  members_ = new QListWidget(this);
  members_->setObjectName(QStringLiteral("duplicateMembers"));
  members_->setViewMode(QListView::IconMode);
  members_->setIconSize(thumbnails_->size());
  members_->setGridSize(QSize(thumbnails_->size().width() + 48,
                              thumbnails_->size().height() + 3 * fontMetrics().height() + 12));
  members_->setMovement(QListView::Static);
  members_->setResizeMode(QListView::Adjust);
  members_->setWordWrap(true);
  members_->setSelectionMode(QAbstractItemView::SingleSelection);
  members_->setMinimumHeight(members_->gridSize().height() + 2 * members_->frameWidth() + 4);
  takeSplit_ = new QPushButton(tr("Others take its split"), this);
  takeSplit_->setObjectName(QStringLiteral("takeSplit"));
  takeSplit_->setToolTip(
      tr("Keep the selected image as it is and move the other copies into its "
         "split: a test copy of a training image goes to training (one edit)"));
  takeCategory_ = new QPushButton(tr("Others take its category"), this);
  takeCategory_->setObjectName(QStringLiteral("takeCategory"));
  takeCategory_->setToolTip(tr("Give the other copies the selected image's category (one edit)"));
  takeBoth_ = new QPushButton(tr("Both"), this);
  takeBoth_->setObjectName(QStringLiteral("takeBoth"));
  takeBoth_->setToolTip(tr("Give the other copies the selected image's split and category"));
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(new QLabel(tr("Keep the selected image:"), this));
  buttons->addWidget(takeSplit_);
  buttons->addWidget(takeCategory_);
  buttons->addWidget(takeBoth_);
  buttons->addStretch(1);
  auto* lower = new QWidget(this);
  auto* lowerLayout = new QVBoxLayout(lower);
  lowerLayout->setContentsMargins(0, 0, 0, 0);
  lowerLayout->addWidget(members_, 1);
  lowerLayout->addLayout(buttons);
  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(table_);
  split->addWidget(lower);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(note_);
  layout->addWidget(split, 1);

  connect(table_, &QTableWidget::currentCellChanged, this, [this](int row) { showGroup(row); });
  connect(members_, &QListWidget::currentRowChanged, this, &DuplicatesPanel::updateButtons);
  connect(takeSplit_, &QPushButton::clicked, this,
          [this] { resolveSelected(similar::Resolution::Split); });
  connect(takeCategory_, &QPushButton::clicked, this,
          [this] { resolveSelected(similar::Resolution::Category); });
  connect(takeBoth_, &QPushButton::clicked, this,
          [this] { resolveSelected(similar::Resolution::SplitAndCategory); });
  connect(thumbnails_, &Thumbnails::ready, this, [this](const QString& file) {
    for (int i = 0; i < members_->count(); ++i) {
      if (members_->item(i)->data(Qt::UserRole + 1).toString() == file) {
        members_->item(i)->setIcon(QIcon(QPixmap::fromImage(thumbnails_->thumbnail(file))));
      }
    }
  });
  if (session_ != nullptr) {
    connect(session_, &ProjectSession::labelsChanged, this, &DuplicatesPanel::refresh);
    connect(session_, &ProjectSession::opened, this, &DuplicatesPanel::refresh);
    connect(session_, &ProjectSession::closed, this, &DuplicatesPanel::refresh);
  }
  load({});
}

void DuplicatesPanel::load(const QString& reportDir) {
  groups_.clear();
  shownGroup_ = -1;
  const QString csv = QDir(reportDir).filePath(QStringLiteral("duplicates.csv"));
  if (reportDir.isEmpty() || !QFileInfo::exists(csv)) {
    note_->setText(
        tr("No duplicates report beside this evaluation. `taxon duplicates PROJECT "
           "--checkpoint_dir RUN` finds the copies (exact and resized or re-encoded) and writes "
           "duplicates.csv here."));
  } else {
    try {
      groups_ = similar::readDuplicateGroups(csv.toStdString());
      note_->setText(tr("%n group(s) of copies from %1. Select a group, then the image to keep: "
                        "the others take its split, its category or both, as one edit (Undo "
                        "reverts it).",
                        nullptr, static_cast<int>(groups_.size()))
                         .arg(QDir::toNativeSeparators(csv)));
    } catch (const std::exception& e) {
      note_->setText(tr("Cannot read the duplicates report: %1").arg(QString::fromUtf8(e.what())));
    }
  }
  refresh();
}

QString DuplicatesPanel::note() const {
  return note_->text();
}

DuplicatesPanel::Current DuplicatesPanel::current(const similar::DuplicateMember& member) const {
  Current c{member.category, member.split, false};
  auto* catalog = session_ != nullptr ? session_->catalog() : nullptr;
  if (catalog == nullptr) {
    return c;
  }
  if (const auto image = catalog->image(member.imageId)) {
    c.present = true;
    c.split = image->split;
    const auto category =
        image->categoryId != 0 ? catalog->category(image->categoryId) : std::nullopt;
    c.category = category ? category->path : std::string();
  }
  return c;
}

QString DuplicatesPanel::problem(int row) const {
  std::set<project::Split> splits;
  std::set<std::string> categories;
  for (const auto& m : groups_[static_cast<std::size_t>(row)].members) {
    const auto c = current(m);
    if (c.split != project::Split::Unassigned) {
      splits.insert(c.split);
    }
    if (!c.category.empty()) {
      categories.insert(c.category);
    }
  }
  QStringList problems;
  if (splits.size() >= 2) {
    problems.append(tr("leakage"));
  }
  if (categories.size() >= 2) {
    problems.append(tr("label conflict"));
  }
  return problems.join(QStringLiteral(", "));
}

int DuplicatesPanel::unresolvedCount() const {
  int count = 0;
  for (int row = 0; row < groupCount(); ++row) {
    count += !problem(row).isEmpty();
  }
  return count;
}

void DuplicatesPanel::refresh() {
  const int keepRow = shownGroup_;
  table_->setRowCount(groupCount());
  int unresolved = 0;
  for (int row = 0; row < groupCount(); ++row) {
    const auto& group = groups_[static_cast<std::size_t>(row)];
    std::set<std::string> splitNames;
    for (const auto& m : group.members) {
      splitNames.insert(std::string(project::splitName(current(m).split)));
    }
    QStringList splits;
    for (const auto& name : splitNames) {
      splits.append(QString::fromStdString(name));
    }
    const QString issue = problem(row);
    unresolved += !issue.isEmpty();
    const QStringList cells = {QString::number(row + 1), group.exact ? tr("exact") : tr("near"),
                               QString::number(group.members.size()),
                               splits.join(QStringLiteral(", ")),
                               issue.isEmpty() ? tr("resolved") : issue};
    for (int column = 0; column < cells.size(); ++column) {
      auto* item = new QTableWidgetItem(cells[column]);
      if (column == 0 || column == 2) {
        item->setData(Qt::DisplayRole, cells[column].toInt());
      }
      table_->setItem(row, column, item);
    }
  }
  table_->resizeColumnsToContents();
  const int selectedMember = members_->currentRow();
  shownGroup_ = -1;
  showGroup(keepRow);
  if (selectedMember >= 0 && selectedMember < members_->count()) {
    members_->setCurrentRow(selectedMember);
  }
  Q_EMIT unresolvedChanged(unresolved);
}

void DuplicatesPanel::showGroup(int row) {
  if (row == shownGroup_ && row >= 0) {
    return;
  }
  members_->clear();
  shownGroup_ = row >= 0 && row < groupCount() ? row : -1;
  if (shownGroup_ >= 0) {
    for (const auto& m : groups_[static_cast<std::size_t>(shownGroup_)].members) {
      const auto c = current(m);
      const QString file = QString::fromStdString(m.path.string());
      auto* item = new QListWidgetItem(
          tr("%1\n%2 · %3")
              .arg(lastLevel(c.category),
                   QString::fromStdString(std::string(project::splitName(c.split))))
              .arg(m.distance, 0, 'f', 3),
          members_);
      item->setToolTip(
          tr("%1\n%2\nsplit %3, distance %4%5")
              .arg(QDir::toNativeSeparators(file),
                   c.category.empty() ? tr("(unlabeled)") : QString::fromStdString(c.category),
                   QString::fromStdString(std::string(project::splitName(c.split))))
              .arg(m.distance, 0, 'f', 4)
              .arg(c.present || session_ == nullptr ? QString()
                                                    : tr("\nno longer in the open project")));
      item->setData(Qt::UserRole, QVariant::fromValue<qlonglong>(m.imageId));
      item->setData(Qt::UserRole + 1, file);
      item->setTextAlignment(Qt::AlignHCenter | Qt::AlignTop);
      const QImage thumb = thumbnails_->thumbnail(file, QString::fromStdString(m.hash));
      if (!thumb.isNull()) {
        item->setIcon(QIcon(QPixmap::fromImage(thumb)));
      }
    }
    if (table_->currentRow() != shownGroup_) {
      table_->setCurrentCell(shownGroup_, 0);
    }
  }
  updateButtons();
}

bool DuplicatesPanel::resolve(int row, std::int64_t keep, similar::Resolution resolution,
                              QString* error) {
  auto* catalog = session_ != nullptr ? session_->catalog() : nullptr;
  if (catalog == nullptr || row < 0 || row >= groupCount()) {
    if (error != nullptr) {
      *error = tr("Open the project to resolve its duplicates.");
    }
    return false;
  }
  try {
    const auto changes = similar::resolutionChanges(
        *catalog, groups_[static_cast<std::size_t>(row)], keep, resolution);
    return session_->changeImages(changes, "resolve-duplicates", error);
  } catch (const std::exception& e) {
    if (error != nullptr) {
      *error = QString::fromUtf8(e.what());
    }
    return false;
  }
}

void DuplicatesPanel::resolveSelected(similar::Resolution resolution) {
  const auto* item = members_->currentItem();
  if (item == nullptr || shownGroup_ < 0) {
    return;
  }
  QString error;
  if (!resolve(shownGroup_, item->data(Qt::UserRole).toLongLong(), resolution, &error)) {
    note_->setText(tr("Not resolved: %1").arg(error));
  }
}

void DuplicatesPanel::updateButtons() {
  const bool can = session_ != nullptr && session_->isOpen() && members_->currentItem() != nullptr;
  for (auto* button : {takeSplit_, takeCategory_, takeBoth_}) {
    button->setEnabled(can);
  }
}

}  // namespace taxon::ui
