// Crashes and full disks (issue 16): `taxon import`, `build-records` and a label edit as the app
// makes it (taxon_relabel_loop) killed with SIGKILL at seeded random moments and run again, and
// the same commands (and a checkpoint save) into a file system that fills up. Whatever the moment,
// the catalog passes its check (`taxon info PROJECT`), shards verify (`taxon info RECORDS`),
// nothing is lost or duplicated, and a full disk fails the command with a message naming the
// file, leaving what was saved before as it was. Training killed at any moment:
// test_Train.cpp's SurvivesSigkillAtAnyMoment. bench/robust/run.sh does 20 kills per command.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "RunCommand.hpp"
#include "TestFiles.hpp"
#include "TrainTestData.hpp"
#include "project/Catalog.hpp"
#include "project/Sqlite.hpp"
#include "records/RecordSet.hpp"

namespace taxon::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string relabelLoop() {
  return fromTestEnvironment("TAXON_RELABEL_LOOP");
}

// Runs a program to its end with a file size limit (0: none), capturing its output.
CommandResult runLimited(const std::string& program, const std::vector<std::string>& args,
                         long fileLimitKib) {
  if (fileLimitKib == 0) {
    return runCommand(program, args);
  }
  std::vector<std::string> shellArgs = {
      "-c", "ulimit -f " + std::to_string(fileLimitKib) + " && exec \"$0\" \"$@\"", program};
  shellArgs.insert(shellArgs.end(), args.begin(), args.end());
  return runCommand("/bin/sh", shellArgs);
}

// Folders of category folders: `perCategory` real JPEGs in each of three categories.
fs::path makePhotos(const fs::path& dir, int perCategory) {
  for (const std::string category : {"cats", "dogs", "birds"}) {
    for (int i = 0; i < perCategory; ++i) {
      writeFile(dir / category / (std::to_string(i) + ".jpg"),
                makeJpeg(96, 80, static_cast<std::uint32_t>(category.size() * 1000 + i)));
    }
  }
  return dir;
}

// `taxon info PROJECT`'s table and totals, without its first line (which names the folder).
std::string projectSummary(const fs::path& project) {
  const auto r = taxon({"info", project.string()});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("Catalog check: ok."), std::string::npos) << r.out << r.err;
  return r.out.substr(r.out.find('\n') + 1);
}

std::vector<std::string> leftovers(const fs::path& dir) {
  std::vector<std::string> found;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.path().filename().string().find(".tmp-") != std::string::npos) {
      found.push_back(entry.path().string());
    }
  }
  return found;
}

// Milliseconds a command took, to spread the kills over it.
std::chrono::milliseconds timed(const std::function<void()>& run) {
  const auto begin = Clock::now();
  run();
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - begin);
}

constexpr int kKills = 3;

// A delay from the seeded `rng` between the moment `taxon` has started (what `taxon --version`
// takes) and `took`, when the command would end: most kills land while it works.
std::chrono::milliseconds killDelay(std::mt19937& rng, std::chrono::milliseconds took) {
  static const auto startup = timed([] { taxon({"--version"}); });
  const auto from = std::min(startup, took);
  return from + std::chrono::milliseconds(rng() % ((took - from).count() + 1));
}

// A process id that no process has now.
pid_t deadPid() {
  pid_t pid = 4000000;
  while (kill(pid, 0) == 0 || errno != ESRCH) {
    --pid;
  }
  return pid;
}

TEST(Robust, ImportKilledAtRandomMomentsThenRunAgainLosesAndDuplicatesNothing) {
  TempDir dir;
  const auto photos = makePhotos(dir / "photos", 80).string();
  const auto reference = dir / "reference";
  const auto took = timed([&] {
    ASSERT_EQ(taxon({"import", reference.string(), photos, "--num_threads", "1"}).exitCode, 0);
  });
  const auto project = dir / "project";
  std::mt19937 rng(16);
  for (int round = 0; round < kKills; ++round) {
    killAfter(start(taxonCli(), {"import", project.string(), photos, "--num_threads", "1"}),
              killDelay(rng, took));
  }
  const auto again = taxon({"import", project.string(), photos, "--num_threads", "1"});
  ASSERT_EQ(again.exitCode, 0) << again.err;
  // The same categories, splits and images as one import that was never stopped.
  EXPECT_EQ(projectSummary(project), projectSummary(reference));
}

