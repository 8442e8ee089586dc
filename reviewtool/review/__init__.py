"""The review: one typed result object (series, comparisons, migration map, findings, review
comments, accounting) that the renderers, the pre-push hook and the bot read.

`model` holds the dataclasses, `verdict` what a maintainer must act on, `flags` what a patch's
history says of its review (unchanged, trailers carried over changed code), `document` the one
JSON document, `build` runs the analyses, `findings` folds the checker's per-patch findings into
what each revision holds.
"""

from reviewtool.lazy import lazy_exports
from reviewtool.review.model import (
    ALL_ANALYSES,
    ANALYSIS_CHANGELOG,
    ANALYSIS_FOLLOWUP,
    ANALYSIS_MIGRATION,
    ANALYSIS_RANGEDIFF,
    ANALYSIS_SPEC,
    AnalysisNote,
    Review,
    RevisionFindings,
    SeriesReview,
    VersionComparison,
)
from reviewtool.series.model import REVIEWED_TRAILERS, Accounting, Revision, reviewers

# Running a review loads every analysis (SciPy, tree-sitter); reading one (a renderer, the bot's
# summary) must not, so the builders are imported on first use.
_LAZY = {
    "ANALYSES": ".build",
    "Analyses": ".build",
    "build_review": ".build",
    "changelog_step_for": ".build",
    "effective_revisions": ".build",
    "review_paths": ".build",
    "review_series": ".build",
    "select_series": ".build",
    "file_sources": ".findings",
    "net_findings": ".findings",
    "review_json": ".document",
    "series_review_json": ".document",
    "PatchFlag": ".flags",
    "patch_flags": ".flags",
}


__getattr__ = lazy_exports(__name__, _LAZY, globals())


__all__ = [
    "ALL_ANALYSES",
    "ANALYSES",
    "ANALYSIS_CHANGELOG",
    "ANALYSIS_FOLLOWUP",
    "ANALYSIS_MIGRATION",
    "ANALYSIS_RANGEDIFF",
    "ANALYSIS_SPEC",
    "REVIEWED_TRAILERS",
    "Accounting",
    "Analyses",
    "AnalysisNote",
    "PatchFlag",
    "Review",
    "Revision",
    "RevisionFindings",
    "SeriesReview",
    "VersionComparison",
    "build_review",
    "changelog_step_for",
    "effective_revisions",
    "file_sources",
    "net_findings",
    "patch_flags",
    "review_paths",
    "review_json",
    "review_series",
    "reviewers",
    "select_series",
    "series_review_json",
]
