#include "records/EventFile.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <limits>
#include <set>

#include "TestFiles.hpp"
#include "core/Clock.hpp"
#include "core/Error.hpp"
#include "event.pb.h"
#include "records/RecordFile.hpp"

namespace taxon::records {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

// Every event of `path`, read with the checksum-verifying RecordReader (a damaged record throws).
std::vector<tensorflow::Event> readEvents(const fs::path& path) {
  records::RecordReader reader(path);
  std::vector<tensorflow::Event> events;
  std::string payload;
  while (reader.next(payload)) {
    tensorflow::Event event;
    EXPECT_TRUE(event.ParseFromString(payload)) << "record " << events.size();
    events.push_back(event);
  }
  EXPECT_EQ(reader.damagedRecords(), 0);
  return events;
}

std::vector<fs::path> filesIn(const fs::path& directory) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(directory)) {
    files.push_back(entry.path());
  }
  return files;
}

TEST(EventFile, StartsWithTheFileVersionEvent) {
  TempDir dir;
  const double before = core::unixSecondsNow();
  EventFileWriter writer(dir.path());
  writer.flush();
  EXPECT_EQ(writer.path().parent_path(), dir.path());
  EXPECT_EQ(writer.events(), 1);
  const auto events = readEvents(writer.path());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].what_case(), tensorflow::Event::kFileVersion);
  EXPECT_EQ(events[0].file_version(), "brain.Event:2");
  EXPECT_EQ(events[0].step(), 0);
  EXPECT_GE(events[0].wall_time(), before - 1);
  EXPECT_LE(events[0].wall_time(), core::unixSecondsNow() + 1);
}

TEST(EventFile, NamesTheFileTheWayTensorBoardLooksForIt) {
  TempDir dir;
  EventFileWriter writer(dir.path());
  const std::string name = writer.path().filename().string();
  const std::string prefix = "events.out.tfevents.";
  ASSERT_EQ(name.rfind(prefix, 0), 0u) << name;
  // <unix seconds>.<hostname>.<pid>.<counter>
  const std::string rest = name.substr(prefix.size());
  const auto secondsEnd = rest.find('.');
  ASSERT_NE(secondsEnd, std::string::npos) << name;
  const long long seconds = std::stoll(rest.substr(0, secondsEnd));
  EXPECT_NEAR(static_cast<double>(seconds), core::unixSecondsNow(), 60.0) << name;
  EXPECT_NE(name.find("." + std::to_string(getpid()) + "."), std::string::npos) << name;
  EXPECT_EQ(filesIn(dir.path()), std::vector<fs::path>{writer.path()});
}

TEST(EventFile, WritesScalarsWithTheirTagsStepsValuesAndWallTimes) {
  TempDir dir;
  fs::path path;
  {
    EventFileWriter writer(dir.path());
    writer.addScalar("loss/train", 10, 2.5, 1700000000.25);
    writer.addScalar("accuracy/top1", std::int64_t{1} << 40, 0.1, 1700000001.5);
    writer.addScalars(20, {{"loss/train", 1.25}, {"learning_rate", 0.045}}, 1700000002.0);
    writer.addScalars(21, {});  // writes nothing
    writer.addScalar("big", -3, 1e300);
    path = writer.path();
    EXPECT_EQ(writer.events(), 5);
  }  // the destructor flushes
  const auto events = readEvents(path);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].file_version(), "brain.Event:2");

  const auto& first = events[1];
  EXPECT_EQ(first.what_case(), tensorflow::Event::kSummary);
  EXPECT_EQ(first.step(), 10);
  EXPECT_EQ(first.wall_time(), 1700000000.25);
  ASSERT_EQ(first.summary().value_size(), 1);
  EXPECT_EQ(first.summary().value(0).tag(), "loss/train");
  EXPECT_EQ(first.summary().value(0).simple_value(), 2.5f);

  EXPECT_EQ(events[2].step(), std::int64_t{1} << 40);
  EXPECT_EQ(events[2].wall_time(), 1700000001.5);
  EXPECT_EQ(events[2].summary().value(0).tag(), "accuracy/top1");
  EXPECT_EQ(events[2].summary().value(0).simple_value(), 0.1f);

  const auto& several = events[3];
  EXPECT_EQ(several.step(), 20);
  EXPECT_EQ(several.wall_time(), 1700000002.0);
  ASSERT_EQ(several.summary().value_size(), 2);
  EXPECT_EQ(several.summary().value(0).tag(), "loss/train");
  EXPECT_EQ(several.summary().value(0).simple_value(), 1.25f);
  EXPECT_EQ(several.summary().value(1).tag(), "learning_rate");
  EXPECT_EQ(several.summary().value(1).simple_value(), 0.045f);

  EXPECT_EQ(events[4].step(), -3);
  EXPECT_EQ(events[4].summary().value(0).simple_value(), std::numeric_limits<float>::infinity());
  EXPECT_NEAR(events[4].wall_time(), core::unixSecondsNow(), 60.0);  // the default: now
}

