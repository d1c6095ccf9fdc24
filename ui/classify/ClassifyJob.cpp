#include "classify/ClassifyJob.hpp"

#include <QBuffer>
#include <QDir>
#include <QDirIterator>
#include <QFileInfo>
#include <QImageReader>
#include <QMetaObject>
#include <algorithm>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "checkpoint/CheckpointFiles.hpp"
#include "common/Paths.hpp"
#include "common/Thumbnails.hpp"
#include "project/Split.hpp"
#include "similar/Embed.hpp"

namespace taxon::ui {

namespace fs = std::filesystem;

namespace {

const char* const kNoModel = "No trained model yet: train one on the Train page";

QString toQString(const std::string& utf8) {
  return QString::fromStdString(utf8);
}

// Files stand for themselves; a folder for the image files under it, sorted.
QStringList expandFolders(const QStringList& paths) {
  static const QStringList kImageFilters = {QStringLiteral("*.jpg"),  QStringLiteral("*.jpeg"),
                                            QStringLiteral("*.png"),  QStringLiteral("*.bmp"),
                                            QStringLiteral("*.webp"), QStringLiteral("*.tif"),
                                            QStringLiteral("*.tiff")};
  QStringList out;
  for (const QString& path : paths) {
    if (!QFileInfo(path).isDir()) {
      out.append(path);
      continue;
    }
    QStringList inside;
    QDirIterator it(path, kImageFilters, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
      inside.append(it.next());
    }
    inside.sort();
    out.append(inside);
  }
  return out;
}

QImage thumbnail(QImageReader& reader) {
  const int side = ClassifyJob::kThumbnailSide;
  return decodeThumbnail(reader, QSize(side, side), ThumbnailFit::Shrink);
}

QImage fileThumbnail(const QString& path) {
  QImageReader reader(path);
  return thumbnail(reader);
}

QImage bytesThumbnail(const QByteArray& bytes) {
  QBuffer buffer;
  buffer.setData(bytes);
  buffer.open(QIODevice::ReadOnly);
  QImageReader reader(&buffer);
  return thumbnail(reader);
}

ImageResult toResult(const infer::Classification& classification, const QString& path) {
  ImageResult result;
  result.path = path;
  result.error = toQString(classification.error);
  for (const auto& ranked : classification.top) {
    result.top.append({toQString(ranked.name), ranked.score});
  }
  return result;
}

}  // namespace

// What the worker thread alone touches.
struct ClassifyJob::Worker {
  std::unique_ptr<infer::Classifier> classifier;
  QString dir;                   // the folder `classifier` came from
  std::int64_t newestSeen = -1;  // the newest checkpoint step found there at the last load
  std::string precision;         // what `classifier` was loaded with
  // The project's store for the loaded checkpoint, opened on first use; `finderKey` says for
  // which project, folder and step (a store missing then is looked for again next request).
  std::unique_ptr<similar::NeighbourFinder> finder;
  QString finderKey;