TEST(Robust, BuildRecordsKilledAtRandomMomentsThenRunAgainWritesTheSameShards) {
  TempDir dir;
  const auto project = dir / "project";
  ASSERT_EQ(taxon({"import", project.string(), makePhotos(dir / "photos", 40).string()}).exitCode,
            0);
  const std::vector<std::string> shards = {"--train_shards", "4", "--validation_shards", "2",
                                           "--num_threads",  "1"};
  std::vector<std::string> reference = {"build-records", project.string(), "--output_directory",
                                        (dir / "reference").string()};
  reference.insert(reference.end(), shards.begin(), shards.end());
  const auto took = timed([&] { ASSERT_EQ(taxon(reference).exitCode, 0); });
  std::vector<std::string> build = {"build-records", project.string()};
  build.insert(build.end(), shards.begin(), shards.end());
  std::mt19937 rng(16);
  for (int round = 0; round < kKills; ++round) {
    killAfter(start(taxonCli(), build), killDelay(rng, took));
  }
  // What a kill in the middle of a shard leaves: its temporary file, which is no shard (taxon
  // info and training pass it over) and which the next build removes.
  const auto halfWritten =
      project / "records" / ("train-00001-of-00004.tmp-" + std::to_string(deadPid()));
  writeFile(halfWritten, readFile(dir / "reference" / "train-00001-of-00004").substr(0, 1000));
  const auto again = taxon(build);
  ASSERT_EQ(again.exitCode, 0) << again.err;
  const auto written = project / "records";
  const auto verified = taxon({"info", written.string()});
  EXPECT_EQ(verified.exitCode, 0) << verified.err;
  EXPECT_NE(verified.out.find("6 shards, 120 records with valid checksums, 0 damaged"),
            std::string::npos)
      << verified.out;
  EXPECT_EQ(leftovers(written), std::vector<std::string>{});
  // A shard another build is writing now is not one yet.
  writeFile(written / ("train-00000-of-00004.tmp-" + std::to_string(getpid())), "partial");
  EXPECT_EQ(taxon({"info", written.string()}).exitCode, 0);
  for (const auto& entry : fs::directory_iterator(dir / "reference")) {
    const auto name = entry.path().filename();
    if (records::isShardName(name.string())) {
      EXPECT_EQ(readFile(written / name), readFile(entry.path())) << name << " differs";
    }
  }
}

TEST(Robust, LabelEditsKilledAtRandomMomentsAreWhollyAppliedOrNotAndUndoable) {
  TempDir dir;
  const auto project = dir / "project";
  ASSERT_EQ(taxon({"import", project.string(), makePhotos(dir / "photos", 20).string()}).exitCode,
            0);
  const auto journal = (dir / "journal").string();
  std::mt19937 rng(16);
  for (int round = 0; round < kKills; ++round) {
    // The loop edits until it is killed; it starts in about 20 ms.
    const auto delay = std::chrono::milliseconds(20 + rng() % 300);
    EXPECT_TRUE(killAfter(
        start(relabelLoop(), {"run", project.string(), journal, std::to_string(round)}), delay));
    const auto verified = runCommand(relabelLoop(), {"verify", project.string(), journal});
    ASSERT_EQ(verified.exitCode, 0) << "round " << round << ": " << verified.err;
  }
  projectSummary(project);
}

// The catalog check finds what a crash could break: here an image whose category is not the one
// its latest edit gave it.
TEST(Robust, InfoFailsWhenTheCatalogCheckFindsAProblem) {
  TempDir dir;
  const auto project = dir / "project";
  ASSERT_EQ(taxon({"import", project.string(), makePhotos(dir / "photos", 2).string()}).exitCode,
            0);
  {
    project::Catalog catalog(project, /*create=*/false);
    const auto image = catalog.images().front();
    catalog.relabel({image.id}, catalog.ensureCategory("moved"));
    project::Database db(catalog.file(), /*create=*/false);
    db.exec("UPDATE images SET category_id = " + std::to_string(image.categoryId) +
            " WHERE id = " + std::to_string(image.id));
  }
  const auto r = taxon({"info", project.string()});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("Catalog check: 1 problem in " + (project / "taxon.sqlite").string()),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("does not have the category its latest edit"), std::string::npos) << r.err;
}