TEST(EventFile, FlushMakesEventsVisibleWhileTheFileIsOpen) {
  TempDir dir;
  EventFileWriter writer(dir.path());
  writer.addScalar("loss", 1, 0.5);
  writer.flush();
  EXPECT_EQ(readEvents(writer.path()).size(), 2u);
  writer.addScalars(2, {{"loss", 0.25}});
  writer.flush();
  const auto events = readEvents(writer.path());
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].summary().value(0).simple_value(), 0.25f);
}

TEST(EventFile, TwoWritersInOneFolderMakeTwoFiles) {
  TempDir dir;
  EventFileWriter one(dir.path());
  EventFileWriter two(dir.path());
  EXPECT_NE(one.path(), two.path());
  one.addScalar("run", 1, 1.0);
  two.addScalar("run", 1, 2.0);
  one.close();
  two.close();
  EXPECT_EQ(filesIn(dir.path()).size(), 2u);
  EXPECT_EQ(readEvents(one.path())[1].summary().value(0).simple_value(), 1.0f);
  EXPECT_EQ(readEvents(two.path())[1].summary().value(0).simple_value(), 2.0f);

  std::set<fs::path> paths;
  for (int i = 0; i < 20; ++i) {
    paths.insert(EventFileWriter(dir.path()).path());
  }
  EXPECT_EQ(paths.size(), 20u);
  EXPECT_EQ(filesIn(dir.path()).size(), 22u);
}

TEST(EventFile, CreatesAMissingFolder) {
  TempDir dir;
  const auto runs = dir / "runs/inception/train";
  EventFileWriter writer(runs);
  EXPECT_EQ(writer.path().parent_path(), runs);
  EXPECT_TRUE(fs::is_regular_file(writer.path()));
}

TEST(EventFile, AFolderThatCannotBeMadeIsAnErrorNamingIt) {
  TempDir dir;
  test::writeFile(dir / "blocker", "a file, not a folder");
  const auto runs = dir / "blocker/train";
  try {
    EventFileWriter writer(runs);
    FAIL() << "an event file was created under a file";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find(runs.string()), std::string::npos) << e.what();
  }
}

TEST(EventFile, AnUnwritableFolderIsAnErrorNamingIt) {
  TempDir dir;
  fs::path runs = dir / "read-only";
  fs::create_directories(runs);
  fs::permissions(runs, fs::perms::owner_read | fs::perms::owner_exec);
  if (geteuid() == 0) {
    runs = "/proc/self";  // root writes into read-only folders, but /proc takes no new files
  }
  try {
    EventFileWriter writer(runs);
    FAIL() << "an event file was created in " << runs;
  } catch (const core::Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.rfind(runs.string() + "/events.out.tfevents.", 0), 0u) << message;
    EXPECT_NE(message.find("cannot create the event file"), std::string::npos) << message;
  }
  EXPECT_TRUE(fs::is_empty(dir / "read-only"));
}

TEST(EventFile, AFailedWriteIsAnErrorNamingTheFile) {
  // A file size limit makes write() fail with EFBIG, as a full disk makes it fail with ENOSPC.
  TempDir dir;
  EventFileWriter writer(dir.path());
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  const auto previousHandler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = saved;
  small.rlim_cur = 4096;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string message;
  try {
    for (int step = 0; step < 100000; ++step) {
      writer.addScalar("loss", step, 1.0 / (step + 1));
    }
    writer.flush();
  } catch (const core::Error& e) {
    message = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, previousHandler);
  ASSERT_FALSE(message.empty()) << "writing past the limit did not fail";
  EXPECT_NE(message.find(writer.path().string()), std::string::npos) << message;
  EXPECT_NE(message.find("write failed"), std::string::npos) << message;
}

TEST(EventFile, CloseReportsAndLaterWritesThrow) {
  TempDir dir;
  EventFileWriter writer(dir.path());
  writer.addScalar("loss", 1, 0.5);
  writer.close();
  writer.close();  // a second close does nothing
  EXPECT_EQ(readEvents(writer.path()).size(), 2u);
  EXPECT_THROW(writer.addScalar("loss", 2, 0.25), core::Error);
}

}  // namespace
}  // namespace taxon::records
