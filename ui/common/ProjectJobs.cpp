#include "common/ProjectJobs.hpp"

#include <QThread>
#include <algorithm>

#include "common/EngineTask.hpp"
#include "common/Paths.hpp"
#include "common/ProjectSession.hpp"
#include "eval/torch/Evaluator.hpp"
#include "project/Catalog.hpp"
#include "project/Importer.hpp"
#include "project/ProjectLayout.hpp"
#include "project/ProjectRecords.hpp"
#include "records/RecordBuilder.hpp"

namespace taxon::ui {
namespace {

// The import report as the user reads it: counts, then every skipped file and duplicate.
QString importReportText(const project::ImportReport& report) {
  QString text = QObject::tr(
                     "%1 images added, %2 already present, %3 skipped, %4 duplicates; "
                     "%5 categories; %6 train, %7 validation, %8 test.")
                     .arg(report.added)
                     .arg(report.alreadyPresent)
                     .arg(report.skipped.size())
                     .arg(report.duplicates.size())
                     .arg(report.categories)
                     .arg(report.train)
                     .arg(report.validation)
                     .arg(report.test);
  if (report.unlabeled > 0) {
    text += QObject::tr(" %1 images are unlabeled (the Unlabeled node of the Data page).")
                .arg(report.unlabeled);
  }
  if (!report.skipped.empty()) {
    text += QObject::tr("\n\nSkipped:");
    for (const auto& issue : report.skipped) {
      text += QStringLiteral("\n%1: %2")
                  .arg(QString::fromStdString(issue.path), QString::fromStdString(issue.reason));
    }
  }
  if (!report.duplicates.empty()) {
    text += QObject::tr("\n\nDuplicates:");
    for (const auto& duplicate : report.duplicates) {
      text += QObject::tr("\n%1 is the same as %2")
                  .arg(QString::fromStdString(duplicate.path),
                       QString::fromStdString(duplicate.sameAs));
    }
  }
  return text;
}

}  // namespace

ProjectJobs::ProjectJobs(ProjectSession* session, QObject* parent)
    : QObject(parent), session_(session) {
  import_ = new EngineTask(this);
  records_ = new EngineTask(this);
  evaluate_ = new EngineTask(this);
  for (const Job job : {Job::Import, Job::Records, Job::Evaluation}) {
    connect(task(job), &EngineTask::progress, this,
            [this, job](const QString& stage, qint64 done, qint64 total, const QString& unit) {
              Q_EMIT progress(job, stage, done, total, unit);
            });
  }
  connect(import_, &EngineTask::finished, this,
          [this](bool ok, bool cancelled, const QString& message) {
            // Reopen so every page re-reads the catalog the import wrote.
            if (session_->isOpen()) {
              session_->open(session_->projectDir(), false);
            }
            if (ok) {
              Q_EMIT importFinished(ImportSummary{cancelled, message});
            } else {
              Q_EMIT failed(Job::Import, message);
            }
          });
  connect(records_, &EngineTask::finished, this,
          [this](bool ok, bool cancelled, const QString& message) {
            if (ok && !cancelled) {
              Q_EMIT recordsBuilt(RecordsSummary{session_->recordsDir(), message});
            } else {
              Q_EMIT failed(Job::Records, message);
            }
          });
  connect(evaluate_, &EngineTask::finished, this, [this](bool ok, bool, const QString& message) {
    if (ok) {
      Q_EMIT evaluated(
          EvalSummary{evaluating_, fromPath(project::evalDirOf(toPath(evaluating_))), message});
    } else {
      Q_EMIT failed(Job::Evaluation, message);
    }
  });
}

ProjectJobs::~ProjectJobs() = default;

EngineTask* ProjectJobs::task(Job job) const {
  switch (job) {
    case Job::Import:
      return import_;
    case Job::Records:
      return records_;
    case Job::Evaluation:
      return evaluate_;
  }
  return import_;
}

void ProjectJobs::cancel(Job job) {
  task(job)->cancel();
}

bool ProjectJobs::isRunning(Job job) const {
  return task(job)->isRunning();
}

bool ProjectJobs::recordsCurrent() const {
  return session_->isOpen() &&
         project::ProjectLayout(toPath(session_->projectDir())).recordsCurrent();
}

bool ProjectJobs::importSources(const QStringList& sources, qint64 limitPerFile,
                                const QStringList& unlabeled) {
  if (!session_->isOpen() || import_->isRunning()) {
    return false;
  }
  const QString project = session_->projectDir();
  return import_->start([project, sources, limitPerFile, unlabeled](
                            std::stop_token stop, const core::ProgressFn& progress) {
    project::Catalog catalog(toPath(project), false);
    project::ImportSettings settings;
    for (const QString& source : sources) {
      settings.sources.push_back(toPath(source));
    }
    for (const QString& folder : unlabeled) {
      settings.unlabeled.push_back(toPath(folder));
    }
    settings.limit = limitPerFile;
    return importReportText(project::importImages(catalog, settings, progress, stop));
  });
}

bool ProjectJobs::buildRecords() {
  if (!session_->isOpen() || records_->isRunning()) {
    return false;
  }
  const QString project = session_->projectDir();
  return records_->start([project](std::stop_token stop, const core::ProgressFn& progress) {
    records::RecordBuildSettings build;
    build.project = toPath(project);
    build.numThreads = std::max(1, QThread::idealThreadCount());
    build.trainShards = 4;
    const auto report = project::buildRecords(build, progress, stop);
    std::int64_t total = 0;
    for (const auto& split : report.splits) {
      total += split.records;
    }
    return QObject::tr("%1 records written (%2 images skipped)")
        .arg(total)
        .arg(report.skipped.size());
  });
}

bool ProjectJobs::evaluate(const QString& runDir) {
  if (runDir.isEmpty() || evaluate_->isRunning()) {
    return false;
  }
  evaluating_ = runDir;
  const QString records = session_->recordsDir();
  return evaluate_->start(
      [runDir, records](std::stop_token stop, const core::ProgressFn& progress) {
        eval::EvalSettings settings;
        settings.checkpoint = toPath(runDir);
        settings.evalDir = project::evalDirOf(settings.checkpoint);
        settings.dataDir = toPath(records);
        settings.model.subset = project::defaultEvalSubset(settings.dataDir);
        settings.model.precision = "fp32";  // the inference form, metrics exact as the CLI's
        const auto outcome = eval::evaluateCheckpoint(settings, stop, progress);
        return QObject::tr("%1 step %2: precision @ 1 = %3 recall @ 5 = %4")
            .arg(QString::fromStdString(settings.model.subset))
            .arg(outcome.step)
            .arg(outcome.report.precisionAt1, 0, 'f', 4)
            .arg(outcome.report.recallAtK, 0, 'f', 4);
      });
}

}  // namespace taxon::ui
