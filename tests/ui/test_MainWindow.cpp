#include <QLabel>
#include <QTest>

#include "MainWindow.hpp"
#include "UiTestSupport.hpp"

class TestMainWindow : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void showsTheProjectAndTheRuntime() {
    taxon::ui::MainWindow window(QStringLiteral("/tmp/テスト project"));
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    auto* project = window.findChild<QLabel*>(QStringLiteral("projectLabel"));
    QVERIFY(project != nullptr);
    QVERIFY(project->text().contains(QStringLiteral("テスト project")));
    QVERIFY(window.windowTitle().contains(QStringLiteral("テスト project")));
    QVERIFY(window.runtimeSummary().contains(QStringLiteral("LibTorch")));
    taxon::test::saveScreenshot(&window, QStringLiteral("main-window"));
  }
};

QTEST_MAIN(TestMainWindow)
#include "test_MainWindow.moc"
