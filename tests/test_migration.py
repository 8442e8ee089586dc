"""The migration map on a small real series made with git format-patch in a temp repo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewtool.analyses.migration import build_map, detect_candidates, map_revision
from reviewtool.cparse import parse_c
from reviewtool.ingest import load
from tests.helpers.git import git, git_env

DATA = Path(__file__).parent / "data" / "c"
MIG = DATA / "migration"
OLD, NEW = "__gfn_to_pfn_memslot", "__kvm_follow_pfn"
KVM_MAIN, KVM_HOST = "virt/kvm/kvm_main.c", "include/linux/kvm_host.h"
X86, ARM64, DOC = (
    "arch/x86/kvm/mmu/mmu.c",
    "arch/arm64/kvm/mmu.c",
    "Documentation/virt/kvm/locking.rst",
)


def _git(cwd: Path, *args: str) -> str:
    return git(cwd, *args, env=git_env(("Dev Eloper", "dev@example.org")))


def _kvm_main_midway() -> str:
    """kvm_main.c after the new API came in but before the old one is removed."""
    before, after = (
        (DATA / "kvm_main_before.c").read_text(),
        (DATA / "kvm_main_after.c").read_text(),
    )
    (definition,) = parse_c(before).definitions(OLD)
    lines = before.splitlines(keepends=True)
    old_text = "".join(lines[definition.start_line - 1 : definition.end_line + 1]) + "\n"
    anchor = after.index("kvm_pfn_t __kvm_follow_pfn(")
    return after[:anchor] + old_text + after[anchor:]


def _write(repo: Path, path: str, text: str) -> None:
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    (repo / path).write_text(text)


def _commit(repo: Path, message: str, files: dict[str, str]) -> None:
    for path, text in files.items():
        _write(repo, path, text)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", message)


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A base tree and two revisions of a series sent as mail (format-patch)."""
    root = tmp_path_factory.mktemp("migration")
    repo = root / "linux"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "master")
    _commit(
        repo,
        "base",
        {
            KVM_MAIN: (DATA / "kvm_main_before.c").read_text(),
            KVM_HOST: (DATA / "kvm_host_excerpt.h").read_text(),
            X86: (MIG / "x86_mmu_before.c").read_text(),
            ARM64: (MIG / "arm64_mmu_before.c").read_text(),
            DOC: (MIG / "locking.rst").read_text(),
        },
    )
    base = _git(repo, "rev-parse", "HEAD").strip()
    steps = [
        (
            "KVM: mmu: Introduce __kvm_follow_pfn function",
            {KVM_MAIN: _kvm_main_midway(), KVM_HOST: (MIG / "kvm_host_after.h").read_text()},
        ),
        ("KVM: x86/mmu: Migrate to __kvm_follow_pfn", {X86: (MIG / "x86_mmu_after.c").read_text()}),
        (
            "KVM: arm64: Migrate to __kvm_follow_pfn",
            {ARM64: (MIG / "arm64_mmu_after.c").read_text()},
        ),
        (
            "KVM: mmu: remove __gfn_to_pfn_memslot",
            {KVM_MAIN: (DATA / "kvm_main_after.c").read_text()},
        ),
    ]
    mail = root / "mail"
    for version, picked in ((1, steps), (2, steps[:2])):
        _git(repo, "checkout", "-q", "-B", f"v{version}", base)
        for title, files in picked:
            _commit(repo, f"{title}\n\nMove callers over to the struct based API.", files)
        _git(
            repo,
            "format-patch",
            "-q",
            "--cover-letter",
            "--thread",
            f"-v{version}",
            f"--base={base}",
            "-o",
            str(mail / f"v{version}"),
            f"{base}..v{version}",
        )
    _git(repo, "checkout", "-q", "master")
    collection = load([str(mail)])
    (found,) = collection.series
    return {"repo": repo, "base": base, "series": found, "root": root}


def _files(revision_map) -> dict[str, object]:
    return {f.path: f for f in revision_map.files}


