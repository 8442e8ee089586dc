"""What every renderer derives the same way: diffstats, parsed diffs, finding excerpts."""

from __future__ import annotations

from reviewtool.analyses.findings import Finding, TraceStep
from reviewtool.render.view import diffstat, excerpt_for, group_notes, parse_diff, person_name
from reviewtool.review import AnalysisNote
from tests.helpers.review_support import FOLLOW_PFN_DIFF, RELEASE_DIFF, leak_finding, make_series


def test_diffstat_counts_lines_per_file_like_git() -> None:
    stat = diffstat(FOLLOW_PFN_DIFF + RELEASE_DIFF)
    assert [(f.path, f.added, f.removed) for f in stat.files] == [
        ("virt/kvm/kvm_main.c", 8, 5),
        ("arch/x86/kvm/mmu/mmu.c", 0, 1),
    ]
    assert stat.summary() == "2 files changed, 8 insertions(+), 6 deletions(-)"


def test_diffstat_does_not_count_file_headers_as_changes() -> None:
    stat = diffstat(RELEASE_DIFF)
    # `--- a/...` and `+++ b/...` open the file; only the one removed line is a change.
    assert (stat.added, stat.removed) == (0, 1)


def test_parsed_diff_numbers_lines_on_both_sides() -> None:
    (diff_file,) = parse_diff(RELEASE_DIFF)
    code = [
        (line.kind, line.old_no, line.new_no) for line in diff_file.lines if line.kind != "meta"
    ]
    assert code[:2] == [("file", None, None), ("hunk", None, None)]
    removed = [line for line in diff_file.lines if line.kind == "del"]
    assert (
        removed[0].old_no == 4524
        and removed[0].text.strip() == "kvm_release_pfn_clean(fault->pfn);"
    )
    after = diff_file.lines[diff_file.lines.index(removed[0]) + 1]
    assert (after.old_no, after.new_no) == (4525, 4524)


def test_excerpt_comes_from_the_patch_that_shows_the_line() -> None:
    revision = make_series().revisions[-1]
    excerpt = excerpt_for(leak_finding(), revision)
    assert excerpt is not None and excerpt.patch_index == 3
    numbers = [line.new_no for line in excerpt.lines if line.new_no is not None]
    # From the first traced line to a few past the finding.
    assert numbers[0] == 4520 and 4523 in numbers
    assert excerpt.trace_lines == {4520, 4522, 4523}


def test_excerpt_is_none_when_no_patch_shows_the_line() -> None:
    revision = make_series().revisions[-1]
    elsewhere = Finding("leak", "error", "arch/arm64/kvm/mmu.c", 1480, "user_mem_abort", "m")
    assert excerpt_for(elsewhere, revision) is None
    far = leak_finding()
    far.line, far.trace = 9000, [TraceStep(9000, "x")]
    assert excerpt_for(far, revision) is None


def test_person_name_keeps_angle_brackets_that_are_not_the_address() -> None:
    assert person_name("Sean Christopherson <seanjc@google.com>") == "Sean Christopherson"
    assert person_name("Eve <b>bold</b> <eve@example.org>") == "Eve <b>bold</b>"
    assert person_name("<only@example.org>") == "only@example.org"


def test_notes_with_one_reason_over_several_versions_fold_into_one() -> None:
    notes = [AnalysisNote("spec", False, "no tree", f"v{n}") for n in (1, 2, 3)]
    notes.append(AnalysisNote("migration", False, "no API", ""))
    groups = group_notes(notes)
    assert [(g.analysis, g.scope) for g in groups] == [
        ("spec", "v1, v2, v3"),
        ("migration", "series"),
    ]
