// Fashion-MNIST IDX files (project/import's IDX source), plain or gzip: an input is the images
// file, then the labels file (FuzzInput.hpp's separator; an empty part is a missing file); at
// most 16 images are extracted.
#include <filesystem>

#include "FuzzInput.hpp"
#include "core/Error.hpp"
#include "project/import/ImportSources.hpp"

using namespace taxon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A gzip file is recognised by its content, whatever the name.
  const auto dir =
      fuzz::writeFolder("idx", {"source/train-images-idx3-ubyte", "source/train-labels-idx1-ubyte"},
                        fuzz::asText(data, size));
  try {
    project::importer::Collected collected;
    project::importer::extractIdx(dir / "source", dir / "project", 16, collected, {}, {});
  } catch (const core::Error&) {
  }
  return 0;
}
