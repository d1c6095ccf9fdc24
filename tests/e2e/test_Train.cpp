// `taxon train`, `eval`, `classify` and `export` as a user runs them, on tiny real data.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "RunCommand.hpp"
#include "TrainTestData.hpp"

namespace taxon::test {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> tinyTrain(const fs::path& trainDir, const fs::path& dataDir,
                                   int maxSteps) {
  return tinyTrainArgs(trainDir, dataDir, maxSteps);
}

std::vector<std::int64_t> loggedSteps(const fs::path& trainDir) {
  std::ifstream in(trainDir / "metrics.jsonl");
  std::vector<std::int64_t> steps;
  std::string line;
  while (std::getline(in, line)) {
    const auto json = nlohmann::json::parse(line);
    if (json.contains("loss")) {
      steps.push_back(json["step"].get<std::int64_t>());
    }
  }
  return steps;
}

class TrainCommands : public ::testing::Test {
 protected:
  void SetUp() override { writeRecordSet(dir_ / "records", 24); }
  TempDir dir_;
};

TEST_F(TrainCommands, TrainPrintsTheSeedsLinesAndRefusesToOverwriteARun) {
  const auto run = dir_ / "run";
  auto r = taxon(tinyTrain(run, dir_ / "records", 4));
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const std::regex seedLine(
      R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}: step 4, loss = \d+\.\d\d \(\d+\.\d examples/sec; )"
      R"(\d+\.\d{3} sec/batch\))");
  EXPECT_TRUE(std::regex_search(r.out, seedLine)) << r.out;
  EXPECT_NE(r.out.find("validation precision @ 1 = "), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(run / "model.ckpt-4.taxon"));
  EXPECT_TRUE(fs::exists(run / "settings.json"));

  r = taxon(tinyTrain(run, dir_ / "records", 6));
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("already holds a training run"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(run / "model.ckpt-6.taxon"));

  // --resume takes the saved settings; only the new length is given.
  r = taxon({"train", "--train_dir", run.string(), "--max_steps", "6", "--resume"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("resuming"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(run / "model.ckpt-6.taxon"));
  EXPECT_EQ(loggedSteps(run), (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6}));

  r = taxon({"train", "--train_dir", run.string(), "--resume", "--image_size", "99"});
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.err.find("image size"), std::string::npos) << r.err;

  r = taxon({"train", "--train_dir", run.string(), "--data_dir", (dir_ / "records").string(),
             "--num_gpus", "8"});
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.err.find("--num_gpus 8"), std::string::npos) << r.err;
}

// Killed with SIGKILL at arbitrary moments, a run always resumes from its last complete
// checkpoint and ends with every step logged once.
TEST_F(TrainCommands, SurvivesSigkillAtAnyMoment) {
  const auto run = dir_ / "run";
  constexpr int kSteps = 150;
  auto args = tinyTrain(run, dir_ / "records", kSteps);
  args.push_back("--save_every_n_steps");
  args.push_back("7");
  const auto newestCheckpoint = [&] {
    std::int64_t newest = 0;
    std::error_code error;
    for (fs::directory_iterator it(run, error), end; !error && it != end; it.increment(error)) {
      std::smatch m;
      const std::string name = it->path().filename().string();
      if (std::regex_match(name, m, std::regex(R"(model\.ckpt-(\d+)\.taxon)"))) {
        newest = std::max<std::int64_t>(newest, std::stoll(m[1]));
      }
    }
    return newest;
  };
  // Each round waits for a new checkpoint, then kills at a different moment after it (while the
  // next steps, their log lines or the next checkpoint are being written).
  const std::string cli = test::taxonCli();
  for (const int delayMs : {0, 90, 170}) {
    const std::int64_t before = newestCheckpoint();
    const bool resume = fs::exists(run / "settings.json");
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      std::vector<std::string> all = {cli};
      all.insert(all.end(), args.begin(), args.end());
      if (resume) {
        all.push_back("--resume");
      }
      std::vector<char*> argv;
      for (auto& a : all) {
        argv.push_back(a.data());
      }
      argv.push_back(nullptr);
      if (freopen("/dev/null", "w", stdout) == nullptr ||
          freopen("/dev/null", "w", stderr) == nullptr) {
        _exit(126);
      }
      execv(cli.c_str(), argv.data());
      _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (newestCheckpoint() <= before && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delayMs));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the run ended before it was killed";
  }
  // The kills came after some checkpoints and before the end.
  ASSERT_TRUE(fs::exists(run / "settings.json"));
  const std::int64_t newest = newestCheckpoint();
  EXPECT_GE(newest, 21);
  EXPECT_LT(newest, kSteps);
  // No temporary files are left where checkpoints are listed, and the run finishes.
  args.push_back("--resume");
  const auto r =
      taxon(fs::exists(run / "settings.json") ? args : tinyTrain(run, dir_ / "records", 30));
  ASSERT_EQ(r.exitCode, 0) << r.err;
  std::vector<std::int64_t> expected(kSteps);
  for (int i = 0; i < kSteps; ++i) {
    expected[static_cast<std::size_t>(i)] = i + 1;
  }
  EXPECT_EQ(loggedSteps(run), expected);
  for (const auto& entry : fs::directory_iterator(run)) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos)
        << entry.path() << " left behind";
  }
  EXPECT_TRUE(fs::exists(run / ("model.ckpt-" + std::to_string(kSteps) + ".taxon")));
}

