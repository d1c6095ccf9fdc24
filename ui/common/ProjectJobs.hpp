// The project's long jobs, one room for the workflow the pages start: importing images, building
// the record shards training reads, and evaluating a run. Each runs on its own EngineTask (so an
// import, a build and an evaluation may overlap, but not two of one kind) and reports through
// typed signals on the GUI thread; the widgets only start jobs and show what comes back.
//
// Where things go is project::ProjectLayout's: records in PROJECT/records, a run's report in
// RUN/eval, the evaluation's split the layout's default for those records.
#pragma once

#include <QObject>
#include <QString>
#include <QStringList>

namespace taxon::ui {

class EngineTask;
class ProjectSession;

// What an import did: `report` is the text for the user (counts, skipped files, duplicates).
struct ImportSummary {
  bool cancelled = false;  // stopped early; what was imported so far is kept
  QString report;
};

// Records written for the project.
struct RecordsSummary {
  QString recordsDir;
  QString message;  // "N records written (M images skipped)"
};

// A run evaluated: its report folder and a one-line summary of the scores.
struct EvalSummary {
  QString runDir;
  QString evalDir;
  QString message;
};

class ProjectJobs : public QObject {
  Q_OBJECT

 public:
  enum class Job { Import, Records, Evaluation };
  Q_ENUM(Job)

  explicit ProjectJobs(ProjectSession* session, QObject* parent = nullptr);
  ~ProjectJobs() override;

  // Imports `sources` (folders, manifests, shards, IDX files) and the folders of unlabeled images
  // `unlabeled` into the open project, at most `limitPerFile` images per file (0: all). The
  // session is reopened afterwards so every page re-reads the catalog. False when no project is
  // open or an import is running.
  bool importSources(const QStringList& sources, qint64 limitPerFile = 0,
                     const QStringList& unlabeled = {});
  // Writes the project's record shards to its records folder. False when no project is open or a
  // build is running.
  bool buildRecords();
  // Evaluates the run in `runDir` on the project's records into RUN/eval. False when `runDir` is
  // empty or an evaluation is running.
  bool evaluate(const QString& runDir);
  void cancel(Job job);
  bool isRunning(Job job) const;

  // Whether the project's records are not older than its catalog (false with no project open).
  bool recordsCurrent() const;

 Q_SIGNALS:
  // At most ten times a second per job: stage, units done, units in all (0: unknown), unit name.
  void progress(ProjectJobs::Job job, const QString& stage, qint64 done, qint64 total,
                const QString& unit);
  void importFinished(const ImportSummary& summary);
  void recordsBuilt(const RecordsSummary& summary);
  void evaluated(const EvalSummary& summary);
  // A job threw (the message names what failed), or a records build was cancelled.
  void failed(ProjectJobs::Job job, const QString& message);

 private:
  EngineTask* task(Job job) const;

  ProjectSession* session_;
  EngineTask* import_;
  EngineTask* records_;
  EngineTask* evaluate_;
  QString evaluating_;  // the run being evaluated
};

}  // namespace taxon::ui
