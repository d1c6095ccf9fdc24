// The Data page on a real tiny project: the category tree and its counts, the lazy thumbnail
// grid with thumbnails made on workers and cached on disk, relabeling by the keyboard picker, by
// drag and drop and in bulk, category edits and their undo; and the models at 1,000 categories and
// 1,000,000 images.
#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QLineEdit>
#include <QListView>
#include <QMimeData>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QStyledItemDelegate>
#include <QTest>
#include <QTimer>
#include <QTreeView>

#include "UiTestProject.hpp"
#include "UiTestSupport.hpp"
#include "common/CategoryPickerDialog.hpp"
#include "common/Numbers.hpp"
#include "common/ProjectSession.hpp"
#include "common/Thumbnails.hpp"
#include "labeling/CategoryTreeModel.hpp"
#include "labeling/DataPage.hpp"
#include "labeling/ImageGridModel.hpp"

using taxon::ui::CategoryTreeModel;
using taxon::ui::DataPage;
using taxon::ui::ImageGridModel;
using taxon::ui::ProjectSession;

namespace {

QString qpath(const std::filesystem::path& path) {
  return QString::fromStdString(path.string());
}

std::int64_t countOf(ProjectSession& session, const char* path) {
  const auto category = session.catalog()->findCategory(path);
  return category ? session.catalog()->imageCount(category->id) : -1;
}

qlonglong treeCount(CategoryTreeModel* model, const QString& path, int column) {
  const QModelIndex index = model->indexOfPath(path);
  return model->index(index.row(), column, index.parent()).data().toLongLong();
}

}  // namespace

