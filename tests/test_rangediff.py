"""Range-diff from mail: normalisation, diff size, pairing against git, interdiff, regrouping."""

from __future__ import annotations

import random
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from reviewtool.analyses.rangediff import (
    PAIR_STATUSES,
    STATUS_CODE_CHANGED,
    STATUS_IDENTICAL,
    STATUS_MESSAGE_ONLY,
    compare,
    diff_cost,
    normalise_diff,
    pair_patches,
)
from tests.helpers.rangediff_support import (
    Edit,
    GitSeries,
    PatchSpec,
    kernel_tree,
    load_revision,
    moved_base,
    mutate,
    random_series,
)
from tests.helpers.review_support import make_review

MAIL_DIFF = """\
diff --git a/virt/kvm/kvm_main.c b/virt/kvm/kvm_main.c
index 1a2b3c4..5d6e7f8 100644
--- a/virt/kvm/kvm_main.c
+++ b/virt/kvm/kvm_main.c
@@ -2500,7 +2500,8 @@ static kvm_pfn_t hva_to_pfn(unsigned long addr, bool atomic)
 \tif (atomic)
 \t\treturn KVM_PFN_ERR_FAULT;

-\tnpages = hva_to_pfn_slow(addr, async, write_fault, writable, &pfn);
+\tnpages = hva_to_pfn_slow(foll, &pfn);
+\t/* the slow path may sleep */
 \tif (npages == 1)
 \t\treturn pfn;
 \tif (npages == -EINTR)
diff --git a/include/linux/kvm_follow.h b/include/linux/kvm_follow.h
new file mode 100644
index 0000000..abcdef1
--- /dev/null
+++ b/include/linux/kvm_follow.h
@@ -0,0 +1,2 @@
+/* SPDX-License-Identifier: GPL-2.0 */
+struct kvm_follow_pfn;
diff --git a/tools/old.sh b/tools/new.sh
old mode 100644
new mode 100755
similarity index 90%
rename from tools/old.sh
rename to tools/new.sh
index 1111111..2222222
--- a/tools/old.sh
+++ b/tools/new.sh
@@ -1 +1 @@
-echo old
+echo new
--
2.39.5

"""


def test_normalised_diff_drops_line_numbers_index_lines_and_signature():
    lines = normalise_diff(MAIL_DIFF)
    assert lines[0] == " ## virt/kvm/kvm_main.c ##"
    function = "static kvm_pfn_t hva_to_pfn(unsigned long addr, bool atomic)"
    assert lines[1] == f"@@ virt/kvm/kvm_main.c: {function}"
    # The empty context line lost its space in the mail; it is context all the same.
    assert lines[4] == " "
    assert " ## include/linux/kvm_follow.h (new) ##" in lines
    assert " ## tools/old.sh => tools/new.sh (mode change 100644 => 100755) ##" in lines
    assert not any(line.startswith(("index ", "--- ", "+++ ")) for line in lines)
    assert lines[-1] == "+echo new"
    # Files are separated by a blank line, as git range-diff separates them.
    assert lines.count("") == 2


