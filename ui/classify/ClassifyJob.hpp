// The bridge between the Classify page and infer::Classifier. One worker thread (started here,
// joined in the destructor) holds the classifier and serves requests in order: image files (a
// folder stands for the image files inside it) or encoded image bytes from the clipboard. Before
// each request it looks for a newer checkpoint in the checkpoint folder (the highest STEP of
// model.ckpt-STEP.taxon) and reloads, so classification follows a run that is still training.
//
// Thread: create, call and destroy on the GUI thread. Every signal is emitted on the GUI thread
// (the worker posts queued calls); no call waits for the worker except the destructor, which
// cancels the running request (checked between batches) and joins.
#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stop_token>
#include <thread>

#include "classify/ImageResult.hpp"
#include "infer/Classifier.hpp"

namespace taxon::ui {

class ClassifyJob : public QObject {
  Q_OBJECT

 public:
  static constexpr int kTopK = 5;
  static constexpr int kThumbnailSide = 128;  // pixels; sharp at 64 logical pixels on 2x screens
  static constexpr int kChunk = 16;           // images per resultsReady() of a long request
  static constexpr int kSimilar = 12;         // similar images found per result
  static constexpr int kSimilarThumbnail = 96;

  explicit ClassifyJob(infer::ClassifierSettings settings = {}, QObject* parent = nullptr);
  ~ClassifyJob() override;

  // Queues files (or folders) to classify with the newest checkpoint of `checkpointDir` (a train
  // dir, or one checkpoint file). Results come in resultsReady(), in chunks, in the given order.
  void classifyFiles(const QString& checkpointDir, const QStringList& files);
  // Queues one encoded image (PNG, JPEG...); `name` stands for its path in the result.
  void classifyBytes(const QString& checkpointDir, const QByteArray& bytes, const QString& name);
  // Drops the queued requests and stops the running one; their results are not delivered.
  void cancel();
  bool busy() const { return outstanding_ > 0; }
  // The project whose images are searched for similar ones (after `taxon embed` with the model's
  // checkpoint); empty: none. Applies to requests queued after the call.
  void setProject(const QString& project) { project_ = project; }

 Q_SIGNALS:
  void modelLoaded(const QString& checkpoint, qint64 step);
  // A request could not run (no checkpoint, a checkpoint that does not load): a sentence a person
  // can act on. Images that fail alone come as result rows with their error instead.
  void failed(const QString& message);
  void resultsReady(const QList<taxon::ui::ImageResult>& results);
  void busyChanged(bool busy);

 private:
  struct Request {
    quint64 generation = 0;
    QString checkpointDir;
    QStringList files;
    bool fromBytes = false;  // `bytes` and `name` instead of `files`
    QByteArray bytes;
    QString name;
    QString project;
  };
  struct Worker;

  void enqueue(Request request);
  void run(std::stop_token stop);
  void process(Worker& worker, const Request& request, std::stop_token stop);
  // Called on the GUI thread through queued calls posted by the worker.
  void deliver(quint64 generation, const QList<ImageResult>& results);
  void deliverFailure(quint64 generation, const QString& message);
  void requestDone(quint64 generation);

  infer::ClassifierSettings settings_;
  // GUI thread only.
  quint64 generation_ = 0;
  int outstanding_ = 0;
  QString project_;
  // Shared with the worker.
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::deque<Request> queue_;
  std::stop_source current_;  // the running request's; cancel() requests it
  std::jthread thread_;       // last: joined before the members above go
};

}  // namespace taxon::ui
