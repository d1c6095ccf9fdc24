#include "commands/Edits.hpp"

#include <cstdio>
#include <memory>

#include "core/CategoryPath.hpp"
#include "core/Error.hpp"
#include "project/Catalog.hpp"

namespace taxon::app {

namespace {

// The category ids of `path` and every category below it; throws when there is none.
std::vector<std::int64_t> subtreeIds(project::Catalog& catalog, const std::string& path) {
  const std::string normal = core::normalizeCategoryPath(path);
  std::vector<std::int64_t> ids;
  for (const auto& category : catalog.categories()) {
    if (category.path == normal || category.path.starts_with(normal + " > ")) {
      ids.push_back(category.id);
    }
  }
  if (ids.empty()) {
    throw core::UsageError("--category: the project has no category \"" + normal +
                           "\" (nor one below it)");
  }
  return ids;
}

int replay(const std::string& project, bool forward) {
  project::Catalog catalog(project, /*create=*/false);
  const char* verb = forward ? "redo" : "undo";
  const auto edit = catalog.nextEdit(forward);
  if (!edit || !(forward ? catalog.redo() : catalog.undo())) {
    std::fprintf(stderr, "taxon %s: nothing to %s in %s\n", verb, verb,
                 catalog.projectDir().c_str());
    return 1;
  }
  std::printf("%s edit %lld of %s (%s", forward ? "Redid" : "Undid",
              static_cast<long long>(edit->id), edit->at.c_str(), edit->kind.c_str());
  if (edit->images > 0) {
    std::printf(", %s", countOf(edit->images, "image").c_str());
  }
  std::printf(").\n%s images are unlabeled now.\n",
              withThousands(catalog.imageCount(project::kUnlabeled)).c_str());
  return 0;
}

}  // namespace

int runAccept(const AcceptOptions& o) {
  project::Catalog catalog(o.project, /*create=*/false);
  project::SuggestionQuery query;
  query.minScore = o.minScore;
  if (!o.category.empty()) {
    query.categoryIds = subtreeIds(catalog, o.category);
  }
  const auto count = catalog.suggestionCount(query);
  const std::string where = o.category.empty() ? "" : " in \"" + o.category + "\"";
  if (o.dryRun) {
    std::printf("%s would be labeled with their top suggestion (score at least %.2f%s).\n",
                countOf(count, "unlabeled image").c_str(), o.minScore, where.c_str());
    return 0;
  }
  if (count == 0) {
    std::fprintf(stderr,
                 "taxon accept: no unlabeled image has a suggestion scoring at least %.2f%s "
                 "(run taxon suggest first, or lower --min_score)\n",
                 o.minScore, where.c_str());
    return 1;
  }
  const auto edit = catalog.acceptSuggestions(query);
  std::printf(
      "Labeled %s with their top suggestion (score at least %.2f%s) as edit %lld; "
      "taxon undo %s reverts it.\n",
      countOf(count, "image").c_str(), o.minScore, where.c_str(), static_cast<long long>(edit),
      o.project.c_str());
  std::printf("%s images are unlabeled now.\n",
              withThousands(catalog.imageCount(project::kUnlabeled)).c_str());
  return 0;
}

Command addAcceptCommand(CLI::App& app) {
  auto* cli = app.add_subcommand(
      "accept", "Label unlabeled images with their top suggestion above a score (one edit)");
  auto o = std::make_shared<AcceptOptions>();
  cli->add_option("project", o->project, "Project folder")->required();
  cli->add_option("--min_score", o->minScore, "The top suggestion's score must be at least this")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cli->add_option("--category", o->category,
                  "Only suggestions of this category or a category below it");
  cli->add_flag("--dry_run", o->dryRun, "Only say how many images would be labeled");
  return {cli, [o]() -> int { return runAccept(*o); }};
}

Command addUndoCommand(CLI::App& app) {
  auto* cli = app.add_subcommand("undo", "Undo a project's latest label or category edit");
  auto project = std::make_shared<std::string>();
  cli->add_option("project", *project, "Project folder")->required();
  return {cli, [project]() -> int { return replay(*project, /*forward=*/false); }};
}

Command addRedoCommand(CLI::App& app) {
  auto* cli = app.add_subcommand("redo", "Redo the edit undone last");
  auto project = std::make_shared<std::string>();
  cli->add_option("project", *project, "Project folder")->required();
  return {cli, [project]() -> int { return replay(*project, /*forward=*/true); }};
}

}  // namespace taxon::app
