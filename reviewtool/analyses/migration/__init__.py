"""The API migration map: call sites of an old and a new API per revision, file and area.

For each revision of a series: which calls of the old API the patches removed, which remain
after the last patch, which calls of the new API they added (function and line each), how the
old positional arguments map onto the new API (from removed/added call pairs in the same
function), and what still names the old API after its definition is gone.

Two ways to see the code. With a repository and a base, the revision is applied in a
private temporary index and whole files before and after are parsed: "remaining" is then every
call in the tree. From the patch alone, only what the hunks show is known: results are marked
partial. A patch that does not apply is noted and the revision falls back to hunk images.

Modules, one job each: `model`, `sites` (call sites, leftovers), `tree_mode`, `hunk_mode`,
`declarations`, `arguments` (argument inference), `finish` (a file's mappings and status),
`detect` (auto-detection), `build` (a whole series).
"""

from reviewtool.analyses.migration.arguments import (
    map_arguments,
    wrapper_pairs,
)
from reviewtool.analyses.migration.build import (
    build_map,
    effective_revision,
    map_revision,
)
from reviewtool.analyses.migration.declarations import (
    old_prototype,
    static_definitions,
)
from reviewtool.analyses.migration.detect import (
    detect_candidates,
)
from reviewtool.analyses.migration.model import (
    COVER_PATH,
    FLAG_RE,
    LITERAL_FALSE,
    LITERAL_TRUE,
    MIN_CANDIDATE_FILES,
    STATUS_LEFTOVER,
    STATUS_MIGRATED,
    STATUS_PARTIAL,
    STATUS_UNTOUCHED,
    ArgumentMapping,
    Candidate,
    FileMigration,
    Leftover,
    MigrationMap,
    RevisionMigration,
    Site,
)
from reviewtool.analyses.migration.sites import (
    api_calls,
    shadows,
)

__all__ = [
    "ArgumentMapping",
    "COVER_PATH",
    "Candidate",
    "FLAG_RE",
    "FileMigration",
    "LITERAL_FALSE",
    "LITERAL_TRUE",
    "Leftover",
    "MIN_CANDIDATE_FILES",
    "MigrationMap",
    "RevisionMigration",
    "STATUS_LEFTOVER",
    "STATUS_MIGRATED",
    "STATUS_PARTIAL",
    "STATUS_UNTOUCHED",
    "Site",
    "api_calls",
    "build_map",
    "detect_candidates",
    "effective_revision",
    "map_arguments",
    "map_revision",
    "old_prototype",
    "shadows",
    "static_definitions",
    "wrapper_pairs",
]