def test_tree_map_counts_every_caller_per_area(series) -> None:
    v1 = series["series"].revision(1)
    result = map_revision(v1, OLD, NEW, repo=series["repo"])
    assert result.mode == "tree" and not result.partial
    files = _files(result)
    base_calls = {
        path: parse_c(_git(series["repo"], "show", f"{series['base']}:{path}")).calls(OLD)
        for path in (KVM_MAIN, X86, ARM64)
    }
    for path, calls in base_calls.items():
        assert [s.line for s in files[path].old_removed] == [c.line for c in calls]
        assert files[path].status == "migrated"
        assert files[path].old_remaining == []
    assert {s.function for s in files[KVM_MAIN].old_removed} == {
        c.function for c in base_calls[KVM_MAIN]
    }
    assert [s.patch for s in files[X86].old_removed] == [2, 2]
    assert [s.patch for s in files[ARM64].new_added] == [3]
    assert files[X86].area == "x86" and files[KVM_MAIN].area == "virt"


def test_leftovers_after_the_definition_is_removed(series) -> None:
    v1 = series["series"].revision(1)
    result = map_revision(v1, OLD, NEW, repo=series["repo"])
    assert result.definition_removed
    kinds = {(leftover.path, leftover.kind) for leftover in result.leftovers}
    assert (KVM_HOST, "declaration") in kinds
    assert (DOC, "doc") in kinds
    assert (X86, "comment") in kinds
    declaration_line = next(x.line for x in result.leftovers if x.path == KVM_HOST)
    final_header = (MIG / "kvm_host_after.h").read_text().splitlines()
    assert OLD in final_header[declaration_line - 1]
    assert _files(result)[DOC].status == "leftover"


def test_dropped_patches_leave_an_area_untouched_in_the_next_version(series) -> None:
    result = build_map(series["series"].revisions, OLD, NEW, repo=series["repo"])
    table = result.area_table()
    assert table["arm64"] == {"v1": "migrated", "v2": "untouched"}
    assert table["x86"] == {"v1": "migrated", "v2": "migrated"}
    v2 = result.revisions[1]
    assert not v2.definition_removed and v2.leftovers == []
    arm = _files(v2)[ARM64]
    assert len(arm.old_remaining) == 1 and arm.old_remaining[0].function == "user_mem_abort"


def test_argument_map_follows_values_into_flags_and_fields(series) -> None:
    v1 = series["series"].revision(1)
    result = map_revision(v1, OLD, NEW, repo=series["repo"])
    mapping = {m.old_arg: m.new for m in result.argument_map}
    params = parse_c((DATA / "kvm_host_excerpt.h").read_text()).prototype(OLD)
    assert list(mapping) == list(params)
    assert mapping["write_fault"] == "FOLL_WRITE in .flags"
    assert mapping["async"] == "FOLL_NOWAIT in .flags"
    assert mapping["interruptible"] == "FOLL_INTERRUPTIBLE in .flags"
    assert "field writable (out)" in mapping["writable"]
    assert mapping["hva"] == "field hva (out)"
    assert mapping["slot"] == "field slot" and mapping["gfn"] == "field gfn"
    assert all(m.evidence for m in result.argument_map)


def test_hunk_map_matches_the_tree_map_and_is_marked_partial(series) -> None:
    v1 = series["series"].revision(1)
    tree = map_revision(v1, OLD, NEW, repo=series["repo"])
    hunks = map_revision(v1, OLD, NEW)
    assert hunks.mode == "hunks" and hunks.partial
    assert all(f.partial for f in hunks.files)
    for path in (KVM_MAIN, X86, ARM64):
        tree_file, hunk_file = _files(tree)[path], _files(hunks)[path]
        assert [s.function for s in hunk_file.old_removed] == [
            s.function for s in tree_file.old_removed
        ]
        assert len(hunk_file.new_added) == len(tree_file.new_added)
    assert {m.old_arg: m.new for m in hunks.argument_map}["write_fault"] == "FOLL_WRITE in .flags"
    assert hunks.definition_removed
    assert any(x.path == KVM_HOST and x.kind == "declaration" for x in hunks.leftovers)


