"""The bundled example (examples/kvm-follow-pfn): it rebuilds byte for byte, its code is real
C, and `reviewtool series` reports what examples/README.md states about it."""

from __future__ import annotations

import json
import mailbox
import re
import subprocess
import sys
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
import tree_sitter
import tree_sitter_c

from tests.helpers.git import run_git
from tests.helpers.reference import V8_TITLES

# Slow (subprocesses, real git or corpus): `pytest -m "not slow"` leaves these out.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "kvm-follow-pfn"
MBOX = EXAMPLE / "mbox"
BUILD = EXAMPLE / "build.py"
LABELS = ["1", "2", "3", "4", "5", "6", "7", "7.1", "8"]
BASE_TAGS = [
    "base",
    "kvm-next-20210630",
    "kvm-next-20210820",
    "kvm-next-20210927",
    "kvm-next-20211126",
    "kvm-next-20230327",
    "kvm-next-20230822",
]
OLD_API = "__gfn_to_pfn_memslot"
NEW_API = "__kvm_follow_pfn"

# What examples/README.md states, in the shape `reviewtool series --json` reports it.
PATCH_COUNTS = {"1": 4, "2": 5, "3": 4, "4": 4, "5": 4, "6": 4, "7": 8, "7.1": 1, "8": 8}
MMU_ADDED_IN_V8 = {2, 3, 8}
CHANGELOG_ITEMS = {(1, 2): 3, (2, 3): 1, (3, 4): 2, (4, 5): 1, (5, 6): 4, (6, 7): 1, (7, 8): 7}
FALSE_CLAIM = "Mark the arm64 and PPC faults as guarded by the mmu notifier."
PATCH_TRAILERS = {
    ("6", 3): ("Acked-by", "Marc Zyngier <maz@kernel.org>"),
    ("8", 4): ("Reviewed-by", "Sean Christopherson <seanjc@google.com>"),
    ("8", 6): ("Reviewed-by", "Oliver Upton <oliver.upton@linux.dev>"),
    ("8", 7): ("Acked-by", "Michael Ellerman <mpe@ellerman.id.au>"),
}
REPLY_TRAILERS = {
    ("5", 3): ("Acked-by", "Marc Zyngier <maz@kernel.org>"),
    ("7", 6): ("Reviewed-by", "Oliver Upton <oliver.upton@linux.dev>"),
    ("7", 7): ("Acked-by", "Michael Ellerman <mpe@ellerman.id.au> (powerpc)"),
    ("7.1", 4): ("Reviewed-by", "Sean Christopherson <seanjc@google.com>"),
}
COVER_ACK_V8 = ("Acked-by", "Peter Xu <peterx@redhat.com>")
REPLIES = {("2", 3): 1, ("5", 3): 1, ("7", 4): 1, ("7", 5): 1, ("7", 6): 1, ("7", 7): 1}
REPLIES |= {("7.1", 4): 1, ("8", 5): 2}
QP_MESSAGE_ID = "<20230704085048.1040893-8-stevensd@google.com>"
UNTHREADED_MESSAGE_ID = "<20211129035610.1201544-1-stevensd@google.com>"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The example built from scratch: (mbox dir, git repo)."""
    root = tmp_path_factory.mktemp("example")
    out, repo = root / "mbox", root / "linux"
    proc = subprocess.run(
        [sys.executable, str(BUILD), "--out", str(out), "--repo-out", str(repo)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    return out, repo


@pytest.fixture(scope="module")
def series_json() -> dict:
    """`reviewtool series examples/kvm-follow-pfn/mbox --json`, parsed."""
    proc = subprocess.run(
        [sys.executable, "-m", "reviewtool", "series", str(MBOX), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def git(repo: Path, *args: str) -> str:
    return run_git(repo, *args).stdout


def c_parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_c.language()))


def error_lines(parser: tree_sitter.Parser, source: bytes) -> list[int]:
    """1-based lines of ERROR or MISSING nodes in a parse of `source`."""
    lines, stack = [], [parser.parse(source).root_node]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            lines.append(node.start_point.row + 1)
        stack.extend(node.children)
    return sorted(lines)


def calls_of(parser: tree_sitter.Parser, source: bytes, name: str) -> list[str]:
    """Names of the functions that call `name`, one entry per call."""
    found, stack = [], [parser.parse(source).root_node]
    while stack:
        node = stack.pop()
        if node.type == "call_expression":
            callee = node.child_by_field_name("function")
            if callee.type == "identifier" and callee.text.decode() == name:
                found.append(enclosing_function(node))
        stack.extend(node.children)
    return sorted(found)


def enclosing_function(node: tree_sitter.Node) -> str:
    while node is not None and node.type != "function_definition":
        node = node.parent
    if node is None:
        return "<file scope>"
    declarator = node.child_by_field_name("declarator")
    while declarator.type in ("function_declarator", "pointer_declarator"):
        declarator = declarator.child_by_field_name("declarator")
    return declarator.text.decode()


_TREES: dict[tuple[Path, str], dict[str, bytes]] = {}


def tree_at(repo: Path, ref: str) -> dict[str, bytes]:
    """Every file of `ref` in the built repository, read with one `git cat-file --batch`."""
    key = (repo, ref)
    if key not in _TREES:
        names = git(repo, "ls-tree", "-r", "--name-only", ref).split()
        request = "".join(f"{ref}:{name}\n" for name in names).encode()
        proc = subprocess.run(
            ["git", "cat-file", "--batch"], cwd=repo, input=request, capture_output=True, check=True
        )
        files, data = {}, proc.stdout
        for name in names:
            header, _, data = data.partition(b"\n")
            size = int(header.split()[2])
            files[name], data = data[:size], data[size + 1 :]
        _TREES[key] = files
    return _TREES[key]


def call_map(repo: Path, ref: str, name: str) -> dict[str, list[str]]:
    """file -> calling functions of `name` at `ref`."""
    parser = c_parser()
    out = {}
    for path, source in tree_at(repo, ref).items():
        callers = calls_of(parser, source, name)
        if callers:
            out[path] = callers
    return out


def read_mbox(path: Path) -> list:
    box = mailbox.mbox(str(path), factory=lambda f: BytesParser(policy=policy.default).parse(f))
    return list(box)


# ----------------------------------------------------------------------------- rebuild


def test_build_from_scratch_reproduces_committed_mbox_files(built: tuple[Path, Path]) -> None:
    out, _ = built
    committed = sorted(p.name for p in MBOX.iterdir())
    assert sorted(p.name for p in out.iterdir()) == committed
    for name in committed:
        assert (out / name).read_bytes() == (MBOX / name).read_bytes(), name


def test_build_refuses_a_non_empty_repo_dir(tmp_path: Path) -> None:
    (tmp_path / "linux").mkdir()
    (tmp_path / "linux" / "stray").write_text("x")
    proc = subprocess.run(
        [
            sys.executable,
            str(BUILD),
            "--out",
            str(tmp_path / "m"),
            "--repo-out",
            str(tmp_path / "linux"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "not empty" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cover_base_commits_resolve_in_the_built_repo(built: tuple[Path, Path]) -> None:
    out, repo = built
    bases = re.findall(
        r"^base-commit: ([0-9a-f]{40})$",
        "".join((out / f"v{label}.mbox").read_text() for label in LABELS),
        re.M,
    )
    assert len(bases) == len(LABELS)
    for sha in bases:
        git(repo, "cat-file", "-e", f"{sha}^{{commit}}")
    assert git(repo, "rev-parse", "kvm-next-20230822").strip() == bases[-1]


# ----------------------------------------------------------------------------- the C code


@pytest.mark.parametrize("ref", BASE_TAGS + [f"v{label}" for label in LABELS])
def test_tree_parses_with_tree_sitter_c_without_errors(built: tuple[Path, Path], ref: str) -> None:
    _, repo = built
    parser = c_parser()
    files = tree_at(repo, ref)
    assert len(files) == 15
    for path, source in files.items():
        assert error_lines(parser, source) == [], f"{ref}:{path}"


def test_base_has_the_eight_legacy_callers(built: tuple[Path, Path]) -> None:
    _, repo = built
    assert call_map(repo, "base", OLD_API) == {
        "arch/arm64/kvm/mmu.c": ["user_mem_abort"],
        "arch/powerpc/kvm/book3s_64_mmu_hv.c": ["kvmppc_book3s_hv_page_fault"],
        "arch/powerpc/kvm/book3s_64_mmu_radix.c": ["kvmppc_book3s_instantiate_page"],
        "arch/x86/kvm/mmu/mmu.c": ["__kvm_faultin_pfn", "__kvm_faultin_pfn"],
        "virt/kvm/kvm_main.c": [
            "gfn_to_pfn_memslot",
            "gfn_to_pfn_memslot_atomic",
            "gfn_to_pfn_prot",
        ],
    }
    assert OLD_API + "(" in tree_at(repo, "base")["include/linux/kvm_host.h"].decode()


@pytest.mark.parametrize("ref", ["v7", "v8"])
def test_follow_pfn_versions_replace_every_legacy_call(built: tuple[Path, Path], ref: str) -> None:
    _, repo = built
    assert call_map(repo, ref, OLD_API) == {}
    assert OLD_API not in tree_at(repo, ref)["include/linux/kvm_host.h"].decode()
    new = call_map(repo, ref, NEW_API)
    assert {path: len(callers) for path, callers in new.items()} == {
        "arch/arm64/kvm/mmu.c": 1,
        "arch/powerpc/kvm/book3s_64_mmu_hv.c": 1,
        "arch/powerpc/kvm/book3s_64_mmu_radix.c": 1,
        "arch/x86/kvm/mmu/mmu.c": 2,
        "virt/kvm/kvm_main.c": 3,
    }


def test_page_family_versions_move_only_x86_and_arm64(built: tuple[Path, Path]) -> None:
    _, repo = built
    for label, family in [("2", "page"), ("5", "page"), ("6", "noref")]:
        old = call_map(repo, f"v{label}", OLD_API)
        assert sorted(old) == [
            "arch/powerpc/kvm/book3s_64_mmu_hv.c",
            "arch/powerpc/kvm/book3s_64_mmu_radix.c",
            "virt/kvm/kvm_main.c",
        ]
        new = call_map(repo, f"v{label}", f"__gfn_to_pfn_{family}_memslot")
        assert {p: len(c) for p, c in new.items()} == {
            "arch/arm64/kvm/mmu.c": 1,
            "arch/x86/kvm/mmu/mmu.c": 2,
            "virt/kvm/kvm_main.c": 2,
        }


def test_v8_fault_exits_drop_the_release_while_foll_get_is_still_passed(
    built: tuple[Path, Path],
) -> None:
    _, repo = built
    v7, v8 = tree_at(repo, "v7"), tree_at(repo, "v8")
    mmu = v8["arch/x86/kvm/mmu/mmu.c"].decode()
    assert "if (!IS_ENABLED(CONFIG_X86_64) || !tdp_enabled)\n\t\tfoll.flags |= FOLL_GET;" in mmu
    assert "FOLL_GET" not in v7["arch/x86/kvm/mmu/mmu.c"].decode()
    parser = c_parser()
    for path in ("arch/x86/kvm/mmu/mmu.c", "arch/x86/kvm/mmu/paging_tmpl.h"):
        assert calls_of(parser, v8[path], "kvm_release_pfn_clean") == []
    # v8 marks the page before unlocking; v7 marked it after.
    assert "kvm_set_pfn_accessed(fault->pfn);\n\twrite_unlock(" in mmu
    assert "write_unlock(&vcpu->kvm->mmu_lock);\n\tif (fault->is_refcounted_page)" in (
        v7["arch/x86/kvm/mmu/mmu.c"].decode()
    )


def test_false_changelog_claim_has_no_code_behind_it(built: tuple[Path, Path]) -> None:
    _, repo = built
    v8 = tree_at(repo, "v8")
    assert FALSE_CLAIM in (MBOX / "v8.mbox").read_text()
    for path in (
        "arch/arm64/kvm/mmu.c",
        "arch/powerpc/kvm/book3s_64_mmu_hv.c",
        "arch/powerpc/kvm/book3s_64_mmu_radix.c",
    ):
        assert "guarded_by_mmu_notifier" not in v8[path].decode()
    for path in ("arch/arm64/kvm/mmu.c", "arch/powerpc/kvm/book3s_64_mmu_hv.c"):
        assert git(repo, "diff", "v7", "v8", "--", path) == ""


# ----------------------------------------------------------------------------- the mail


def test_quoted_printable_patch_and_its_list_copy_share_a_message_id() -> None:
    raw = (MBOX / "v7.mbox").read_text()
    sent = [m for m in read_mbox(MBOX / "v7.mbox") if m["Message-ID"] == QP_MESSAGE_ID]
    copy = read_mbox(MBOX / "lkml.mbox")
    assert len(sent) == 1 and len(copy) == 1
    assert sent[0]["Content-Transfer-Encoding"] == "quoted-printable"
    assert "=3D" in raw and re.search(r"=\n", raw)
    assert copy[0]["Message-ID"] == QP_MESSAGE_ID
    for header in ("List-ID", "X-Mailing-List", "Archived-At"):
        assert copy[0][header] and not sent[0][header]
    assert sent[0].get_content() == copy[0].get_content()
    assert "foll.flags = FOLL_GET;" in sent[0].get_content()


def test_messages_are_threaded_under_their_cover_except_the_unthreaded_one() -> None:
    for label in ["2", "5", "8"]:
        messages = read_mbox(MBOX / f"v{label}.mbox")
        cover = messages[0]
        assert "0/" in cover["Subject"]
        for message in messages[1:]:
            if message["Message-ID"] == UNTHREADED_MESSAGE_ID:
                assert message["In-Reply-To"] is None and message["References"] is None
            else:
                assert message["In-Reply-To"] == cover["Message-ID"]
            assert message["X-Google-Original-From"] == "David Stevens <stevensd@google.com>"
            assert re.fullmatch(r"<\d{14}\.\d+-\d+-stevensd@google\.com>", message["Message-ID"])


def test_point_revision_answers_v7_patch_4() -> None:
    (reroll,) = read_mbox(MBOX / "v7.1.mbox")
    v7 = read_mbox(MBOX / "v7.mbox")
    assert reroll["Subject"].startswith("[PATCH v7.1 4/8] ")
    assert reroll["In-Reply-To"] == v7[4]["Message-ID"]
    assert v7[4]["Subject"].startswith("[PATCH v7 4/8] ")


# ----------------------------------------------------------------------------- reviewtool series


def revisions(series_json: dict) -> dict[str, dict]:
    (series,) = series_json["series"]
    return {r["label"].lstrip("v"): r for r in series["revisions"]}


def test_series_reports_one_series_with_every_version(series_json: dict) -> None:
    (series,) = series_json["series"]
    assert series["title"] == "KVM: allow mapping non-refcounted pages"
    revs = revisions(series_json)
    assert list(revs) == LABELS
    assert {label: len(r["patches"]) for label, r in revs.items()} == PATCH_COUNTS
    for label, rev in revs.items():
        assert rev["missing"] == [] and rev["duplicates"] == []
        assert (rev["cover"] is None) == (label == "7.1")


def test_series_reports_v8_titles_and_the_mmu_component_added_since_v7(series_json: dict) -> None:
    revs = revisions(series_json)
    assert [p["title"] for p in revs["8"]["patches"]] == V8_TITLES
    for v7, v8 in zip(revs["7"]["patches"], revs["8"]["patches"], strict=True):
        if v8["index"] in MMU_ADDED_IN_V8:
            assert v7["title"] == v8["title"].replace("KVM: mmu: ", "KVM: ")
        else:
            assert v7["title"] == v8["title"]
    assert revs["8"]["patches"][0]["author"] == "Sean Christopherson <seanjc@google.com>"
    assert revs["2"]["patches"][0]["author"] == "Nicholas Piggin <npiggin@gmail.com>"


def test_series_reports_the_accumulated_changelog_newest_first(series_json: dict) -> None:
    revs = revisions(series_json)
    steps = revs["8"]["cover"]["changelog"]
    assert [(s["from"], s["to"]) for s in steps] == sorted(CHANGELOG_ITEMS, reverse=True)
    assert {(s["from"], s["to"]): len(s["items"]) for s in steps} == CHANGELOG_ITEMS
    assert FALSE_CLAIM in steps[0]["items"]
    assert revs["1"]["cover"]["changelog"] == []
    assert len(revs["5"]["cover"]["changelog"]) == 4


def test_series_reports_trailers_in_patches_and_from_replies(series_json: dict) -> None:
    revs = revisions(series_json)
    for (label, index), (name, value) in PATCH_TRAILERS.items():
        patch = revs[label]["patches"][index - 1] if label != "7.1" else revs[label]["patches"][0]
        assert {"name": name, "value": value} in [
            {"name": t["name"], "value": t["value"]} for t in patch["trailers"]
        ]
    for (label, index), (name, value) in REPLY_TRAILERS.items():
        patch = next(p for p in revs[label]["patches"] if p["index"] == index)
        given = [(t["name"], t["value"]) for t in patch["review_trailers"]]
        assert (name, value) in given
    for patch in revs["8"]["patches"]:
        assert COVER_ACK_V8 in [(t["name"], t["value"]) for t in patch["review_trailers"]]
    for label, rev in revs.items():
        for patch in rev["patches"]:
            assert patch["replies"] == REPLIES.get((label, patch["index"]), 0), (label, patch)


def test_series_accounts_for_every_message_and_drops_the_list_copy(series_json: dict) -> None:
    acc = series_json["accounting"]
    assert (acc["read"], acc["cover"], acc["patch"], acc["reply"]) == (62, 8, 42, 11)
    (rejected,) = acc["rejected"]
    assert rejected["source"].split("@")[0].endswith("lkml.mbox")
    revs = revisions(series_json)
    assert revs["7.1"]["point"] == 1 and revs["7.1"]["replaces"] == [4]
    assert revs["5"]["stitched"] is True