class TestDataPage : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    taxon::test::makeUiTestProject(dir_.path());
  }

  // Counts read "21,000": the views show integers through the default locale, which the app
  // gives group separators (English's where the system's is C, as under LANG=C.UTF-8).
  void countsUseThousandsSeparators() {
    const QLocale before;
    QLocale::setDefault(QLocale::c());
    taxon::ui::useReadableNumbers();
    QStyledItemDelegate delegate;
    QCOMPARE(delegate.displayText(QVariant::fromValue<qlonglong>(21000), QLocale()),
             QStringLiteral("21,000"));
    QCOMPARE(delegate.displayText(QVariant::fromValue<qlonglong>(1234567), QLocale()),
             QStringLiteral("1,234,567"));
    QCOMPARE(QStringLiteral("%L1 images").arg(qint64{70000}), QStringLiteral("70,000 images"));
    QLocale::setDefault(QLocale(QLocale::German, QLocale::Germany));
    taxon::ui::useReadableNumbers();  // a real locale keeps its own separator
    QCOMPARE(delegate.displayText(QVariant::fromValue<qlonglong>(21000), QLocale()),
             QStringLiteral("21.000"));
    QLocale::setDefault(before);
  }

  void treeShowsCountsPerSplitAndLevel() {
    ProjectSession session;
    DataPage page(&session);
    QVERIFY(session.open(qpath(dir_.path()), false));
    CategoryTreeModel* tree = page.categoryModel();
    QCOMPARE(tree->rowCount(), 3);  // Bags, Shoes, Tops
    QCOMPARE(tree->totalImages(), 48);
    QCOMPARE(treeCount(tree, QStringLiteral("Shoes"), CategoryTreeModel::kTotal), 24);
    QCOMPARE(treeCount(tree, QStringLiteral("Shoes > Sandal"), CategoryTreeModel::kTotal), 12);
    const qlonglong train = treeCount(tree, QStringLiteral("Shoes"), CategoryTreeModel::kTrain);
    const qlonglong validation =
        treeCount(tree, QStringLiteral("Shoes"), CategoryTreeModel::kValidation);
    QCOMPARE(train + validation, 24);
    QVERIFY(validation > 0);
  }

  void gridLoadsThumbnailsOnWorkersAndCachesThemOnDisk() {
    ProjectSession session;
    DataPage page(&session);
    QVERIFY(showWithProject(page, session));
    QVERIFY(page.selectCategory(QStringLiteral("Shoes")));
    ImageGridModel* grid = page.imageModel();
    QCOMPARE(grid->totalRows(), 24);
    QTRY_COMPARE(grid->rowCount(), 24);  // the view fetched the rows
    // Every thumbnail arrives from the workers.
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
          for (int row = 0; row < grid->rowCount(); ++row) {
            const QModelIndex index = grid->index(row);
            index.data(Qt::DecorationRole);  // asks for it (the view does when it paints)
            if (!page.thumbnails()->cached(index.data(ImageGridModel::kFileRole).toString())) {
              return false;
            }
          }
          return true;
        }(),
        20000);
    int cached = 0;
    QDirIterator it(qpath(dir_.path() / ".taxon-cache" / "thumbnails"), {QStringLiteral("*.png")},
                    QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
      it.next();
      ++cached;
    }
    QCOMPARE(cached, 24);
    page.gridView()->setCurrentIndex(grid->index(3));
    QTest::qWait(50);
    taxon::test::saveScreenshot(&page, QStringLiteral("data-page"));
  }

  void relabelWithTheKeyboardPickerAndUndo() {
    ProjectSession session;
    DataPage page(&session);
    QVERIFY(showWithProject(page, session));
    QVERIFY(page.selectCategory(QStringLiteral("Shoes > Sandal")));
    QTRY_COMPARE(page.imageModel()->rowCount(), 12);
    page.gridView()->selectionModel()->select(
        QItemSelection(page.imageModel()->index(0), page.imageModel()->index(2)),
        QItemSelectionModel::Select);
    // M opens the picker; typing filters, Enter chooses.
    bool picked = false;
    int shown = 0;
    taxon::test::answerCategoryPicker(
        this, QStringLiteral("sneak"), &picked, [&](taxon::ui::CategoryPickerDialog* picker) {
          shown = picker->visibleCount();
          taxon::test::saveScreenshot(picker, QStringLiteral("data-move-picker"));
        });
    page.gridView()->setFocus();
    QTest::keyClick(page.gridView(), Qt::Key_M);
    QVERIFY(picked);
    QCOMPARE(shown, 1);  // typing filters
    QCOMPARE(countOf(session, "Shoes > Sandal"), 9);
    QCOMPARE(countOf(session, "Shoes > Sneaker"), 15);
    // The tree follows and the grid shows the rest of the category.
    QCOMPARE(treeCount(page.categoryModel(), QStringLiteral("Shoes > Sandal"),
                       CategoryTreeModel::kTotal),
             9);
    QTRY_COMPARE(page.imageModel()->rowCount(), 9);
    QVERIFY(session.undo());
    QCOMPARE(countOf(session, "Shoes > Sandal"), 12);
    QTRY_COMPARE(page.imageModel()->rowCount(), 12);
  }

  void dragImagesOntoACategory() {
    ProjectSession session;
    DataPage page(&session);
    QVERIFY(session.open(qpath(dir_.path()), false));
    QVERIFY(page.selectCategory(QStringLiteral("Tops > Shirt")));
    ImageGridModel* grid = page.imageModel();
    grid->fetchMore({});
    QCOMPARE(grid->rowCount(), 12);
    // What a drag carries from the grid, dropped on "Bags" (an inner node: a new category).
    std::unique_ptr<QMimeData> mime(grid->mimeData({grid->index(0), grid->index(1)}));
    const QModelIndex bags = page.categoryModel()->indexOfPath(QStringLiteral("Bags"));
    QVERIFY(page.categoryModel()->canDropMimeData(mime.get(), Qt::MoveAction, -1, -1, bags));
    page.categoryModel()->dropMimeData(mime.get(), Qt::MoveAction, -1, -1, bags);
    QTRY_COMPARE(countOf(session, "Tops > Shirt"), 10);
    QCOMPARE(countOf(session, "Bags"), 2);
    QCOMPARE(treeCount(page.categoryModel(), QStringLiteral("Bags"), CategoryTreeModel::kTotal),
             14);
    // Bulk: everything left in the grid.
    QTRY_COMPARE(grid->rowCount(), 10);
    page.gridView()->selectAll();
    QCOMPARE(page.moveSelectedTo(QStringLiteral("Tops > T-shirt")), 10);
    QCOMPARE(countOf(session, "Tops > Shirt"), 0);
    QVERIFY(session.undo());
    QVERIFY(session.undo());
    QCOMPARE(countOf(session, "Tops > Shirt"), 12);
    QCOMPARE(countOf(session, "Bags"), 0);
  }

  // Images without a category have a node of their own, first, with counts; selecting it shows
  // them; it takes no drops; labeling one from it keeps the node selected and counts it down.
  void unlabeledImagesHaveANodeOfTheirOwn() {
    taxon::test::TempDir project;
    taxon::test::makeUiTestProject(project.path(), 6);
    taxon::test::addUnlabeledPictures(project.path(), 3);
    ProjectSession session;
    DataPage page(&session);
    page.resize(1100, 700);
    page.show();
    QVERIFY(QTest::qWaitForWindowExposed(&page));
    QVERIFY(session.open(qpath(project.path()), false));
    CategoryTreeModel* tree = page.categoryModel();
    QCOMPARE(tree->rowCount(), 4);  // Unlabeled, Bags, Shoes, Tops
    const QModelIndex unlabeled = tree->unlabeledIndex();
    QVERIFY(unlabeled.isValid());
    QCOMPARE(unlabeled.row(), 0);
    QCOMPARE(unlabeled.data().toString(), QStringLiteral("Unlabeled"));
    QVERIFY(unlabeled.data(CategoryTreeModel::kUnlabeledRole).toBool());
    QCOMPARE(tree->index(0, CategoryTreeModel::kTotal).data().toLongLong(), 12);
    QCOMPARE(tree->index(0, CategoryTreeModel::kTrain).data().toLongLong() +
                 tree->index(0, CategoryTreeModel::kValidation).data().toLongLong(),
             12);
    QCOMPARE(tree->index(0, CategoryTreeModel::kValidation).data().toLongLong(), 3);
    QCOMPARE(tree->totalImages(), 24 + 12);
    QVERIFY(!tree->indexOfPath(QString()).isValid());  // not a category path

    page.treeView()->setCurrentIndex(unlabeled);
    ImageGridModel* grid = page.imageModel();
    QCOMPARE(grid->totalRows(), 12);
    QTRY_COMPARE(grid->rowCount(), 12);
    QCOMPARE(grid->index(0).data(ImageGridModel::kCategoryRole).toString(), QString());
    std::unique_ptr<QMimeData> mime(grid->mimeData({grid->index(0)}));
    QVERIFY(!tree->canDropMimeData(mime.get(), Qt::MoveAction, -1, -1, unlabeled));
    QVERIFY(!(tree->flags(unlabeled) & Qt::ItemIsDropEnabled));
    page.gridView()->setCurrentIndex(grid->index(1));
    QTest::qWait(100);
    taxon::test::saveScreenshot(&page, QStringLiteral("data-page-unlabeled"));

    // Label two of them: the node stays selected and shows the ten left.
    page.gridView()->selectionModel()->select(QItemSelection(grid->index(0), grid->index(1)),
                                              QItemSelectionModel::ClearAndSelect);
    QCOMPARE(page.moveSelectedTo(QStringLiteral("Bags > Bag")), 2);
    QTRY_COMPARE(grid->totalRows(), 10);
    QVERIFY(page.treeView()->currentIndex().data(CategoryTreeModel::kUnlabeledRole).toBool());
    QCOMPARE(tree->index(0, CategoryTreeModel::kTotal).data().toLongLong(), 10);
    QCOMPARE(countOf(session, "Bags > Bag"), 8);
    // Undo puts them back among the unlabeled.
    QVERIFY(session.undo());
    QTRY_COMPARE(grid->totalRows(), 12);
    // Labeling them all removes the node.
    page.gridView()->selectAll();
    QTRY_COMPARE(grid->rowCount(), 12);
    page.gridView()->selectAll();
    QCOMPARE(page.moveSelectedTo(QStringLiteral("Tops > Shirt")), 12);
    QTRY_VERIFY(!tree->unlabeledIndex().isValid());
    QCOMPARE(tree->rowCount(), 3);
  }

  void createRenameMergeDeleteCategories() {
    ProjectSession session;
    DataPage page(&session);
    QVERIFY(session.open(qpath(dir_.path()), false));
    QString error;
    QVERIFY(session.createCategory(QStringLiteral("Kids > Boots"), &error));
    QVERIFY(page.categoryModel()->indexOfPath(QStringLiteral("Kids > Boots")).isValid());
    QVERIFY(!session.createCategory(QStringLiteral("Kids > Boots"), &error));
    QVERIFY(error.contains(QStringLiteral("exists")));
    const auto boots = session.catalog()->findCategory("Kids > Boots");
    QVERIFY(session.renameCategory(boots->id, QStringLiteral("Kids > Winter boots"), &error));
    QVERIFY(page.categoryModel()->indexOfPath(QStringLiteral("Kids > Winter boots")).isValid());
    QVERIFY(!page.categoryModel()->indexOfPath(QStringLiteral("Kids > Boots")).isValid());
    // Category edits undo and redo like label edits.
    QVERIFY(session.undo());
    QVERIFY(page.categoryModel()->indexOfPath(QStringLiteral("Kids > Boots")).isValid());
    QVERIFY(session.redo());
    QVERIFY(page.categoryModel()->indexOfPath(QStringLiteral("Kids > Winter boots")).isValid());
    // Merging moves the images (one undoable edit) and removes the category.
    const auto sandal = session.catalog()->findCategory("Shoes > Sandal");
    QVERIFY(session.mergeCategory(sandal->id, boots->id, &error));
    QCOMPARE(countOf(session, "Kids > Winter boots"), 12);
    QVERIFY(!page.categoryModel()->indexOfPath(QStringLiteral("Shoes > Sandal")).isValid());
    // A category with images cannot be deleted; an empty one can.
    QVERIFY(!session.deleteCategory(boots->id, &error));
    QVERIFY(session.undo());  // the merge's moves come back
    QCOMPARE(countOf(session, "Kids > Winter boots"), 0);
    QVERIFY(session.deleteCategory(boots->id, &error));
    QVERIFY(!page.categoryModel()->indexOfPath(QStringLiteral("Kids > Winter boots")).isValid());
    QVERIFY(session.undo());  // the delete
    QVERIFY(page.categoryModel()->indexOfPath(QStringLiteral("Kids > Winter boots")).isValid());
  }

  // The models at the scale of the seed's project: a million images in a thousand categories.
  void aMillionImagesInAThousandCategories() {
    taxon::test::TempDir big;
    {
      taxon::project::Catalog catalog(big.path(), true);
      std::vector<taxon::project::NewImage> images;
      images.reserve(100000);
      for (int i = 0; i < 1000000; ++i) {
        taxon::project::NewImage image;
        const int c = i % 1000;
        image.path =
            big.path() / ("images/" + std::to_string(c) + "/" + std::to_string(i) + ".jpg");
        image.hash = std::to_string(i);
        image.width = 299;
        image.height = 299;
        image.format = "JPEG";
        image.bytes = 30000;
        image.categoryPath = "Level " + std::to_string(c / 100) + " > Group " +
                             std::to_string(c / 10 % 10) + " > Leaf " + std::to_string(c);
        image.split = taxon::project::Split::Train;
        images.push_back(std::move(image));
        if (images.size() == 100000) {
          catalog.insertImages(images);
          images.clear();
        }
      }
    }
    ProjectSession session;
    DataPage page(&session);
    page.resize(1100, 700);
    page.show();
    QElapsedTimer timer;
    timer.start();
    QVERIFY(session.open(qpath(big.path()), false));
    const qint64 openMs = timer.elapsed();
    QCOMPARE(page.categoryModel()->totalImages(), 1000000);
    QCOMPARE(page.categoryModel()->rowCount(), 10);
    timer.restart();
    QVERIFY(page.selectCategory(QStringLiteral("Level 3")));  // 100 categories, 100,000 images
    QCOMPARE(page.imageModel()->totalRows(), 100000);
    QTest::qWait(100);
    const qint64 selectMs = timer.elapsed();
    // Only what the view needs was fetched.
    QVERIFY(page.imageModel()->rowCount() <= 4 * ImageGridModel::kPageSize);
    taxon::test::saveScreenshot(&page, QStringLiteral("data-page-million"));
    qInfo(
        "1,000,000 images in 1,000 categories: tree built in %lld ms, a 100,000-image subtree "
        "shown in %lld ms (%d rows fetched)",
        openMs, selectMs, page.imageModel()->rowCount());
  }

 private:
  // Shows `page` at the screenshots' size, then opens the test project in `session`.
  bool showWithProject(DataPage& page, ProjectSession& session) {
    page.resize(1100, 700);
    page.show();
    return QTest::qWaitForWindowExposed(&page) && session.open(qpath(dir_.path()), false);
  }

  taxon::test::TempDir dir_;
};

QTEST_MAIN(TestDataPage)
#include "test_DataPage.moc"
