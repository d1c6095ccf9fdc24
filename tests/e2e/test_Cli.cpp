// The `taxon` command line as a user meets it: help, version, exit codes, flag syntax.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "RunCommand.hpp"
#include "TestFiles.hpp"

namespace taxon::test {
namespace {

const std::vector<std::string> kCommands = {"import",   "build-records", "train", "eval",
                                            "classify", "export",        "info",  "demo"};

TEST(Cli, HelpListsEveryCommand) {
  const auto r = taxon({"--help"});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  for (const auto& command : kCommands) {
    EXPECT_NE(r.out.find(command), std::string::npos) << command << " missing from\n" << r.out;
  }
}

TEST(Cli, EveryCommandHasHelp) {
  for (const auto& command : kCommands) {
    const auto r = taxon({command, "--help"});
    EXPECT_EQ(r.exitCode, 0) << command << ": " << r.err;
    EXPECT_NE(r.out.find("taxon " + command), std::string::npos) << r.out;
  }
}

TEST(Cli, TrainHelpShowsTheSeedsFlags) {
  const auto r = taxon({"train", "--help"});
  for (const char* flag : {"--num_gpus", "--batch_size", "--train_dir", "--data_dir", "--max_steps",
                           "--initial_learning_rate", "--device", "--resume"}) {
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
  }
}

TEST(Cli, VersionNamesLibTorchAndCuda) {
  const auto r = taxon({"--version"});
  EXPECT_EQ(r.exitCode, 0);
  EXPECT_NE(r.out.find("taxon 0."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("LibTorch 2.11.0"), std::string::npos) << r.out;
#ifdef TAXON_HAVE_CUDA
  EXPECT_NE(r.out.find("CUDA 13."), std::string::npos) << r.out;
#endif
}

TEST(Cli, UsageErrorsExitWithTwoAndSayWhatIsWrong) {
  const auto noCommand = taxon({});
  EXPECT_EQ(noCommand.exitCode, 2);
  EXPECT_NE(noCommand.err.find("no command"), std::string::npos) << noCommand.err;

  const auto unknown = taxon({"frobnicate"});
  EXPECT_EQ(unknown.exitCode, 2);
  EXPECT_NE(unknown.err.find("frobnicate"), std::string::npos) << unknown.err;

  const auto badFlag = taxon({"info", "--no_such_flag"});
  EXPECT_EQ(badFlag.exitCode, 2);
  EXPECT_NE(badFlag.err.find("--no_such_flag"), std::string::npos) << badFlag.err;

  const auto missingValue = taxon({"train", "--batch_size"});
  EXPECT_EQ(missingValue.exitCode, 2);
  EXPECT_NE(missingValue.err.find("batch_size"), std::string::npos) << missingValue.err;

  const auto badValue = taxon({"train", "--batch_size=lots"});
  EXPECT_EQ(badValue.exitCode, 2);
  EXPECT_NE(badValue.err.find("lots"), std::string::npos) << badValue.err;

  EXPECT_TRUE(noCommand.out.empty() && unknown.out.empty()) << "errors go to stderr";
}

TEST(Cli, AcceptsBothFlagSyntaxes) {
  const auto equals = taxon({"info", "--format=json"});
  const auto spaced = taxon({"info", "--format", "json"});
  EXPECT_EQ(equals.exitCode, 0) << equals.err;
  EXPECT_EQ(spaced.exitCode, 0) << spaced.err;
  EXPECT_EQ(equals.out, spaced.out);
  EXPECT_EQ(equals.out.front(), '{') << equals.out;
  EXPECT_NE(equals.out.find("\"libtorch\": \"2.11.0\""), std::string::npos) << equals.out;
}

TEST(Cli, InfoRunsWithoutAGpu) {
  const auto r = taxon({"info"});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("LibTorch   2.11.0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("OpenCV"), std::string::npos) << r.out;
}

TEST(Cli, TrainNamesWhatIsMissing) {
  auto r = taxon({"train", "--batch_size", "64", "--train_dir=/tmp/x"});
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.err.find("--data_dir"), std::string::npos) << r.err;
  r = taxon({"train", "--train_dir=/nonexistent/run", "--data_dir=/nonexistent/records"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("/nonexistent/records"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists("/nonexistent/run"));
}

// `taxon help [COMMAND]`, a typo's nearest command, a usage error pointing at its command's help,
// a range said in words, every flag described, examples, exit codes explained.
TEST(Cli, HelpIsWhereANewUserLooks) {
  auto r = taxon({"help"});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("\"The seed\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Exit codes: 0 done; 1"), std::string::npos) << r.out;
  r = taxon({"help", "eval"});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("taxon eval"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Examples:"), std::string::npos) << r.out;

  r = taxon({"traim"});
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.err.find("did you mean 'train'?"), std::string::npos) << r.err;

  r = taxon({"classify", "--checkpoint_dir", "x", "--top_k", "0", "a.jpg"});
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.err.find("--top_k: must be a whole number of at least 1 (got '0')"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("Run 'taxon classify --help'"), std::string::npos) << r.err;

  for (const auto& command : kCommands) {
    r = taxon({command, "--help"});
    EXPECT_NE(r.out.find("Examples:"), std::string::npos) << command;
    // A flag without a description is a line that ends right after the flag's name and type.
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      std::istringstream words(line);
      std::vector<std::string> tokens;
      for (std::string w; words >> w;) {
        tokens.push_back(w);
      }
      const bool bare = !tokens.empty() && tokens.size() <= 3 &&
                        (tokens.size() < 3 || tokens.back() == "REQUIRED");
      if (line.rfind("  --", 0) == 0 && bare) {
        std::string next;
        const auto at = lines.tellg();
        std::getline(lines, next);
        EXPECT_EQ(next.rfind("        ", 0), 0u) << command << ": no description for " << line;
        lines.seekg(at);
      }
    }
  }
}

// Messages that name the real problem.
TEST(Cli, ErrorsSayWhatIsReallyWrong) {
  TempDir dir;
  writeFile(dir / "settings.json", "{\"batch_size\": 32}\n");
  auto r = taxon({"info", (dir / "settings.json").string()});
  EXPECT_NE(r.exitCode, 0);
  EXPECT_NE(r.err.find("not a TFRecord file"), std::string::npos) << r.err;
  r = taxon({"eval", "--checkpoint_dir", "/nonexistent/run"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("/nonexistent/run: does not exist"), std::string::npos) << r.err;
  r = taxon(
      {"export", "--checkpoint_dir", "/nonexistent/run", "--output", dir.path().string() + "/"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("is a folder; give the name of a file"), std::string::npos) << r.err;
}

TEST(Cli, DemoNamesAMissingDataFile) {
  const auto r = taxon({"demo", "--fashion_mnist_dir", "/nonexistent/fmnist"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("/nonexistent/fmnist/train-images-idx3-ubyte.gz: missing"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace taxon::test