  // Fills `results`' similar images (those that were classified; `features` holds theirs, in
  // order).
  void findSimilar(const QString& project, QList<ImageResult>& results,
                   const std::vector<std::vector<float>>& features) {
    if (project.isEmpty() || !classifier) {
      return;
    }
    const QString key =
        project + QLatin1Char('\n') + dir + QLatin1Char('\n') + QString::number(classifier->step());
    QString note;
    if (key != finderKey || !finder) {
      finder.reset();
      finderKey = key;
      try {
        finder = std::make_unique<similar::NeighbourFinder>(toPath(project), toPath(dir),
                                                            classifier->step());
      } catch (const std::exception& e) {
        note = toQString(e.what());
      }
    }
    for (qsizetype i = 0; i < results.size(); ++i) {
      auto& result = results[i];
      const auto& vector = features[static_cast<std::size_t>(i)];
      if (!result.error.isEmpty() || vector.empty()) {
        continue;
      }
      if (!finder) {
        result.similarNote =
            note.isEmpty() ? ClassifyJob::tr("No embeddings of this model in the project") : note;
        continue;
      }
      for (const auto& n : finder->nearest(vector, kSimilar, toPath(result.path))) {
        SimilarEntry entry;
        entry.path = fromPath(n.path);
        entry.category = toQString(n.category);
        entry.split = toQString(std::string(project::splitName(n.split)));
        entry.distance = static_cast<double>(n.distance);
        QImageReader reader(entry.path);
        entry.thumbnail = decodeThumbnail(reader, QSize(kSimilarThumbnail, kSimilarThumbnail),
                                          ThumbnailFit::Shrink);
        // Small pictures (Fashion-MNIST's 28 pixels) are enlarged, pixels kept sharp.
        if (!entry.thumbnail.isNull() &&
            std::max(entry.thumbnail.width(), entry.thumbnail.height()) < kSimilarThumbnail / 2) {
          entry.thumbnail = entry.thumbnail.scaled(kSimilarThumbnail, kSimilarThumbnail,
                                                   Qt::KeepAspectRatio, Qt::FastTransformation);
        }
        result.similar.append(std::move(entry));
      }
    }
  }
};

ClassifyJob::ClassifyJob(infer::ClassifierSettings settings, QObject* parent)
    : QObject(parent), settings_(std::move(settings)) {
  settings_.features = true;  // for the similar images
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

ClassifyJob::~ClassifyJob() {
  {
    std::lock_guard lock(mutex_);
    queue_.clear();
    current_.request_stop();
  }
  thread_.request_stop();
  if (thread_.joinable()) {
    thread_.join();
  }
  // Calls the worker posted and not yet run are dropped with this object (~QObject).
}

void ClassifyJob::classifyFiles(const QString& checkpointDir, const QStringList& files) {
  if (files.isEmpty()) {
    return;
  }
  Request request;
  request.checkpointDir = checkpointDir;
  request.files = files;
  request.project = project_;
  enqueue(std::move(request));
}

void ClassifyJob::classifyBytes(const QString& checkpointDir, const QByteArray& bytes,
                                const QString& name) {
  Request request;
  request.checkpointDir = checkpointDir;
  request.fromBytes = true;
  request.bytes = bytes;
  request.name = name;
  request.project = project_;
  enqueue(std::move(request));
}

void ClassifyJob::cancel() {
  {
    std::lock_guard lock(mutex_);
    queue_.clear();
    current_.request_stop();
  }
  ++generation_;
  if (outstanding_ > 0) {
    outstanding_ = 0;
    Q_EMIT busyChanged(false);
  }
}

void ClassifyJob::enqueue(Request request) {
  request.generation = generation_;
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(request));
  }
  wake_.notify_one();
  if (outstanding_++ == 0) {
    Q_EMIT busyChanged(true);
  }
}

void ClassifyJob::run(std::stop_token stop) {
  Worker worker;
  while (true) {
    Request request;
    std::stop_source requestStop;
    {
      std::unique_lock lock(mutex_);
      if (!wake_.wait(lock, stop, [this] { return !queue_.empty(); })) {
        return;
      }
      request = std::move(queue_.front());
      queue_.pop_front();
      current_ = requestStop;
    }
    const std::stop_callback forward(stop, [&requestStop] { requestStop.request_stop(); });
    const quint64 generation = request.generation;
    try {
      process(worker, request, requestStop.get_token());
    } catch (const std::exception& e) {
      const QString message = toQString(e.what());
      QMetaObject::invokeMethod(
          this, [this, generation, message] { deliverFailure(generation, message); },
          Qt::QueuedConnection);
    }
    QMetaObject::invokeMethod(
        this, [this, generation] { requestDone(generation); }, Qt::QueuedConnection);
  }
}

