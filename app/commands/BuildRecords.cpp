#include "commands/BuildRecords.hpp"

#include <cstdio>
#include <filesystem>
#include <memory>

#include "Interrupt.hpp"
#include "TerminalProgress.hpp"
#include "project/ProjectLayout.hpp"
#include "project/ProjectRecords.hpp"

namespace taxon::app {

namespace fs = std::filesystem;

int runBuildRecords(BuildRecordsOptions& o) {
  auto& s = o.settings;
  s.project = o.project;
  s.trainDirectory = o.trainDirectory;
  s.validationDirectory = o.validationDirectory;
  s.outputDirectory = o.outputDirectory;
  s.labelsFile = o.labelsFile;
  records::RecordBuildReport report;
  {
    TerminalProgress bar;
    report = project::buildRecords(s, bar.callback(), interruptToken());
  }
  if (report.cancelled) {
    std::fprintf(stderr, "Cancelled: finished shards are in place, unfinished ones removed.\n");
    return 1;
  }
  const fs::path out = s.outputDirectory.empty() ? project::ProjectLayout(s.project).recordsDir()
                                                 : s.outputDirectory;
  const fs::path reportFile =
      report.skipped.empty() ? fs::path() : writeIssueReport(out, "skipped", report.skipped, {});
  printIssues("Skipped files", report.skipped, reportFile.string());
  for (const auto& name : report.emptyCategories) {
    std::fprintf(stderr, "warning: category \"%s\" has no images and gets no label\n",
                 name.c_str());
  }
  for (const auto& split : report.splits) {
    std::printf("%-10s %s records in %zu shard%s\n", split.name.c_str(),
                withThousands(split.records).c_str(), split.shards.size(),
                split.shards.size() == 1 ? "" : "s");
  }
  std::printf(
      "Wrote %.1f MB to %s with labels.txt (%zu labels, the first is 1) and manifest.json"
      "%s.\n",
      static_cast<double>(report.bytesWritten) / 1e6, out.c_str(), report.labels.size(),
      report.reencoded > 0
          ? ("; " + withThousands(report.reencoded) + " images re-encoded as JPEG").c_str()
          : "");
  return 0;
}

Command addBuildRecordsCommand(CLI::App& app) {
  auto* cli = app.add_subcommand(
      "build-records",
      "Write TFRecord shards of tf.train.Example, labels.txt and manifest.json, like the seed's "
      "build_image_data.py (same flags), from folders or a project");
  auto o = std::make_shared<BuildRecordsOptions>();
  auto& s = o->settings;
  cli->add_option("project", o->project,
                  "Build from this project's splits (default output: "
                  "PROJECT/records)");
  cli->add_option("--project", o->project, "Same as the positional project");
  cli->add_option("--train_directory", o->trainDirectory, "Folder of training category folders");
  cli->add_option("--validation_directory", o->validationDirectory,
                  "Folder of validation category folders");
  cli->add_option("--output_directory", o->outputDirectory, "Where the shards go");
  cli->add_option("--labels_file", o->labelsFile,
                  "Category folders to use, one per line (line 1 is label 1)");
  cli->add_option("--train_shards", s.trainShards, "Shards of the training split")
      ->check(atLeast(1))
      ->capture_default_str();
  cli->add_option("--validation_shards", s.validationShards, "Shards of the validation split")
      ->check(atLeast(1))
      ->capture_default_str();
  cli->add_option("--test_shards", s.testShards, "Projects: shards of the test split")
      ->check(atLeast(1))
      ->capture_default_str();
  cli->add_option("--num_threads", s.numThreads, "Images read and checked in parallel")
      ->check(atLeast(1))
      ->capture_default_str();
  cli->add_option("--max_side", s.maxSide, "Re-encode images whose longer side exceeds N (0: keep)")
      ->check(atLeast(0))
      ->capture_default_str();
  cli->add_option("--seed", s.seed, "Order of images across shards")->capture_default_str();
  cli->add_option_function<std::string>(
         "--verify", [o](const std::string& v) { o->settings.verifyDecode = v == "decode"; },
         "decode: decode every image at 1/8 size to prove it whole (default); header: headers, "
         "sizes and end markers only, as fast as a copy")
      ->check(CLI::IsMember({"decode", "header"}));
  return {cli, [o] { return runBuildRecords(*o); }};
}

}  // namespace taxon::app
