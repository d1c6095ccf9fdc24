// taxon_relabel_loop: relabels images of a project the way the app does (ProjectSession::relabel:
// the category is made if missing, then Catalog::relabel moves the images as one undoable edit),
// over and over, so that tests/e2e/test_Robust.cpp and bench/robust/run.sh can kill it at any
// moment and then check the catalog.
//
//   taxon_relabel_loop run PROJECT JOURNAL SEED [COUNT]   COUNT edits (default 0: until killed)
//   taxon_relabel_loop verify PROJECT JOURNAL
//
// `run` appends to JOURNAL, flushed to disk, a `begin` line before each edit (the images, their
// categories before, the target category) and a `done` line after it. `verify` reads it after a
// kill: the last edit begun must be wholly applied or wholly not, the catalog check must pass,
// and undo must revert the last applied edit (and redo re-apply it). It prints "applied", "not
// applied" or "no edit" and exits 0, or names the problem and exits 1. Errors (a full disk) exit
// 1 with the message the app would show.
#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "project/Catalog.hpp"
#include "project/CatalogCheck.hpp"

namespace {

namespace fs = std::filesystem;
using taxon::project::Catalog;

struct Move {
  std::int64_t imageId = 0;
  std::int64_t oldCategoryId = 0;
};

// One `begin` line: "begin<TAB>TARGET<TAB>ID=OLD,ID=OLD,...", then maybe "done<TAB>EDIT" or, once
// verify found it not applied, "void".
struct Begun {
  std::string target;
  std::vector<Move> moves;
  bool done = false;
  bool voided = false;
};

void appendLine(const fs::path& journal, const std::string& line) {
  const int fd = ::open(journal.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  const std::string text = line + "\n";
  if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
      ::fsync(fd) != 0) {
    throw std::runtime_error(journal.string() + ": cannot append to the journal");
  }
  ::close(fd);
}

std::vector<Begun> readJournal(const fs::path& journal) {
  std::ifstream in(journal);
  std::vector<Begun> edits;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string kind;
    std::getline(fields, kind, '\t');
    if (kind == "begin") {
      Begun b;
      std::getline(fields, b.target, '\t');
      std::string list;
      std::getline(fields, list);
      std::istringstream items(list);
      std::string item;
      while (std::getline(items, item, ',')) {
        const auto eq = item.find('=');
        b.moves.push_back({std::stoll(item.substr(0, eq)), std::stoll(item.substr(eq + 1))});
      }
      edits.push_back(std::move(b));
    } else if (kind == "done" && !edits.empty()) {
      edits.back().done = true;
    } else if (kind == "void" && !edits.empty()) {
      edits.back().voided = true;
    }
  }
  return edits;
}

std::int64_t categoryOf(Catalog& catalog, std::int64_t imageId) {
  const auto image = catalog.image(imageId);
  if (!image) {
    throw std::runtime_error("image " + std::to_string(imageId) + " is missing");
  }
  return image->categoryId;
}

int run(const fs::path& project, const fs::path& journal, std::uint32_t seed, long count) {
  Catalog catalog(project, /*create=*/false);
  const auto images = catalog.images();
  if (images.empty()) {
    throw std::runtime_error(project.string() + ": the project has no images");
  }
  std::mt19937 rng(seed);
  for (long i = 0; count == 0 || i < count; ++i) {
    // 1 to 8 images; an existing category, or now and then a new one.
    const auto categories = catalog.categories();
    const std::string target = rng() % 5 == 0 || categories.empty()
                                   ? "Relabeled > k" + std::to_string(rng() % 1000)
                                   : categories[rng() % categories.size()].path;
    std::vector<std::int64_t> ids;
    std::string list;
    for (std::uint32_t n = 1 + rng() % 8; n > 0; --n) {
      const auto id = images[rng() % images.size()].id;
      ids.push_back(id);
      list += (list.empty() ? "" : ",") + std::to_string(id) + "=" +
              std::to_string(categoryOf(catalog, id));
    }
    appendLine(journal, "begin\t" + target + "\t" + list);
    // As ProjectSession::relabel does it.
    const std::int64_t category = catalog.ensureCategory(target);
    const std::int64_t edit = catalog.relabel(ids, category);
    appendLine(journal, "done\t" + std::to_string(edit));
  }
  return 0;
}

// "" when every image of `b` has the category `applied` says (the target, or its old one).
std::string compare(Catalog& catalog, const Begun& b, bool applied) {
  const auto target = catalog.findCategory(b.target);
  for (const auto& move : b.moves) {
    const auto now = categoryOf(catalog, move.imageId);
    const auto want = applied ? (target ? target->id : -1) : move.oldCategoryId;
    if (now != want) {
      return "image " + std::to_string(move.imageId) + " has category " + std::to_string(now) +
             ", expected " + std::to_string(want);
    }
  }
  return {};
}

int verify(const fs::path& project, const fs::path& journal) {
  Catalog catalog(project, /*create=*/false);
  auto edits = readJournal(journal);
  const auto fail = [](const std::string& what) {
    std::fprintf(stderr, "taxon_relabel_loop verify: %s\n", what.c_str());
    return 1;
  };
  // Edits that verify found not applied earlier do not count.
  std::erase_if(edits, [](const Begun& b) { return b.voided; });
  std::string outcome = "no edit";
  if (!edits.empty()) {
    const Begun& last = edits.back();
    const auto asApplied = compare(catalog, last, true);
    const auto asBefore = compare(catalog, last, false);
    if (!asApplied.empty() && !asBefore.empty()) {
      return fail("the last edit is half applied: " + asApplied + "; " + asBefore);
    }
    if (last.done && !asApplied.empty()) {
      return fail("an edit that returned is not in the catalog: " + asApplied);
    }
    outcome = asApplied.empty() ? "applied" : "not applied";
    if (!asApplied.empty()) {
      appendLine(journal, "void");
      edits.pop_back();
    }
  }
  if (const auto problems = taxon::project::checkCatalog(catalog); !problems.empty()) {
    return fail("catalog check: " + problems.front());
  }
  // Undo reverts the last applied edit, redo brings it back. An edit that changed nothing (every
  // image had the target already) made no history entry, so look for the last one that moved.
  while (!edits.empty() && compare(catalog, edits.back(), false).empty()) {
    edits.pop_back();
  }
  if (edits.empty()) {
    if (catalog.canUndo()) {
      return fail("undo is possible, but no edit was applied");
    }
  } else {
    if (!catalog.undo()) {
      return fail("undo found no edit");
    }
    if (const auto diff = compare(catalog, edits.back(), false); !diff.empty()) {
      return fail("after undo: " + diff);
    }
    if (!catalog.redo()) {
      return fail("redo found no edit");
    }
    if (const auto diff = compare(catalog, edits.back(), true); !diff.empty()) {
      return fail("after redo: " + diff);
    }
  }
  std::printf("%s\n", outcome.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGXFSZ, SIG_IGN);  // as the app: past a file size limit, writes fail with EFBIG
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() >= 4 && args[0] == "run") {
      return run(args[1], args[2], static_cast<std::uint32_t>(std::stoul(args[3])),
                 args.size() > 4 ? std::stol(args[4]) : 0);
    }
    if (args.size() == 3 && args[0] == "verify") {
      return verify(args[1], args[2]);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "taxon_relabel_loop: error: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr,
               "usage: taxon_relabel_loop run PROJECT JOURNAL SEED [COUNT]\n"
               "       taxon_relabel_loop verify PROJECT JOURNAL\n");
  return 2;
}
