// The open project (ProjectSession), its jobs (ProjectJobs), the thumbnail service and the
// category picker on a real tiny project.
#include <QDir>
#include <QFile>
#include <QImage>
#include <QLineEdit>
#include <QListView>
#include <QSignalSpy>
#include <QTest>

#include "UiTestProject.hpp"
#include "UiTestSupport.hpp"
#include "common/CategoryPickerDialog.hpp"
#include "common/ProjectJobs.hpp"
#include "common/ProjectSession.hpp"
#include "common/Thumbnails.hpp"
#include "records/RecordSet.hpp"

using taxon::ui::CategoryPickerDialog;
using taxon::ui::EvalSummary;
using taxon::ui::ImportSummary;
using taxon::ui::ProjectJobs;
using taxon::ui::ProjectSession;
using taxon::ui::RecordsSummary;
using taxon::ui::ThumbnailFit;
using taxon::ui::Thumbnails;

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

  void jobsImportThenBuildRecords() {
    taxon::test::TempDir other;
    ProjectSession session;
    QVERIFY(session.open(QString::fromStdString(other.path().string()), /*create=*/true));
    ProjectJobs jobs(&session);
    QSignalSpy imported(&jobs, &ProjectJobs::importFinished);
    QSignalSpy reopened(&session, &ProjectSession::opened);
    QVERIFY(jobs.importSources({QString::fromStdString((dir_.path() / "source").string())}));
    QVERIFY(!jobs.importSources({}));  // one import at a time
    QTRY_COMPARE_WITH_TIMEOUT(imported.count(), 1, 60000);
    const auto summary = imported.front().front().value<ImportSummary>();
    QVERIFY(!summary.cancelled);
    QVERIFY2(summary.report.startsWith(QStringLiteral("48 images added, 0 already present")),
             qPrintable(summary.report));
    QCOMPARE(reopened.count(), 1);  // the pages re-read the catalog the import wrote
    QVERIFY(session.catalog()->findCategory("Shoes > Sandal").has_value());

    QVERIFY(!jobs.recordsCurrent());
    QSignalSpy built(&jobs, &ProjectJobs::recordsBuilt);
    QVERIFY(jobs.buildRecords());
    QVERIFY(jobs.isRunning(ProjectJobs::Job::Records));
    QTRY_COMPARE_WITH_TIMEOUT(built.count(), 1, 60000);
    const auto records = built.front().front().value<RecordsSummary>();
    QCOMPARE(records.recordsDir, session.recordsDir());
    QVERIFY2(records.message.endsWith(QStringLiteral(" records written (0 images skipped)")),
             qPrintable(records.message));
    QVERIFY(jobs.recordsCurrent());
    // A build stopped half-way (records::kIncompleteMarker): the next training rebuilds them.
    QFile marker(QDir(session.recordsDir()).filePath(taxon::records::kIncompleteMarker));
    QVERIFY(marker.open(QIODevice::WriteOnly));
    marker.close();
    QVERIFY(!jobs.recordsCurrent());
    QVERIFY(marker.remove());
    QVERIFY(jobs.recordsCurrent());
  }

  void jobsReportAFailedEvaluation() {
    ProjectSession session;
    QVERIFY(session.open(QString::fromStdString(dir_.path().string()), false));
    ProjectJobs jobs(&session);
    QSignalSpy failed(&jobs, &ProjectJobs::failed);
    QSignalSpy evaluated(&jobs, &ProjectJobs::evaluated);
    QVERIFY(!jobs.evaluate(QString()));
    QVERIFY(jobs.evaluate(QDir(session.runsDir()).filePath(QStringLiteral("no-such-run"))));
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 60000);
    QCOMPARE(failed.front().at(0).value<ProjectJobs::Job>(), ProjectJobs::Job::Evaluation);
    QVERIFY(!failed.front().at(1).toString().isEmpty());
    QCOMPARE(evaluated.count(), 0);
  }

  void thumbnailsFitTheirBox() {
    QImage small(28, 14, QImage::Format_RGB32);
    small.fill(Qt::red);
    const QString file = QString::fromStdString((dir_.path() / "small.png").string());
    QVERIFY(small.save(file));
    QCOMPARE(taxon::ui::decodeThumbnail(file, QSize(96, 96), ThumbnailFit::Shrink).size(),
             QSize(28, 14));
    QCOMPARE(taxon::ui::decodeThumbnail(file, QSize(96, 96), ThumbnailFit::Fit).size(),
             QSize(96, 48));
    // A whole factor (3), so every pixel of the original is a 3 x 3 block.
    QCOMPARE(taxon::ui::decodeThumbnail(file, QSize(96, 96), ThumbnailFit::PixelEnlarge).size(),
             QSize(84, 42));
    QImage large(400, 200, QImage::Format_RGB32);
    large.fill(Qt::blue);
    const QString largeFile = QString::fromStdString((dir_.path() / "large.png").string());
    QVERIFY(large.save(largeFile));
    for (const auto fit : {ThumbnailFit::Shrink, ThumbnailFit::Fit, ThumbnailFit::PixelEnlarge}) {
      QCOMPARE(taxon::ui::decodeThumbnail(largeFile, QSize(96, 96), fit).size(), QSize(96, 48));
    }
  }

  void thumbnailsAreDecodedOnWorkersAndCachedOnDisk() {
    QImage picture(64, 64, QImage::Format_RGB32);
    picture.fill(Qt::green);
    const QString file = QString::fromStdString((dir_.path() / "picture.png").string());
    QVERIFY(picture.save(file));
    const QString folder = QString::fromStdString((dir_.path() / "thumbnail-cache").string());
    Thumbnails thumbnails({QSize(32, 32), ThumbnailFit::Fit, 1024 * 1024, 1});
    thumbnails.setDiskFolder(folder);
    QSignalSpy ready(&thumbnails, &Thumbnails::ready);
    QSignalSpy failed(&thumbnails, &Thumbnails::failed);
    const QString hash = QStringLiteral("abcdef0123");
    QVERIFY(thumbnails.thumbnail(file, hash).isNull());  // scheduled, not decoded here
    QTRY_COMPARE(ready.count(), 1);
    QCOMPARE(ready.front().front().toString(), file);
    QVERIFY(thumbnails.cached(file));
    QCOMPARE(thumbnails.thumbnail(file, hash).size(), QSize(32, 32));
    QVERIFY(QFile::exists(QDir(folder).filePath(QStringLiteral("ab/abcdef0123.png"))));

    const QString missing = QString::fromStdString((dir_.path() / "missing.png").string());
    QVERIFY(thumbnails.thumbnail(missing).isNull());
    QTRY_COMPARE(failed.count(), 1);
    QVERIFY(thumbnails.unreadable(missing));
    QVERIFY(thumbnails.thumbnail(missing).isNull());  // not retried
    QCOMPARE(thumbnails.pending(), 0);
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