// A small file system on DIR that fills up: a tmpfs (Linux, as root), or where mounting is not
// allowed, a file size limit on the commands that write into it (SmallDisk::fileLimitKib).
class SmallDisk {
 public:
  SmallDisk(const fs::path& dir, long kib) : dir_(dir) {
    fs::create_directories(dir_);
    const std::string options = "size=" + std::to_string(kib) + "k";
    mounted_ = std::getenv("TAXON_TEST_NO_MOUNT") == nullptr &&
               mount("tmpfs", dir_.c_str(), "tmpfs", 0, options.c_str()) == 0;
  }
  ~SmallDisk() {
    if (mounted_) {
      umount2(dir_.c_str(), MNT_DETACH);
    }
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;

  bool mounted() const { return mounted_; }
  // Whether the file size limit works here, for when mounting does not.
  static bool canLimitFileSize() {
    rlimit limit{};
    return getrlimit(RLIMIT_FSIZE, &limit) == 0;
  }
  // Leaves about `kib` KiB free for what is written next: a filler file on the tmpfs, or a file
  // size limit of `kib` for the next commands (fileLimitKib()).
  void leaveFree(long kib) {
    if (!mounted_) {
      limitKib_ = std::max(1L, kib);
      return;
    }
    struct statvfs stats {};
    statvfs(dir_.c_str(), &stats);
    const long freeKib = static_cast<long>(stats.f_bavail * stats.f_frsize / 1024);
    if (freeKib > kib) {
      writeFile(dir_ / "filler", std::string(static_cast<std::size_t>(freeKib - kib) * 1024, 'x'));
    }
  }
  // Frees what leaveFree took.
  void release() {
    std::error_code ignored;
    fs::remove(dir_ / "filler", ignored);
    limitKib_ = 0;
  }
  long fileLimitKib() const { return limitKib_; }

 private:
  fs::path dir_;
  bool mounted_ = false;
  long limitKib_ = 0;
};

// What a full disk makes a command say: the file, and why. Past a file size limit instead
// (`fileLimit`), SQLite may say only "disk I/O error": it keeps errno's reason (EFBIG) for some
// failed writes, not for all.
void expectFullDiskError(const CommandResult& r, const std::string& path, bool fileLimit) {
  EXPECT_EQ(r.exitCode, 1) << r.out << r.err;
  EXPECT_NE(r.err.find(path), std::string::npos) << r.err;
  const bool why = r.err.find("No space left on device") != std::string::npos ||
                   r.err.find("disk is full") != std::string::npos ||
                   r.err.find("File too large") != std::string::npos ||
                   (fileLimit && r.err.find("disk I/O error") != std::string::npos);
  EXPECT_TRUE(why) << r.err;
}

class FullDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    // Room for two checkpoints of the tiny model (5.5 MB each); what the tests do not fill up
    // takes no memory.
    disk_ = std::make_unique<SmallDisk>(dir_ / "disk", 16384);
    if (!disk_->mounted() && !SmallDisk::canLimitFileSize()) {
      GTEST_SKIP() << "neither a tmpfs mount nor a file size limit (ulimit -f) works here";
    }
  }
  void TearDown() override { disk_.reset(); }
  fs::path disk() const { return dir_ / "disk"; }

  TempDir dir_;
  std::unique_ptr<SmallDisk> disk_;
};

TEST_F(FullDisk, ImportFailsNamingTheCatalogAndKeepsWhatWasImported) {
  const auto project = disk() / "project";
  const auto first = makePhotos(dir_ / "first", 10);
  ASSERT_EQ(taxon({"import", project.string(), first.string()}).exitCode, 0);
  const auto before = projectSummary(project);
  const auto second = makePhotos(dir_ / "second" / "more", 300);
  disk_->leaveFree(64);
  const auto full =
      runLimited(taxonCli(), {"import", project.string(), second.string()}, disk_->fileLimitKib());
  expectFullDiskError(full, (project / "taxon.sqlite").string(), !disk_->mounted());
  disk_->release();
  EXPECT_EQ(projectSummary(project), before);
  const auto again = taxon({"import", project.string(), second.string()});
  ASSERT_EQ(again.exitCode, 0) << again.err;
  EXPECT_NE(projectSummary(project).find("930 images"), std::string::npos);
}

TEST_F(FullDisk, BuildRecordsFailsNamingTheShardAndKeepsThePreviousShards) {
  const auto project = disk() / "project";
  ASSERT_EQ(taxon({"import", project.string(), makePhotos(dir_ / "photos", 40).string()}).exitCode,
            0);
  const auto records = project / "records";
  ASSERT_EQ(taxon({"build-records", project.string(), "--train_shards", "2"}).exitCode, 0);
  std::map<fs::path, std::string> before;
  for (const auto& entry : fs::directory_iterator(records)) {
    before[entry.path()] = readFile(entry.path());
  }
  // Space for the catalog's shared-memory file, not for the shards.
  disk_->leaveFree(160);
  const auto full =
      runLimited(taxonCli(), {"build-records", project.string(), "--train_shards", "2"},
                 disk_->fileLimitKib());
  expectFullDiskError(full, records.string(), !disk_->mounted());
  disk_->release();
  std::map<fs::path, std::string> after;
  for (const auto& entry : fs::directory_iterator(records)) {
    after[entry.path()] = readFile(entry.path());
  }
  EXPECT_TRUE(before == after) << "the shards, labels.txt or manifest.json changed";
  const auto verified = taxon({"info", records.string()});
  EXPECT_EQ(verified.exitCode, 0) << verified.err;
  projectSummary(project);
}

