// The open project (ProjectSession) and the category picker on a real tiny project.
#include <QLineEdit>
#include <QListView>
#include <QSignalSpy>
#include <QTest>

#include "UiTestProject.hpp"
#include "UiTestSupport.hpp"
#include "common/CategoryPickerDialog.hpp"
#include "common/ProjectSession.hpp"

using taxon::ui::CategoryPickerDialog;
using taxon::ui::ProjectSession;

class TestCommon : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { taxon::test::makeUiTestProject(dir_.path()); }

  void relabelIsSavedAtOnceAndUndoes() {
    ProjectSession session;
    QSignalSpy labels(&session, &ProjectSession::labelsChanged);
    QString error;
    QVERIFY2(session.open(QString::fromStdString(dir_.path().string()), false, &error),
             qPrintable(error));
    auto* catalog = session.catalog();
    const auto sandal = catalog->findCategory("Shoes > Sandal");
    QVERIFY(sandal.has_value());
    const auto images = catalog->images(sandal->id);
    QCOMPARE(images.size(), std::size_t{12});
    QVERIFY2(
        session.relabel({images[0].id, images[1].id}, QStringLiteral("Shoes > Sneaker"), &error),
        qPrintable(error));
    QCOMPARE(labels.count(), 1);
    {
      // Another connection to the same file sees the edit: it was committed.
      taxon::project::Catalog other(dir_.path(), false);
      QCOMPARE(other.imageCount(sandal->id), std::int64_t{10});
    }
    QVERIFY(session.canUndo());
    QVERIFY(session.undo());
    QCOMPARE(catalog->imageCount(sandal->id), std::int64_t{12});
    QVERIFY(session.redo());
    QCOMPARE(catalog->imageCount(sandal->id), std::int64_t{10});
    QVERIFY(session.undo());
    QCOMPARE(labels.count(), 4);
  }

  void keysOfReportsFindTheirImages() {
    ProjectSession session;
    QVERIFY(session.open(QString::fromStdString(dir_.path().string()), false));
    const auto image = session.catalog()->images(std::nullopt, std::nullopt, 1).front();
    const auto id = session.imageIdForKey(QString::fromStdString(image.path));
    QVERIFY(id.has_value());
    QCOMPARE(*id, image.id);
    QVERIFY(QFile::exists(session.imageFile(image.id)));
    QVERIFY(!session.imageIdForKey(QStringLiteral("no/such/file.png")).has_value());
  }

  void openingSomethingElseKeepsTheProject() {
    ProjectSession session;
    QVERIFY(session.open(QString::fromStdString(dir_.path().string()), false));
    QString error;
    QVERIFY(!session.open(QStringLiteral("/nonexistent/taxon-project"), false, &error));
    QVERIFY(!error.isEmpty());
    QVERIFY(error.contains(QStringLiteral("/nonexistent/taxon-project")));
    QVERIFY(session.isOpen());
  }

  void pickerFiltersByWordsInAnyOrder() {
    const QStringList categories = {QStringLiteral("Men > Shoes > Sneakers"),
                                    QStringLiteral("Women > Shoes > Sneakers"),
                                    QStringLiteral("Women > Bags > Tote")};
    CategoryPickerDialog picker(categories, QStringLiteral("Move to"), /*allowNew=*/true);
    picker.show();
    QVERIFY(QTest::qWaitForWindowExposed(&picker));
    auto* search = picker.findChild<QLineEdit*>(QStringLiteral("categorySearch"));
    QVERIFY(search != nullptr);
    QTest::keyClicks(search, QStringLiteral("sneak wom"));
    QCOMPARE(picker.visibleCount(), 1);
    taxon::test::saveScreenshot(&picker, QStringLiteral("category-picker"));
    QTest::keyClick(search, Qt::Key_Return);
    QCOMPARE(picker.result(), int(QDialog::Accepted));
    QCOMPARE(picker.chosen(), QStringLiteral("Women > Shoes > Sneakers"));
  }

  void pickerMovesWithArrowsAndCreatesNew() {
    const QStringList categories = {QStringLiteral("A"), QStringLiteral("B")};
    CategoryPickerDialog picker(categories, QStringLiteral("Move to"), /*allowNew=*/true);
    picker.show();
    auto* search = picker.findChild<QLineEdit*>(QStringLiteral("categorySearch"));
    QTest::keyClick(search, Qt::Key_Down);
    QTest::keyClick(search, Qt::Key_Return);
    QCOMPARE(picker.chosen(), QStringLiteral("B"));

    CategoryPickerDialog another(categories, QStringLiteral("Move to"), /*allowNew=*/true);
    another.show();
    another.setSearchText(QStringLiteral("Kids > Boots"));
    QCOMPARE(another.visibleCount(), 0);
    QTest::keyClick(another.findChild<QLineEdit*>(QStringLiteral("categorySearch")),
                    Qt::Key_Return);
    QCOMPARE(another.chosen(), QStringLiteral("Kids > Boots"));
  }

 private:
  taxon::test::TempDir dir_;
};

QTEST_MAIN(TestCommon)
#include "test_Common.moc"
