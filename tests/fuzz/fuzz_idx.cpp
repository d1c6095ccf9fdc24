// Fashion-MNIST IDX files (project/import's IDX source), plain or gzip: an input is the images
// file, then the labels file (FuzzInput.hpp's separator); at most 16 images are extracted.
#include <filesystem>

#include "FuzzInput.hpp"
#include "core/Error.hpp"
#include "project/import/ImportSources.hpp"

using namespace taxon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parts = fuzz::splitParts(fuzz::asText(data, size), 2);
  const auto dir = fuzz::scratchDir() / "idx";
  std::filesystem::remove_all(dir);
  // A gzip file is recognised by its content, whatever the name.
  fuzz::writeScratch("idx/source/train-images-idx3-ubyte", parts[0]);
  fuzz::writeScratch("idx/source/train-labels-idx1-ubyte", parts[1]);
  try {
    project::importer::Collected collected;
    project::importer::extractIdx(dir / "source", dir / "project", 16, collected, {}, {});
  } catch (const core::Error&) {
  }
  return 0;
}
