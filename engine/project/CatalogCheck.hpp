// The catalog's consistency check, for `taxon info PROJECT` and the crash tests: SQLite's own
// `PRAGMA integrity_check` and `foreign_key_check`, then the project's rules that SQLite does not
// enforce. Read-only; opens its own connection, so it may run while another process has the
// project open.
#pragma once

#include <string>
#include <vector>

#include "project/Catalog.hpp"

namespace taxon::project {

// Every problem found, one line each naming what is wrong (empty: the catalog is consistent):
// - SQLite's integrity and foreign-key checks;
// - no image is in a deleted category;
// - every relabel edit moved at least one image, and no move names a missing category;
// - the undo chain: every edit that undo would revert (active) is older than every edit redo
//   would re-apply (undone), as undo and redo replay them in order;
// - each image that an active edit moved has the category that the latest such edit gave it.
// Throws core::Error (naming the file) when the catalog cannot be read at all.
std::vector<std::string> checkCatalog(const Catalog& catalog);

}  // namespace taxon::project
