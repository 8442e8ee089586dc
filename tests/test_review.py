"""The Review model: what it gathers from the series and the analyses, and how it degrades."""

from __future__ import annotations

import importlib
import json
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import lxml.html
import pytest

from reviewtool import review as review_mod
from reviewtool.analyses.findings import Finding
from reviewtool.errors import UsageError
from reviewtool.ingest import load
from reviewtool.review import build as build_mod
from reviewtool.review import (
    build_review,
    changelog_step_for,
    review_json,
    review_series,
    series_review_json,
)
from reviewtool.series import to_json
from tests.helpers.git import git, git_env
from tests.helpers.review_support import leak_finding, make_series, mbox_text


@pytest.fixture
def mbox(tmp_path: Path) -> Path:
    """The three-version test series written as an mbox, read back by the real mail layer."""
    path = tmp_path / "series.mbox"
    path.write_text(mbox_text(make_series()), encoding="utf-8")
    return path


# Which entry point of review.build.Analyses each stand-in module replaces.
ENTRY_POINTS = {"SPEC_MODULE": "check_revision", "MIGRATION_MODULE": "build_map"}


@pytest.fixture
def analysis_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Write a real module onto sys.path and return a function that makes the review call it
    in place of one analysis (a checker with known answers: the real one's are tested apart)."""
    monkeypatch.syspath_prepend(str(tmp_path))
    created: list[str] = []

    def make(name: str, source: str, attribute: str) -> None:
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        created.append(name)
        entry = ENTRY_POINTS[attribute]
        func = getattr(importlib.import_module(name), entry)
        monkeypatch.setattr(build_mod, "ANALYSES", replace(build_mod.ANALYSES, **{entry: func}))

    yield make
    for name in created:
        sys.modules.pop(name, None)


def test_review_json_series_part_is_the_series_command_json(mbox: Path) -> None:
    collection = load([str(mbox)])
    review = build_review(collection, sources=[str(mbox)])
    doc = json.loads(json.dumps(review_json(review), default=str))
    expected = json.loads(json.dumps(to_json(collection), default=str))
    assert doc["series"] == expected["series"]
    assert doc["accounting"] == expected["accounting"]
    assert doc["reviews"][0]["latest"] == {"version": 3, "point": None, "label": "v3"}


def test_analysis_that_cannot_run_becomes_a_note_and_a_bug_is_not_hidden(
    mbox: Path, analysis_module
) -> None:
    # Replaces the test of the string-import adapter ("module not part of this build"): the
    # review now imports its analyses directly, and only a ReviewtoolError becomes a note.
    analysis_module(
        "no_api_map",
        """
        from reviewtool.errors import UsageError

        def build_map(revisions, repo=None):
            raise UsageError("no replaced API found in the patches")
        """,
        "MIGRATION_MODULE",
    )
    review = build_review(load([str(mbox)]))
    notes = [n for n in review.unavailable() if n.analysis == "migration"]
    assert len(notes) == 1
    assert "no replaced API found" in notes[0].reason
    assert review.series_reviews[0].migration is None
    assert review_json(review)["reviews"][0]["migration"] is None
    analysis_module(
        "buggy_map",
        """
        def build_map(revisions, repo=None):
            return {}["missing"]
        """,
        "MIGRATION_MODULE",
    )
    with pytest.raises(KeyError):
        build_review(load([str(mbox)]))


def test_analysis_that_raises_is_recorded_with_its_reason(mbox: Path, analysis_module) -> None:
    analysis_module(
        "broken_spec",
        """
        from reviewtool.errors import AnalysisError

        def check_revision(revision, repo=None, base=None):
            raise AnalysisError(f"cannot parse {revision.label}: unbalanced braces")
        """,
        "SPEC_MODULE",
    )
    review = build_review(load([str(mbox)]))
    sr = review.series_reviews[0]
    assert [entry.available for entry in sr.findings] == [False, False, False]
    reasons = {n.scope: n.reason for n in sr.unavailable() if n.analysis == "spec"}
    assert reasons["v3"] == "AnalysisError: cannot parse v3: unbalanced braces"
    assert review.findings() == []


def test_findings_are_marked_introduced_persisting_and_fixed(mbox: Path, analysis_module) -> None:
    # A checker whose findings follow the code of each patch, as the real one's do.
    analysis_module(
        "versioned_spec",
        """
        from reviewtool.analyses.findings import Finding

        def finding(rule, function, line):
            return Finding(rule=rule, severity="error", file="arch/x86/kvm/mmu/mmu.c",
                           line=line, function=function, message=rule)

        def check_revision(revision, repo=None, base=None):
            out = []
            for patch in revision.patches:
                if "FOLL_GET |" in patch.diff:
                    out.append(finding("double-release", "__kvm_faultin_pfn", 4335))
                if "EXPORT_SYMBOL_GPL(__kvm_follow_pfn)" in patch.diff:
                    out.append(finding("no-get-unguarded", "__kvm_follow_pfn", 2496))
                if "-\\tkvm_release_pfn_clean" in patch.diff:
                    out.append(finding("leak", "direct_page_fault", 4523))
            return out
        """,
        "SPEC_MODULE",
    )
    sr = build_review(load([str(mbox)])).series_reviews[0]
    v1, v2, v3 = sr.findings

    def statuses(entry):
        return sorted((f.rule, f.status) for f in entry.findings)

    assert statuses(v1) == [("double-release", "introduced"), ("no-get-unguarded", "introduced")]
    # v2 dropped FOLL_GET from the x86 path: the double release is fixed, the rest persists.
    assert statuses(v2) == [("no-get-unguarded", "persisting")]
    assert [(f.rule, f.status) for f in v2.fixed] == [("double-release", "fixed")]
    # v3's new patch 3 removes a release: a leak appears.
    assert statuses(v3) == [("leak", "introduced"), ("no-get-unguarded", "persisting")]
    assert v3.fixed == []
    leak = next(f for f in v3.findings if f.rule == "leak")
    assert (leak.version, leak.patch_index) == ("v3", 3)


def test_fail_threshold_counts_only_the_latest_revision(mbox: Path) -> None:
    sr = review_series(load([str(mbox)]).series[0], analyses=())
    old = leak_finding("v2")
    sr.findings = [
        review_mod.RevisionFindings("v2", findings=[old]),
        review_mod.RevisionFindings("v3", findings=[]),
    ]
    review = review_mod.Review(series_reviews=[sr], accounting=review_mod.Accounting())
    assert review.findings_at_least("warning") == []
    warn = Finding("mark-after-unlock", "warning", "a.c", 1, "f", "m", version="v3")
    sr.findings[-1].findings.append(warn)
    assert review.findings_at_least("warning") == [warn]
    assert review.findings_at_least("error") == []
    with pytest.raises(UsageError):
        review.findings_at_least("fatal")


def test_unreviewed_patches_are_those_of_the_latest_version_without_review_or_ack() -> None:
    sr = review_series(make_series(), analyses=())
    assert [p.index for p in sr.unreviewed_patches()] == [2, 3]


def test_changelog_step_is_the_one_from_the_previous_version() -> None:
    v1, v2, v3 = make_series().revisions
    step = changelog_step_for(v2, v3)
    assert step is not None and step.items[0] == "Add patch 3 to stop releasing pages"
    assert changelog_step_for(v1, v2).items == ["Drop FOLL_GET from the x86 fault path"]
    assert changelog_step_for(v2, v1) is None


def test_series_selection_by_title_part_and_unknown_selector(mbox: Path) -> None:
    collection = load([str(mbox)])
    assert len(build_review(collection, select="non-refcounted").series_reviews) == 1
    with pytest.raises(UsageError):
        build_review(collection, select="no such series")
    with pytest.raises(UsageError):
        build_review(collection, analyses=["rangediff", "astrology"])


def test_every_revision_pair_is_compared_in_order(mbox: Path) -> None:
    sr = build_review(load([str(mbox)])).series_reviews[0]
    assert [c.label for c in sr.comparisons] == ["v1 -> v2", "v2 -> v3"]
    doc = series_review_json(sr)
    assert [c["from"]["label"] for c in doc["comparisons"]] == ["v1", "v2"]
    assert all("available" in c for c in doc["comparisons"])


def test_build_review_reports_each_analysis_step_to_progress(mbox: Path) -> None:
    calls: list[tuple[int, int, str]] = []
    build_review(
        load([str(mbox)]), progress=lambda done, total, what: calls.append((done, total, what))
    )
    # Three revisions: two range-diffs, one migration map, three checker runs.
    assert [c[0] for c in calls] == list(range(6))
    assert {c[1] for c in calls} == {6}
    assert calls[0][2] == "range-diff v1 -> v2"
    assert calls[-1][2] == "checking v3"


def _patch_finding(rule: str, function: str, status: str, patch: int) -> Finding:
    return Finding(
        rule=rule,
        severity="error",
        file="arch/x86/kvm/mmu/mmu.c",
        line=4500 + patch,
        function=function,
        message=rule,
        status=status,
        patch_index=patch,
    )


def test_per_patch_findings_fold_into_what_the_revision_holds() -> None:
    found, fixed, in_base = review_mod.net_findings(
        [
            # 4/8 introduces a leak that 5/8 still shows: one finding, seen last in 5/8.
            _patch_finding("leak", "direct_page_fault", "introduced", 4),
            _patch_finding("leak", "direct_page_fault", "persisting", 5),
            # 5/8 introduces a double release that 6/8 fixes again: gone.
            _patch_finding("double-release", "kvm_faultin_pfn", "introduced", 5),
            _patch_finding("double-release", "kvm_faultin_pfn", "fixed", 6),
            # The base already marked a page dirty after unlock; 2/8 fixes it.
            _patch_finding("mark-after-unlock", "user_mem_abort", "fixed", 2),
            # The base already leaked in the PPC handler; 7/8 touches it and leaves it.
            _patch_finding("leak", "kvmppc_book3s_hv_page_fault", "persisting", 7),
        ]
    )
    assert [(f.rule, f.function, f.patch_index) for f in found] == [
        ("leak", "direct_page_fault", 5),
        ("leak", "kvmppc_book3s_hv_page_fault", 7),
    ]
    assert [(f.rule, f.patch_index) for f in fixed] == [("mark-after-unlock", 2)]
    assert in_base == {("leak", "arch/x86/kvm/mmu/mmu.c", "kvmppc_book3s_hv_page_fault", "")}


def test_point_revision_is_analysed_as_its_base_with_the_rerolled_patch() -> None:
    series = make_series()
    v3 = series.revisions[-1]
    reroll = review_mod.Revision(version=3, point=1, patches=[v3.patches[1]], total=3)
    applied = review_mod.effective_revisions([*series.revisions, reroll])
    v3_1 = applied[-1]
    assert v3_1.label == "v3.1"
    assert [p.index for p in v3_1.patches] == [1, 2, 3]
    assert v3_1.patches[1] is v3.patches[1] and v3_1.patches[0] is v3.patches[0]
    assert v3_1.replaces == [2]
    # The series as shown keeps what was sent: one patch in v3.1.
    assert len(reroll.patches) == 1


def test_checker_runs_once_per_distinct_patch_without_a_tree(mbox: Path, analysis_module) -> None:
    analysis_module(
        "counting_spec",
        """
        CALLS = []

        def check_revision(revision, repo=None, base=None):
            CALLS.append([p.index for p in revision.patches])
            return []
        """,
        "SPEC_MODULE",
    )
    build_review(load([str(mbox)]))
    import counting_spec

    # v1 2 patches, v2 2, v3 3: four distinct diffs (the definition patch never changes,
    # v2's x86 patch is v3's), each checked alone.
    assert len(counting_spec.CALLS) == 4
    assert all(len(patches) == 1 for patches in counting_spec.CALLS)


def _git(cwd: Path, *args: str) -> str:
    return git(cwd, *args, env=git_env(date="2023-08-24T17:04:00+09:00"))


def test_with_a_tree_findings_get_the_whole_file_their_patch_left(
    tmp_path: Path, analysis_module
) -> None:
    repo = tmp_path / "linux"
    (repo / "virt/kvm").mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "master")
    body = [f"\tline_{n}();" for n in range(1, 61)]
    source = repo / "virt/kvm/kvm_main.c"
    source.write_text("\n".join(body) + "\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "KVM: base")
    body[4] = "\tkvm_release_pfn_clean(pfn);"
    source.write_text("\n".join(body) + "\n")
    _git(repo, "commit", "-q", "-am", "KVM: release the pfn early\n\nSigned-off-by: D <d@x.org>")
    _git(repo, "format-patch", "-q", "--base=HEAD~1", "-o", "out", "HEAD~1")
    # The finding points at line 40, which no hunk of the patch shows.
    analysis_module(
        "far_spec",
        """
        from reviewtool.analyses.findings import Finding, TraceStep

        def check_revision(revision, repo=None, base=None):
            return [Finding(rule="use-after-release", severity="error",
                            file="virt/kvm/kvm_main.c", line=40, function="f",
                            message="pfn used after release", patch_index=1,
                            trace=[TraceStep(5, "released"), TraceStep(40, "used")])]
        """,
        "SPEC_MODULE",
    )
    review = build_review(
        load([str(p) for p in sorted((repo / "out").iterdir())]),
        repo=repo,
        analyses=["spec"],
    )
    entry = review.series_reviews[0].findings[-1]
    text = entry.source_of(entry.findings[0])
    assert text is not None and text.splitlines()[4] == "\tkvm_release_pfn_clean(pfn);"
    from reviewtool.render.html import render_html

    doc = lxml.html.fromstring(render_html(review))
    focus = doc.xpath("//article[@data-rule='use-after-release']//tr[contains(@class,'focus')]")
    assert "line_40();" in focus[0].text_content()