def test_patch_that_does_not_apply_falls_back_to_hunks_with_a_note(series) -> None:
    v1 = series["series"].revision(1)
    later = _git(series["repo"], "rev-parse", "v1").strip()  # the series is already in there
    result = map_revision(v1, OLD, NEW, repo=series["repo"], base=later)
    assert result.mode == "hunks"
    assert any("does not apply" in note for note in result.notes)


def test_static_function_of_the_same_name_is_not_the_generic_api(series) -> None:
    """x86 keeps a static __kvm_faultin_pfn; asked about a generic API of that name, its
    calls inside mmu.c must not count."""
    v1 = series["series"].revision(1)
    result = map_revision(v1, OLD, "__kvm_faultin_pfn", repo=series["repo"])
    x86 = _files(result)[X86]
    assert x86.new_added == []
    assert any("static __kvm_faultin_pfn" in note for note in x86.notes)
    hunks = map_revision(v1, OLD, "__kvm_faultin_pfn")
    assert _files(hunks)[X86].new_added == []


def test_candidates_are_detected_without_old_and_new(series) -> None:
    candidates = detect_candidates(series["series"].revisions)
    assert candidates and (candidates[0].old, candidates[0].new) == (OLD, NEW)
    assert candidates[0].definition_removed
    assert set(candidates[0].files) == {KVM_MAIN, X86, ARM64}
    result = build_map(series["series"].revisions)
    assert (result.old, result.new) == (OLD, NEW)


def test_json_has_the_shape_the_issue_gives(series) -> None:
    result = build_map(series["series"].revisions, OLD, NEW)
    data = json.loads(json.dumps(result.to_json()))
    assert {"old", "new", "revisions"} <= set(data)
    revision = data["revisions"][0]
    assert {"version", "files", "argument_map", "leftovers"} <= set(revision)
    entry = revision["files"][0]
    assert {"path", "area", "status", "old_removed", "old_remaining", "new_added"} <= set(entry)
    site = next(f for f in revision["files"] if f["old_removed"])["old_removed"][0]
    assert {"function", "line"} <= set(site)
    assert {"old_arg", "new", "evidence"} == set(revision["argument_map"][0])
    assert {"path", "line", "kind"} == set(revision["leftovers"][0])
    areas = [f["area"] for f in revision["files"]]
    assert areas.index("virt") < areas.index("x86") < areas.index("arm64")


def test_cli_prints_json_map_and_text_table(series, capsys) -> None:
    from reviewtool.cli import main

    mail = str(series["root"] / "mail")
    assert main(["migrate", mail, "--old", OLD, "--new", NEW, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["old"], data["new"]) == (OLD, NEW)
    assert [r["label"] for r in data["revisions"]] == ["v1", "v2"]
    assert [r["version"] for r in data["revisions"]] == [1, 2]
    assert all(r["partial"] for r in data["revisions"])  # no --repo: hunks only
    assert main(["migrate", mail, "--repo", str(series["repo"])]) == 0
    text = capsys.readouterr().out
    assert f"{OLD} -> {NEW}" in text
    area_rows = {line.split()[0]: line.split()[1:] for line in text.splitlines()[-4:]}
    assert area_rows["arm64"] == ["migrated", "untouched"]


def test_cli_usage_errors_exit_2_without_traceback(series, capsys) -> None:
    from reviewtool.cli import main

    mail = str(series["root"] / "mail")
    assert main(["migrate", mail, "--old", OLD]) == 2
    assert main(["migrate", mail, "--base", "HEAD"]) == 2
    assert (
        main(["migrate", mail, "--repo", str(series["root"] / "nope"), "--old", OLD, "--new", NEW])
        == 2
    )
    err = capsys.readouterr().err
    assert "Traceback" not in err and "--base needs --repo" in err
