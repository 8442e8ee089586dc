"""The bundled example's migration map matches the facts of the reference series.

KVM-FACTS: in the v8 base `__gfn_to_pfn_memslot` has 8 callers - 3 in virt/kvm/kvm_main.c,
2 in arch/x86/kvm/mmu/mmu.c (inside x86's static __kvm_faultin_pfn), 1 in arch/arm64/kvm/mmu.c
(user_mem_abort), 1 in book3s_64_mmu_hv.c, 1 in book3s_64_mmu_radix.c - and it is declared in
include/linux/kvm_host.h.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from reviewtool.analyses.migration import build_map
from reviewtool.diff.tree import Worktree
from tests.helpers.git import git as _git

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "kvm-follow-pfn"
OLD, NEW = "__gfn_to_pfn_memslot", "__kvm_follow_pfn"
EXPECTED = Counter(
    {
        "virt/kvm/kvm_main.c": 3,
        "arch/x86/kvm/mmu/mmu.c": 2,
        "arch/arm64/kvm/mmu.c": 1,
        "arch/powerpc/kvm/book3s_64_mmu_hv.c": 1,
        "arch/powerpc/kvm/book3s_64_mmu_radix.c": 1,
    }
)
HEADER = "include/linux/kvm_host.h"


@pytest.fixture(scope="module")
def base_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example's base tree as a git repository."""
    if not (EXAMPLE / "tree").is_dir():
        pytest.skip("the bundled example tree is not there yet")
    repo = tmp_path_factory.mktemp("example") / "linux"
    shutil.copytree(EXAMPLE / "tree", repo)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    return repo


def test_example_base_tree_has_the_callers_kvm_facts_lists(base_repo: Path) -> None:
    from reviewtool.analyses.migration import api_calls
    from reviewtool.cparse import parse_c

    with Worktree(base_repo, "HEAD") as tree:
        hits = {path for path, _line, _text in tree.grep(OLD)}
        counts = Counter()
        declared = []
        for path in hits:
            parsed = parse_c(tree.read(path) or "")
            counts[path] = len(api_calls(parsed, OLD))
            if parsed.declarations(OLD):
                declared.append(path)
    assert +counts == EXPECTED
    assert declared == [HEADER]


@pytest.fixture(scope="module")
def example_map():
    mboxes = sorted((EXAMPLE / "mbox").glob("*.mbox")) if (EXAMPLE / "mbox").is_dir() else []
    if not mboxes:
        pytest.skip("the bundled example mail is not there yet")
    from reviewtool.ingest import load

    collection = load([str(p) for p in mboxes])
    maps = []
    for series in collection.series:
        texts = [p.diff for r in series.revisions for p in r.patches]
        if any(OLD in text for text in texts):
            maps.append(build_map(series.revisions, OLD, NEW))
    assert maps, "no series of the example replaces the old API"
    return maps


def test_example_map_removes_every_caller_kvm_facts_lists(example_map) -> None:
    full = []
    for result in example_map:
        for revision in result.revisions:
            removed = Counter({f.path: len(f.old_removed) for f in revision.files if f.old_removed})
            if removed == EXPECTED:
                full.append(revision)
    assert full, "no revision migrates exactly the 8 callers of KVM-FACTS"
    for revision in full:
        by_path = {f.path: f for f in revision.files}
        x86 = by_path["arch/x86/kvm/mmu/mmu.c"]
        assert {s.function for s in x86.old_removed} == {"__kvm_faultin_pfn"}
        assert {s.function for s in by_path["arch/arm64/kvm/mmu.c"].old_removed} == {
            "user_mem_abort"
        }
        areas = Counter()
        for entry in revision.files:
            areas[entry.area] += len(entry.old_removed)
        assert areas["virt"] == 3 and areas["x86"] == 2 and areas["arm64"] == 1
        assert areas["powerpc"] == 2
        header_named = HEADER in by_path or any(
            leftover.path == HEADER for leftover in revision.leftovers
        )
        assert header_named


@pytest.fixture(scope="module")
def example_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example's git history (kvm/next and one branch per version), built by its script."""
    script = EXAMPLE / "build.py"
    if not script.exists():
        pytest.skip("the example's build script is not there yet")
    import importlib.util
    import sys

    had_history = "history" in sys.modules
    sys.path.insert(0, str(EXAMPLE))
    try:
        spec = importlib.util.spec_from_file_location("example_build", script)
        module = importlib.util.module_from_spec(spec)
        sys.modules["example_build"] = module  # its dataclasses look themselves up there
        spec.loader.exec_module(module)
        repo = tmp_path_factory.mktemp("example-history") / "linux"
        module.build_repo(repo)
    finally:
        sys.path.remove(str(EXAMPLE))
        sys.modules.pop("example_build", None)
        if not had_history:
            sys.modules.pop("history", None)  # the build script's own helper module
    return repo


def test_example_map_from_whole_files_matches_kvm_facts(example_repo: Path) -> None:
    mboxes = sorted((EXAMPLE / "mbox").glob("*.mbox")) if (EXAMPLE / "mbox").is_dir() else []
    if not mboxes:
        pytest.skip("the bundled example mail is not there yet")
    from reviewtool.ingest import load

    collection = load([str(p) for p in mboxes])
    (series,) = [s for s in collection.series if any(r.version == 8 for r in s.revisions)]
    result = build_map(series.revisions, OLD, NEW, repo=example_repo)
    v8 = next(r for r in result.revisions if r.version == "v8")
    assert v8.mode == "tree"
    removed = Counter({f.path: len(f.old_removed) for f in v8.files if f.old_removed})
    assert removed == EXPECTED
    assert all(not f.old_remaining for f in v8.files)
    assert v8.definition_removed
    first = next(r for r in result.revisions if r.version == "v1")
    remaining = Counter({f.path: len(f.old_remaining) for f in first.files if f.old_remaining})
    assert remaining == EXPECTED  # v1 kept every caller of the old API
    table = result.area_table()
    assert {
        area: table[area]["v8"] for area in ("virt", "x86", "arm64", "powerpc")
    } == dict.fromkeys(("virt", "x86", "arm64", "powerpc"), "migrated")


def test_point_revision_is_mapped_with_the_patches_it_does_not_replace(example_map) -> None:
    point = [r for m in example_map for r in m.revisions if r.version.count(".") == 1]
    if not point:
        pytest.skip("the example has no point revision")
    for revision in point:
        assert any("rerolls patch" in note for note in revision.notes)
        removed = Counter({f.path: len(f.old_removed) for f in revision.files if f.old_removed})
        assert removed == EXPECTED  # the full version's other patches are part of the map
