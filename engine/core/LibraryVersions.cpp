#include "core/LibraryVersions.hpp"

#include <google/protobuf/stubs/common.h>
#include <sqlite3.h>
#include <opencv2/core/version.hpp>

namespace taxon::core {

LibraryVersions libraryVersions() {
  return LibraryVersions{CV_VERSION,
                         google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION),
                         sqlite3_libversion()};
}

}  // namespace taxon::core