void ClassifyJob::process(Worker& worker, const Request& request, std::stop_token stop) {
  const quint64 generation = request.generation;
  const auto fail = [this, generation](const QString& message) {
    QMetaObject::invokeMethod(
        this, [this, generation, message] { deliverFailure(generation, message); },
        Qt::QueuedConnection);
  };
  const auto deliverLater = [this, generation](const QList<ImageResult>& results) {
    QMetaObject::invokeMethod(
        this, [this, generation, results] { deliver(generation, results); }, Qt::QueuedConnection);
  };

  // The model: the newest checkpoint of the folder, reloaded when a newer one appeared.
  // Features compared with a project's store are computed as `taxon embed` stores them, in fp32:
  // bf16 moves them by more than the distances between look-alike images.
  auto settings = settings_;
  if (!request.project.isEmpty()) {
    settings.precision = "fp32";
  }
  if (worker.dir != request.checkpointDir || worker.precision != settings.precision) {
    worker.classifier.reset();
    worker.dir = request.checkpointDir;
    worker.precision = settings.precision;
    worker.newestSeen = -1;
  }
  const fs::path dir = toPath(request.checkpointDir);
  const auto newest =
      request.checkpointDir.isEmpty() ? std::nullopt : checkpoint::newestCheckpoint(dir);
  if (newest && newest->step > worker.newestSeen) {
    try {
      auto classifier = std::make_unique<infer::Classifier>(dir, settings);
      worker.classifier = std::move(classifier);
      worker.newestSeen = newest->step;
      const QString checkpoint = fromPath(worker.classifier->checkpoint());
      const qint64 step = worker.classifier->step();
      // Told even when the request is cancelled: it is the model loaded now.
      QMetaObject::invokeMethod(
          this, [this, checkpoint, step] { Q_EMIT modelLoaded(checkpoint, step); },
          Qt::QueuedConnection);
      for (const auto& warning : worker.classifier->warnings()) {
        fail(toQString(warning));
      }
    } catch (const std::exception& e) {
      // Keep classifying with the model already loaded, if any; try again next request.
      fail(QStringLiteral("The model in %1 could not be loaded: %2")
               .arg(QDir::toNativeSeparators(request.checkpointDir), toQString(e.what())));
      if (!worker.classifier) {
        return;
      }
    }
  }
  if (!worker.classifier) {
    fail(QString::fromLatin1(kNoModel));
    return;
  }

  if (request.fromBytes) {
    const std::string bytes(request.bytes.constData(),
                            static_cast<std::size_t>(request.bytes.size()));
    const auto classified =
        worker.classifier->classifyBytes(bytes, request.name.toStdString(), kTopK);
    QList<ImageResult> results{toResult(classified, request.name)};
    results[0].thumbnail = bytesThumbnail(request.bytes);
    results[0].bytes = request.bytes;
    results[0].checkpoint = fromPath(worker.classifier->checkpoint());
    worker.findSimilar(request.project, results, {classified.features});
    deliverLater(results);
    return;
  }

  const QStringList files = expandFolders(request.files);
  if (files.isEmpty()) {
    fail(QStringLiteral("No image files in %1").arg(request.files.join(QStringLiteral(", "))));
    return;
  }
  for (qsizetype first = 0; first < files.size(); first += kChunk) {
    if (stop.stop_requested()) {
      return;
    }
    const QStringList chunk = files.mid(first, kChunk);
    std::vector<fs::path> paths;
    paths.reserve(static_cast<std::size_t>(chunk.size()));
    for (const QString& file : chunk) {
      paths.push_back(toPath(file));
    }
    const auto classified = worker.classifier->classifyFiles(paths, kTopK, stop);
    if (stop.stop_requested()) {
      return;
    }
    QList<ImageResult> results;
    results.reserve(chunk.size());
    std::vector<std::vector<float>> features;
    for (qsizetype i = 0; i < chunk.size(); ++i) {
      ImageResult result = toResult(classified[static_cast<std::size_t>(i)], chunk[i]);
      result.thumbnail = fileThumbnail(chunk[i]);
      result.checkpoint = fromPath(worker.classifier->checkpoint());
      results.append(std::move(result));
      features.push_back(classified[static_cast<std::size_t>(i)].features);
    }
    worker.findSimilar(request.project, results, features);
    deliverLater(results);
  }
}

void ClassifyJob::deliver(quint64 generation, const QList<ImageResult>& results) {
  if (generation == generation_) {
    Q_EMIT resultsReady(results);
  }
}

void ClassifyJob::deliverFailure(quint64 generation, const QString& message) {
  if (generation == generation_) {
    Q_EMIT failed(message);
  }
}

void ClassifyJob::requestDone(quint64 generation) {
  if (generation != generation_ || outstanding_ == 0) {
    return;
  }
  if (--outstanding_ == 0) {
    Q_EMIT busyChanged(false);
  }
}

}  // namespace taxon::ui