TEST_F(FullDisk, ACheckpointThatDoesNotFitFailsAndTheRunResumesFromThePreviousOne) {
  writeRecordSet(dir_ / "records", 16);
  const auto run = disk() / "run";
  auto args = tinyTrainArgs(run, dir_ / "records", 1);
  setFlag(args, "--log_every_n_steps", "1");
  ASSERT_EQ(taxon(args).exitCode, 0);
  const auto checkpoint = run / "model.ckpt-1.taxon";
  const std::string saved = readFile(checkpoint);
  disk_->leaveFree(static_cast<long>(saved.size() / 2048));
  const auto full =
      runLimited(taxonCli(), {"train", "--train_dir", run.string(), "--resume", "--max_steps", "2"},
                 disk_->fileLimitKib());
  expectFullDiskError(full, (run / "model.ckpt-2.taxon").string(), !disk_->mounted());
  disk_->release();
  EXPECT_EQ(readFile(checkpoint), saved);
  EXPECT_FALSE(fs::exists(run / "model.ckpt-2.taxon"));
  EXPECT_EQ(leftovers(run), std::vector<std::string>{});
  const auto resumed =
      taxon({"train", "--train_dir", run.string(), "--resume", "--max_steps", "2"});
  ASSERT_EQ(resumed.exitCode, 0) << resumed.err;
  EXPECT_NE(resumed.out.find("from model.ckpt-1.taxon"), std::string::npos) << resumed.out;
  // Each step logged once, though step 2 ran twice.
  std::vector<std::int64_t> steps;
  std::istringstream lines(readFile(run / "metrics.jsonl"));
  std::string line;
  while (std::getline(lines, line)) {
    const auto json = nlohmann::json::parse(line);
    if (json.contains("loss")) {
      steps.push_back(json["step"].get<std::int64_t>());
    }
  }
  EXPECT_EQ(steps, (std::vector<std::int64_t>{1, 2}));
}

TEST_F(FullDisk, ALabelEditFailsNamingTheCatalogAndIsNotHalfApplied) {
  const auto project = disk() / "project";
  ASSERT_EQ(taxon({"import", project.string(), makePhotos(dir_ / "photos", 20).string()}).exitCode,
            0);
  const auto journal = (dir_ / "journal").string();
  disk_->leaveFree(96);
  // Edits until the catalog's log no longer fits.
  const auto full = runLimited(relabelLoop(), {"run", project.string(), journal, "1", "5000"},
                               disk_->fileLimitKib());
  expectFullDiskError(full, (project / "taxon.sqlite").string(), !disk_->mounted());
  disk_->release();
  const auto verified = runCommand(relabelLoop(), {"verify", project.string(), journal});
  EXPECT_EQ(verified.exitCode, 0) << verified.err;
  projectSummary(project);
}

// A crash says so: `taxon train` sent SIGSEGV in the middle of training (as a fault in a library
// would raise it in one of its threads) writes the signal and a stack to stderr and ends by that
// signal, instead of ending with nothing said.
TEST(Robust, ACrashSaysWhatHappenedOnStderr) {
  TempDir dir;
  writeNoisyRecords(dir / "records", 32);
  const auto errFile = dir / "stderr.txt";
  const pid_t child =
      start(taxonCli(), tinyTrainArgs(dir / "run", dir / "records", 100000), 0, errFile);
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (!fs::exists(dir / "run" / "metrics.jsonl") && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(fs::exists(dir / "run" / "metrics.jsonl")) << readAll(errFile);
  kill(child, SIGSEGV);
  int status = 0;
  waitpid(child, &status, 0);
  const auto err = readAll(errFile);
  ASSERT_TRUE(WIFSIGNALED(status)) << "exit status " << status << "\n" << err;
  EXPECT_EQ(WTERMSIG(status), SIGSEGV) << err;
  EXPECT_NE(err.find("taxon: crashed: signal 11 (SIGSEGV"), std::string::npos) << err;
  EXPECT_NE(err.find("Stack of the thread that received it:\n"), std::string::npos) << err;
  // backtrace_symbols_fd's lines name the binary of each frame.
  EXPECT_NE(err.find("taxon("), std::string::npos) << err;
}

}  // namespace
}  // namespace taxon::test