// A damaged record set: the validation shard cut to half its length, a byte flipped in the middle
// of the training shard. Evaluation fails naming the shard and byte, or with --skip_corrupt goes
// past them and says what it skipped and how many images it lost, in its output and summary.json.
TEST_F(TrainCommands, EvalNamesDamagedRecordsAndFailsUnlessToldToSkip) {
  // As build-records writes them: a manifest says how many records each split has.
  writeFile(dir_ / "records" / "manifest.json", R"({"label_offset": 1, "num_classes": 4,
    "splits": {"train": {"records": 24, "shards": [{"file": "train-00000-of-00001"}]},
               "validation": {"records": 24, "shards": [{"file": "validation-00000-of-00001"}]}}})");
  const auto run = dir_ / "run";
  auto r = taxon(tinyTrain(run, dir_ / "records", 2));
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const auto validation = dir_ / "records" / "validation-00000-of-00001";
  const auto trainShard = dir_ / "records" / "train-00000-of-00001";
  const std::string whole = readAll(validation);
  writeFile(validation, whole.substr(0, whole.size() / 2));
  std::string bytes = readAll(trainShard);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x5a);
  writeFile(trainShard, bytes);

  r = taxon({"eval", "--checkpoint_dir", run.string()});
  EXPECT_EQ(r.exitCode, 1) << r.err;
  EXPECT_NE(r.err.find(validation.string()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("byte "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--skip_corrupt"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("precision @ 1"), std::string::npos) << r.out;

  const auto evalDir = dir_ / "eval";
  r = taxon(
      {"eval", "--checkpoint_dir", run.string(), "--skip_corrupt", "--eval_dir", evalDir.string()});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.err.find("warning: skipped " + validation.filename().string() + "@"),
            std::string::npos)
      << r.err;
  const auto summary = nlohmann::json::parse(readAll(evalDir / "summary.json"));
  const auto examples = summary["examples"].get<std::int64_t>();
  EXPECT_EQ(summary["expected_examples"], 24);
  EXPECT_LT(examples, 24);
  EXPECT_GT(examples, 0);
  EXPECT_EQ(summary["lost_examples"].get<std::int64_t>(), 24 - examples);
  ASSERT_FALSE(summary["skipped"].empty());
  EXPECT_NE(
      summary["skipped"][0]["key"].get<std::string>().find(validation.filename().string() + "@"),
      std::string::npos);
  EXPECT_NE(r.err.find(std::to_string(examples) + " of the 24 images of validation"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(std::to_string(24 - examples) + " images were lost"), std::string::npos)
      << r.err;

  // The training split's flipped byte, the same way.
  r = taxon({"eval", "--checkpoint_dir", run.string(), "--subset", "train"});
  EXPECT_EQ(r.exitCode, 1) << r.err;
  EXPECT_NE(r.err.find(trainShard.string()), std::string::npos) << r.err;
  r = taxon({"eval", "--checkpoint_dir", run.string(), "--subset", "train", "--skip_corrupt"});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.err.find("warning: skipped " + trainShard.filename().string() + "@"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("of the 24 images of train"), std::string::npos) << r.err;
}

TEST_F(TrainCommands, EvalClassifyAndExport) {
  const auto run = dir_ / "run";
  auto r = taxon(tinyTrain(run, dir_ / "records", 3));
  ASSERT_EQ(r.exitCode, 0) << r.err;

  r = taxon({"eval", "--checkpoint_dir", run.string(), "--eval_dir", (dir_ / "eval").string()});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const std::regex evalLine(R"(^precision @ 1 = \d\.\d{4} recall @ 4 = 1\.0000$)");
  bool found = false;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    found = found || std::regex_match(line, evalLine);
  }
  EXPECT_TRUE(found) << r.out;  // 4 categories: recall @ 5 is recall @ 4, and always 1
  const auto summary = nlohmann::json::parse(readAll(dir_ / "eval" / "summary.json"));
  EXPECT_EQ(summary["examples"], 24);
  EXPECT_EQ(summary["step"], 3);
  EXPECT_EQ(readAll(dir_ / "eval" / "levels.csv").substr(0, 31), "level,examples,correct,accuracy");

  // Two images, a file that is not an image and a missing one.
  writeFile(dir_ / "a.png", categoryPng(0));
  writeFile(dir_ / "b c.png", categoryPng(1));
  writeFile(dir_ / "notes.png", "not an image at all");
  r = taxon({"classify", "--checkpoint_dir", run.string(), "--top_k", "2", "--csv",
             (dir_ / "out.csv").string(), (dir_ / "a.png").string(), (dir_ / "notes.png").string(),
             (dir_ / "missing.jpg").string(), (dir_ / "b c.png").string()});
  EXPECT_EQ(r.exitCode, 1);
  const std::regex scoreLine(R"(\n\d\.\d{3} - (Men|Women|Other)[^\n]*)");
  EXPECT_EQ(std::distance(std::sregex_iterator(r.out.begin(), r.out.end(), scoreLine),
                          std::sregex_iterator()),
            4)
      << r.out;
  EXPECT_NE(r.out.find((dir_ / "a.png").string() + "\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find((dir_ / "b c.png").string() + "\n"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find((dir_ / "notes.png").string()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find((dir_ / "missing.jpg").string()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("2 of 4 images could not be classified"), std::string::npos) << r.err;
  const std::string csv = readAll(dir_ / "out.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "path,rank,class,category,score");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5);

  // A folder: the images below it, in path order. An unwritable --csv fails before any work.
  writeFile(dir_ / "folder" / "b" / "x.png", categoryPng(2));
  writeFile(dir_ / "folder" / "a.png", categoryPng(3));
  r = taxon({"classify", "--checkpoint_dir", run.string(), (dir_ / "folder").string()});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  const auto first = r.out.find((dir_ / "folder" / "a.png").string());
  const auto second = r.out.find((dir_ / "folder" / "b" / "x.png").string());
  EXPECT_NE(first, std::string::npos) << r.out;
  EXPECT_NE(second, std::string::npos) << r.out;
  EXPECT_LT(first, second) << r.out;
  r = taxon({"classify", "--checkpoint_dir", run.string(), "--csv", "/nonexistent/out.csv",
             (dir_ / "a.png").string()});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("/nonexistent/out.csv: cannot be written: the folder /nonexistent does "
                       "not exist"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;

  // Resuming a run that has reached its end says which limit and how to go on.
  auto again = tinyTrain(run, dir_ / "records", 3);
  again.push_back("--resume");
  r = taxon(again);
  EXPECT_EQ(r.exitCode, 1) << r.err;
  EXPECT_NE(r.err.find("nothing to train: the run in " + run.string() +
                       " is at step 3, the end set by --max_steps (3 steps)"),
            std::string::npos)
      << r.err;

  // The tiny network has a depth multiplier of 0.1: torchvision has no such model.
  r = taxon({"export", "--checkpoint_dir", run.string(), "--output", (dir_ / "w.pt").string()});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("depth multiplier"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "w.pt"));

  r = taxon(
      {"classify", "--checkpoint_dir", (dir_ / "nothing").string(), (dir_ / "a.png").string()});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("nothing"), std::string::npos) << r.err;
}

// --explain: one strip per image (the picture the model saw, then a Grad-CAM overlay for each
// category printed), named after the image; a repeated name gets a number; a folder that cannot be
// made fails before anything is classified.
TEST_F(TrainCommands, ClassifyExplainWritesWhereTheModelLooked) {
  const auto run = dir_ / "run";
  auto r = taxon(tinyTrain(run, dir_ / "records", 2));
  ASSERT_EQ(r.exitCode, 0) << r.err;
  writeFile(dir_ / "a.png", categoryPng(0));
  writeFile(dir_ / "other" / "a.png", categoryPng(1));
  writeFile(dir_ / "shoe.png", categoryPng(2));
  writeFile(dir_ / "broken.png", "not an image");
  const auto out = dir_ / "why";
  r = taxon({"classify", "--checkpoint_dir", run.string(), "--top_k", "3", "--explain",
             out.string(), (dir_ / "a.png").string(), (dir_ / "other" / "a.png").string(),
             (dir_ / "broken.png").string(), (dir_ / "shoe.png").string()});
  EXPECT_EQ(r.exitCode, 1) << r.err;  // broken.png
  EXPECT_NE(r.err.find("wrote 3 explanations to " + out.string()), std::string::npos) << r.err;
  std::set<std::string> written;
  for (const auto& entry : fs::directory_iterator(out)) {
    written.insert(entry.path().filename().string());
  }
  EXPECT_EQ(written, (std::set<std::string>{"a.png", "a-2.png", "shoe.png"}));
  // 64 x 64 pictures: the central crop (56 pixels) is shown at 299; four panels of 299 with
  // 6-pixel gaps under a 28-pixel caption row.
  const cv::Mat strip = cv::imread((out / "shoe.png").string(), cv::IMREAD_COLOR);
  ASSERT_FALSE(strip.empty());
  EXPECT_EQ(strip.cols, 4 * 299 + 3 * 6);
  EXPECT_EQ(strip.rows, 299 + 28);
  // The overlays differ from the plain picture (colour laid over it).
  const cv::Rect firstPanel(0, 28, 299, 299), secondPanel(305, 28, 299, 299);
  EXPECT_GT(cv::norm(strip(firstPanel), strip(secondPanel), cv::NORM_L1), 0.0);

  ASSERT_TRUE(fs::exists(dir_ / "a.png"));
  r = taxon({"classify", "--checkpoint_dir", run.string(), "--explain",
             (dir_ / "a.png" / "sub").string(), (dir_ / "a.png").string()});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find((dir_ / "a.png" / "sub").string() + ": cannot be created as a folder"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

// Ctrl-C (SIGINT) in the middle of `taxon train` or `taxon distill`: the run stops after its step,
// writes a checkpoint, ends with 1 and prints the command that continues it, which does.
TEST_F(TrainCommands, CtrlCStopsAtACheckpointAndThePrintedCommandContinues) {
  const auto teacher = dir_ / "teacher";
  auto r = taxon(tinyTrain(teacher, dir_ / "records", 2));
  ASSERT_EQ(r.exitCode, 0) << r.err;
  for (const std::string command : {"train", "distill"}) {
    SCOPED_TRACE(command);
    const auto run = dir_ / ("stopped-" + command);
    auto args = tinyTrain(run, dir_ / "records", 100000);
    setFlag(args, "--log_every_n_steps", "1");
    if (command == "distill") {
      args[0] = "distill";
      args.insert(args.end(), {"--teacher_dir", teacher.string()});
    }
    const auto errFile = dir_ / (command + "-stderr.txt");
    const pid_t child = start(taxonCli(), args, 0, errFile);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    // Two steps logged (a line being written may be read in part: counted on a later look).
    const auto twoStepsLogged = [&] {
      try {
        return loggedSteps(run).size() >= 2;
      } catch (const nlohmann::json::exception&) {
        return false;
      }
    };
    while (!twoStepsLogged() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_TRUE(twoStepsLogged()) << readAll(errFile);
    kill(child, SIGINT);
    int status = 0;
    waitpid(child, &status, 0);
    const auto err = readAll(errFile);
    ASSERT_TRUE(WIFEXITED(status)) << "status " << status << "\n" << err;
    EXPECT_EQ(WEXITSTATUS(status), 1) << err;
    EXPECT_NE(err.find("stopping after the current step"), std::string::npos) << err;
    const std::regex stopped("Stopped at step (\\d+); checkpoint (\\S+)\\. Continue with: (.*)\n");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(err, m, stopped)) << err;
    const std::int64_t step = std::stoll(m[1].str());
    EXPECT_GE(step, 2);
    EXPECT_EQ(m[2].str(), (run / ("model.ckpt-" + std::to_string(step) + ".taxon")).string());
    EXPECT_TRUE(fs::exists(m[2].str()));
    const std::string continueWith = m[3].str();
    EXPECT_EQ(continueWith, "taxon " + command + " --train_dir " + run.string() + " --resume");

    // The printed command, one step further.
    std::vector<std::string> again;
    std::istringstream words(continueWith);
    for (std::string word; words >> word;) {
      again.push_back(word);
    }
    again.erase(again.begin());  // "taxon"
    again.insert(again.end(), {"--max_steps", std::to_string(step + 1)});
    r = taxon(again);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("from model.ckpt-" + std::to_string(step) + ".taxon"), std::string::npos)
        << r.out;
    EXPECT_TRUE(fs::exists(run / ("model.ckpt-" + std::to_string(step + 1) + ".taxon")));
    const auto steps = loggedSteps(run);
    ASSERT_FALSE(steps.empty());
    EXPECT_EQ(steps.back(), step + 1);
  }
}

// `taxon distill`: a student at half the teacher's width by default, the teacher recorded and
// described by `taxon info --model`, resumed, evaluated and exported like any run; a missing
// --teacher_dir is a usage error.
TEST_F(TrainCommands, DistillTrainsAStudentThatInfoEvalAndExportTreatAsAnyRun) {
  const auto teacher = dir_ / "teacher";
  auto args = tinyTrain(teacher, dir_ / "records", 3);
  setFlag(args, "--depth_multiplier", "0.3");
  auto r = taxon(args);
  ASSERT_EQ(r.exitCode, 0) << r.err;

  const auto student = dir_ / "student";
  const std::vector<std::string> distill = {"distill",
                                            "--train_dir",
                                            student.string(),
                                            "--teacher_dir",
                                            teacher.string(),
                                            "--data_dir",
                                            (dir_ / "records").string(),
                                            "--batch_size",
                                            "8",
                                            "--num_threads",
                                            "2",
                                            "--shuffle_buffer",
                                            "16",
                                            "--temperature",
                                            "3"};
  auto first = distill;
  first.insert(first.end(), {"--max_steps", "2"});
  r = taxon(first);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("distilling from " + (teacher / "model.ckpt-3.taxon").string() + " (step 3"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("at temperature 3, weight 0.9"), std::string::npos) << r.out;
  const auto settings = nlohmann::json::parse(readAll(student / "settings.json"));
  EXPECT_EQ(settings["depth_multiplier"], 0.15);  // half the teacher's
  EXPECT_EQ(settings["image_size"], 75);          // the teacher's
  EXPECT_EQ(settings["teacher_step"], 3);

  // Resumed through either command, from its own settings.
  r = taxon({"distill", "--train_dir", student.string(), "--resume", "--max_steps", "3"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  r = taxon({"train", "--train_dir", student.string(), "--resume", "--max_steps", "4"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(loggedSteps(student), (std::vector<std::int64_t>{1, 2, 3, 4}));

  r = taxon({"info", "--model", student.string()});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("depth multiplier 0.15, 75 x 75 px input, 4 categories"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("distilled from " + teacher.string() + " (step 3"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("teacher      depth multiplier 0.3, 75 px"), std::string::npos) << r.out;
  r = taxon({"info", "--model", student.string(), "--format", "json"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const auto info = nlohmann::json::parse(r.out);
  EXPECT_EQ(info["step"], 4);
  EXPECT_LT(info["multiply_adds"].get<double>(), info["teacher"]["multiply_adds"].get<double>());
  EXPECT_GT(info["parameters"].get<double>(), 0.0);
  EXPECT_EQ(info["flops"].get<double>(), 2 * info["multiply_adds"].get<double>());
  // `taxon info RUN` says the same about a train dir.
  r = taxon({"info", teacher.string()});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("multiply-adds"), std::string::npos) << r.out;

  r = taxon({"eval", "--checkpoint_dir", student.string(), "--eval_dir", (dir_ / "eval").string()});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  r = taxon({"export", "--checkpoint_dir", student.string(), "--format", "onnx", "--output",
             (dir_ / "student.onnx").string()});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir_ / "student.onnx"));

  auto noTeacher = distill;
  noTeacher.erase(noTeacher.begin() + 3, noTeacher.begin() + 5);
  noTeacher[2] = (dir_ / "other").string();
  r = taxon(noTeacher);
  EXPECT_EQ(r.exitCode, 2) << r.err;
  EXPECT_NE(r.err.find("--teacher_dir is required"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "other"));
}

}  // namespace
}  // namespace taxon::test
