// One evaluated image as the Inspect page lists it: the report's key and scores, and where the
// image is in the open project (no image id: not in the project, so it cannot be relabelled).
#pragma once

#include <QString>
#include <cstdint>
#include <optional>

namespace taxon::ui {

struct ExampleRow {
  QString key;  // as written in the report (the catalog path for project records)
  QString labelName;
  QString predictedName;
  double labelProbability = 0;
  double predictedProbability = 0;
  std::optional<std::int64_t> imageId;  // in the open project's catalog
  QString file;                         // the image file on disk; empty when unknown
};

}  // namespace taxon::ui
