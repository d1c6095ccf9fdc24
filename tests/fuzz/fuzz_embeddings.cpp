// A project's embedding store (similar/EmbeddingStore: `taxon similar`, the similar-images panels
// and `taxon duplicates` open it; a copied or damaged project brings it). Input: meta.json, then
// ids.i64 and vectors.f16 (FuzzInput.hpp's separator); an empty part is a missing file. The
// graph index (hnsw.bin) is left out: hnswlib trusts its input, so the store reads it only when
// its size and CRC-32C match what meta.json recorded when Taxon wrote it.
#include <filesystem>

#include "FuzzInput.hpp"
#include "core/Error.hpp"
#include "similar/EmbeddingStore.hpp"

using namespace taxon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto dir = fuzz::writeFolder("embeddings", {"meta.json", "ids.i64", "vectors.f16"},
                                     fuzz::asText(data, size));
  try {
    const similar::EmbeddingStore store(dir);
    if (store.rows() > 0 && store.meta().dim <= 4096) {
      const auto row = store.row(0);
      store.nearest(row, 3, store.ids()[0], /*exact=*/true);
    }
  } catch (const core::Error&) {
  }
  return 0;
}
