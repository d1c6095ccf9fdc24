#include "TerminalProgress.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace taxon::app {
namespace {

TEST(TerminalProgress, FormatsABarWithCountsRateAndEta) {
  const core::Progress p{"import", 52, 100, "images"};
  const std::string line = TerminalProgress::formatLine(p, 812.0, 5.0, 80);
  EXPECT_NE(line.find("import ["), std::string::npos) << line;
  EXPECT_NE(line.find(" 52% 52/100 images 812/s ETA 0:05"), std::string::npos) << line;
  EXPECT_LE(line.size(), 80u) << line;
  const auto bar = line.substr(line.find('[') + 1, line.find(']') - line.find('[') - 1);
  // About half the bar is filled and the head is drawn.
  EXPECT_NEAR(static_cast<double>(bar.find('>')) / static_cast<double>(bar.size()), 0.52, 0.05);
}

TEST(TerminalProgress, ShowsOnlyCountsWhenTheTotalIsUnknown) {
  const core::Progress p{"scan", 1234, 0, "files"};
  EXPECT_EQ(TerminalProgress::formatLine(p, 0.0, std::nullopt, 80), "scan 1234 files");
}

TEST(TerminalProgress, WritesPlainLinesWhenNotATerminalAndIsThreadSafe) {
  char* buffer = nullptr;
  std::size_t size = 0;
  std::FILE* out = open_memstream(&buffer, &size);
  ASSERT_NE(out, nullptr);
  {
    TerminalProgress progress(out, /*isTerminal=*/false, 80);
    auto report = progress.callback();
    std::vector<std::thread> workers;
    for (int t = 0; t < 4; ++t) {
      workers.emplace_back([&report, t] {
        for (int i = 0; i < 1000; ++i) {
          report(core::Progress{"work", t * 1000 + i, 4000, "items"});
        }
      });
    }
    for (auto& w : workers) {
      w.join();
    }
    progress.update(core::Progress{"work", 4000, 4000, "items"});
  }  // the destructor draws the final state
  std::fclose(out);
  const std::string text(buffer, size);
  std::free(buffer);
  EXPECT_EQ(text.find('\r'), std::string::npos) << "no carriage returns in logs";
  EXPECT_NE(text.rfind("100% 4000/4000 items"), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n');
}

}  // namespace
}  // namespace taxon::app