def _git_diff_size(tmp_path: Path, a: list[str], b: list[str]) -> int:
    """Hunk headers plus lines of `git diff` between two files: git's diffsize()."""
    (tmp_path / "a").write_text("".join(x + "\n" for x in a))
    (tmp_path / "b").write_text("".join(x + "\n" for x in b))
    out = subprocess.run(
        ["git", "diff", "--no-index", "--no-indent-heuristic", "--diff-algorithm=myers", "a", "b"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    ).stdout.split("\n")
    start = next((k for k, line in enumerate(out) if line.startswith("+++ ")), None)
    if start is None:
        return 0
    return sum(1 for line in out[start + 1 :] if line and line[0] in "@ -+")


def test_diff_size_equals_gits_on_random_texts(tmp_path):
    rng = random.Random(4)
    for _ in range(60):
        alphabet = rng.choice([3, 6, 30])
        a = [str(rng.randrange(alphabet)) for _ in range(rng.randint(0, 80))]
        b = list(a)
        for _ in range(rng.randint(0, 12)):
            if b and rng.random() < 0.4:
                del b[rng.randrange(len(b))]
            else:
                b.insert(rng.randint(0, len(b)), str(rng.randrange(alphabet)))
        ids: dict[str, int] = {}
        ia = [ids.setdefault(x, len(ids)) for x in a]
        ib = [ids.setdefault(x, len(ids)) for x in b]
        assert diff_cost(ia, ib) == _git_diff_size(tmp_path, a, b), (a, b)


# ---------------------------------------------------------------------------------------------
# Agreement with git range-diff on real series


def _build(tmp_path: Path, v1: list[PatchSpec], v2: list[PatchSpec], tree, tree2=None):
    repo = GitSeries.create(tmp_path / "repo")
    base1 = repo.commit_base(tree, "base")
    base2 = repo.commit_base(tree2, "upstream moved") if tree2 is not None else base1
    repo.commit_series("v1", base1, tree, v1)
    repo.commit_series("v2", base2, tree2 if tree2 is not None else tree, v2)
    old = load_revision(repo.format_patch("v1", 1, tmp_path / "v1"))
    new = load_revision(repo.format_patch("v2", 2, tmp_path / "v2"))
    return repo, old, new


def _series(tree, count=5, seed=1):
    return random_series(random.Random(seed), tree, count)


def _assert_same_pairing(repo, old, new, factor=60):
    expected = sorted(repo.range_diff("v1", "v2", factor), key=str)
    got = sorted(pair_patches(old, new, factor / 100), key=str)
    assert got == expected


@pytest.mark.parametrize(
    "kinds",
    [["reorder"], ["drop"], ["add"], ["modify"], ["reword"], ["split"], ["squash"]],
    ids=lambda kinds: kinds[0],
)
def test_pairing_equals_git_range_diff(tmp_path, kinds):
    tree = kernel_tree(seed=3)
    rng = random.Random(11)
    v1 = _series(tree, count=6, seed=5)
    spare = [("virt/kvm/part2.c", line) for line in tree["virt/kvm/part2.c"][-6:-2]]
    used = {e.anchor for p in v1 for e in p.edits}
    spare = [s for s in spare if s[1] not in used and s[1].startswith("\tv")]
    v2 = mutate(rng, v1, spare, kinds)
    repo, old, new = _build(tmp_path, v1, v2, tree)
    _assert_same_pairing(repo, old, new)


def test_pairing_equals_git_after_rebase_onto_moved_base(tmp_path):
    tree = kernel_tree(seed=8)
    v1 = _series(tree, count=6, seed=2)
    used = {e.anchor for p in v1 for e in p.edits}
    tree2 = moved_base(random.Random(3), tree, used)
    repo, old, new = _build(tmp_path, v1, v1, tree, tree2)
    _assert_same_pairing(repo, old, new)
    comparison = compare(old, new)
    # Same patches on a moved base: the interdiff is (mostly) context, and says so.
    assert comparison.rebase_hunk_count > 0
    assert comparison.rebase_share > 0.5


def test_pairing_equals_git_on_random_rerolls(tmp_path):
    kinds = ["reorder", "drop", "add", "modify", "reword", "split", "squash"]
    for seed in range(8):
        rng = random.Random(seed)
        tree = kernel_tree(seed=seed, functions=8)
        v1 = random_series(rng, tree, rng.randint(3, 7))
        used = {e.anchor for p in v1 for e in p.edits}
        spare = [(p, ln) for p, ls in tree.items() for ln in ls if ln.startswith("\tv")]
        spare = [s for s in spare if s[1] not in used][:3]
        v2 = mutate(rng, v1, spare, rng.sample(kinds, rng.randint(1, 4)))
        tree2 = moved_base(rng, tree, used | {s[1] for s in spare}) if seed % 2 else None
        repo, old, new = _build(tmp_path / str(seed), v1, v2, tree, tree2)
        _assert_same_pairing(repo, old, new)


def test_creation_factor_zero_pairs_nothing_that_changed(tmp_path):
    tree, v1, _ = _three_patches()
    v2 = list(v1)
    edit = v2[1].edits[0]
    v2[1] = replace(v2[1], edits=(replace(edit, lines=edit.lines + ("\tkvm_flush(kvm);",)),))
    repo, old, new = _build(tmp_path, v1, v2, tree)
    _assert_same_pairing(repo, old, new, factor=0)
    comparison = compare(old, new, creation_factor=0)
    assert [p.index for p in comparison.added] == [2]
    assert [p.index for p in comparison.dropped] == [2]
    assert all(pair.status == STATUS_IDENTICAL for pair in comparison.pairs)


# ---------------------------------------------------------------------------------------------
# What the comparison says about each pair


def _three_patches():
    tree = kernel_tree(seed=21, functions=6)
    body = tree["virt/kvm/part0.c"]
    anchors = [line for line in body if line.startswith("\tv0_")]
    patches = [
        PatchSpec(
            f"KVM: Change step {k}",
            f"Change step {k}.\n\nSigned-off-by: Dana Kernel <dana@example.org>",
            (
                Edit(
                    "virt/kvm/part0.c",
                    anchors[k * 6],
                    "after",
                    tuple(f"\tkvm_track_{k}_{n}(kvm, gfn);" for n in range(3)),
                ),
            ),
        )
        for k in range(3)
    ]
    return tree, patches, anchors


def test_identical_message_only_and_code_changed_pairs(tmp_path):
    tree, v1, _ = _three_patches()
    v2 = list(v1)
    v2[1] = replace(v2[1], message=v2[1].message.replace("Change step 1.", "Change step one."))
    edit = v2[2].edits[0]
    v2[2] = replace(v2[2], edits=(replace(edit, lines=edit.lines + ("\tkvm_flush(kvm);",)),))
    _, old, new = _build(tmp_path, v1, v2, tree)
    comparison = compare(old, new)
    statuses = [pair.status for pair in comparison.pairs]
    assert statuses == [STATUS_IDENTICAL, STATUS_MESSAGE_ONLY, STATUS_CODE_CHANGED]
    message_diff = comparison.pairs[1].message_diff
    assert "-Change step 1." in message_diff and "+Change step one." in message_diff
    changed = comparison.pairs[2]
    assert [hunk.rebase for hunk in changed.interdiff] == [False]
    assert "++\tkvm_flush(kvm);" in changed.interdiff[0].lines
    assert changed.interdiff[0].file == "virt/kvm/part0.c"
    assert changed.interdiff[0].function.startswith("static int kvm_part0_fn")


def test_pairs_carry_only_the_statuses_the_range_diff_names(tmp_path):
    """PAIR_STATUSES is the whole vocabulary: the report fixtures may use nothing else."""
    rng = random.Random(4)
    tree = kernel_tree(seed=4, functions=8)
    v1 = random_series(rng, tree, 6)
    used = {e.anchor for p in v1 for e in p.edits}
    spare = [(p, ln) for p, ls in tree.items() for ln in ls if ln.startswith("\tv")]
    spare = [s for s in spare if s[1] not in used][:3]
    v2 = mutate(rng, v1, spare, ["modify", "reword", "reorder", "split"])
    _, old, new = _build(tmp_path, v1, v2, tree)
    assert {pair.status for pair in compare(old, new).pairs} <= set(PAIR_STATUSES)
    fixture = make_review().series_reviews[0].comparisons
    used_statuses = {p.status for c in fixture if c.comparison for p in c.comparison.pairs}
    assert used_statuses <= set(PAIR_STATUSES)


def test_subject_change_alone_is_message_only(tmp_path):
    tree, v1, _ = _three_patches()
    v2 = list(v1)
    v2[0] = replace(v2[0], title="KVM: mmu: Change step 0")
    _, old, new = _build(tmp_path, v1, v2, tree)
    pair = compare(old, new).pairs[0]
    assert pair.status == STATUS_MESSAGE_ONLY
    assert pair.subject_changed
    assert (pair.title_from, pair.title_to) == ("KVM: Change step 0", "KVM: mmu: Change step 0")


def test_context_only_change_is_rebase(tmp_path):
    tree, v1, anchors = _three_patches()
    moved = {path: list(lines) for path, lines in tree.items()}
    body = moved["virt/kvm/part0.c"]
    # Upstream edits the line just above patch 2's anchor: only its context changes.
    above = body.index(anchors[6]) - 1
    body[above] = body[above].replace("+", "- 1 +")
    _, old, new = _build(tmp_path, v1, v1, tree, moved)
    comparison = compare(old, new)
    rebased = [pair for pair in comparison.pairs if pair.interdiff]
    assert [pair.to_index for pair in rebased] == [2]
    assert rebased[0].rebase_only
    assert all(hunk.rebase for hunk in rebased[0].interdiff)
    assert comparison.rebase_share == 1.0


def test_moved_patch_is_flagged_and_others_are_not(tmp_path):
    tree, v1, _ = _three_patches()
    v2 = [v1[2], v1[0], v1[1]]
    repo, old, new = _build(tmp_path, v1, v2, tree)
    _assert_same_pairing(repo, old, new)
    comparison = compare(old, new)
    moved = {(pair.from_index, pair.to_index) for pair in comparison.pairs if pair.moved}
    assert moved == {(3, 1)}


def test_split_patch_is_detected_and_added_half_shown_with_content(tmp_path):
    tree, v1, anchors = _three_patches()
    both = (
        Edit(
            "virt/kvm/part0.c", anchors[1], "after", tuple(f"\tkvm_a_{k}(kvm);" for k in range(4))
        ),
        Edit(
            "virt/kvm/part0.c", anchors[13], "after", tuple(f"\tkvm_b_{k}(kvm);" for k in range(3))
        ),
    )
    v1 = [v1[0], PatchSpec("KVM: Do two things", "Two things.", both), v1[2]]
    v2 = [
        v1[0],
        PatchSpec("KVM: Do the first thing", "One thing.", both[:1]),
        PatchSpec("KVM: Do the second thing", "Another thing.", both[1:]),
        v1[2],
    ]
    repo, old, new = _build(tmp_path, v1, v2, tree)
    _assert_same_pairing(repo, old, new)
    comparison = compare(old, new)
    assert [(s.from_indices, s.to_indices) for s in comparison.splits] == [([2], [2, 3])]
    assert len(comparison.added) == 1
    added = comparison.added[0]
    assert any("+\tkvm_b_0(kvm);" in line for hunk in added.content for line in hunk.lines)


def test_squashed_patches_are_detected(tmp_path):
    tree, v1, _ = _three_patches()
    merged = PatchSpec("KVM: Change steps 0 and 1", "Both.", v1[0].edits + v1[1].edits)
    v2 = [merged, v1[2]]
    repo, old, new = _build(tmp_path, v1, v2, tree)
    _assert_same_pairing(repo, old, new)
    comparison = compare(old, new)
    assert [(s.from_indices, s.to_indices) for s in comparison.squashes] == [([1, 2], [1])]


def test_comparison_json_has_the_issue_shape(tmp_path):
    tree, v1, _ = _three_patches()
    v2 = [v1[0], v1[2]]
    _, old, new = _build(tmp_path, v1, v2, tree)
    data = compare(old, new).to_json()
    for key in ("from", "to", "pairs", "added", "dropped", "changelog", "undocumented"):
        assert key in data
    assert (data["from"], data["to"]) == ("v1", "v2")
    for key in ("from_index", "to_index", "status", "title_from", "title_to", "rebase_only"):
        assert key in data["pairs"][0]
    assert isinstance(data["pairs"][0]["interdiff"], list)
    assert [d["index"] for d in data["dropped"]] == [2]
    assert data["dropped"][0]["content"][0]["lines"]


def test_interdiff_from_the_pairings_flags_equals_one_computed_afresh(tmp_path):
    """compare() reuses the changed-line flags the pairing computed for a priced pair; the
    interdiff must be the one computed from the two patches' lines alone. A 30-patch reroll
    on a moved base prices most pairs with their bound, so both paths run."""
    from reviewtool.analyses.rangediff.interdiff import interdiff

    rng = random.Random(4)
    tree = kernel_tree(files=6, functions=12, seed=4)
    v1 = random_series(rng, tree, 30)
    used = {e.anchor for p in v1 for e in p.edits}
    spare = [(p, ln) for p, ls in tree.items() for ln in ls if ln.startswith("\tv")]
    spare = [s for s in spare if s[1] not in used][:4]
    kinds = ["reorder", "drop", "add", "modify", "reword", "split", "squash"] * 2
    v2 = mutate(rng, v1, spare, kinds)
    tree2 = moved_base(rng, tree, used | {s[1] for s in spare})
    repo, old, new = _build(tmp_path, v1, v2, tree, tree2)
    _assert_same_pairing(repo, old, new)
    changed = [p for p in compare(old, new).pairs if p.status == STATUS_CODE_CHANGED]
    assert len(changed) >= 10
    for pair in changed:
        assert pair.interdiff == interdiff(pair.old_lines, pair.new_lines)
