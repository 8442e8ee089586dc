"""From mail alone: an acquisition a patch adds, followed through the lines its hunks show
(reviewtool.analyses.spec.from_hunks_added, hunk_region).

The mail is `git format-patch` output of a temporary repository whose base is the real Linux
6.12 `arch/x86/kvm/vmx/nested.c`. The series' second patch maps the EPTP list page with
`kvm_vcpu_map()` instead of copying one entry out of it, and moves the EPTP check up next to
the mapping; the unmap goes before the function's last `return 0`. In the leaking variant the
check's early `return 1` (shown in the same hunk as the map) skips the unmap: exactly one leak
from hunks, in that function, introduced by patch 2. The variants must stay silent: the unmap on
that exit too, the exit leaving the shown lines (`goto` a label in another hunk), the map handed
to a function the mail does not show. A third patch that adds the missing unmap fixes it.
"""

from __future__ import annotations

import json
import mailbox
from pathlib import Path

import pytest
from lxml import html as lxml_html

from reviewtool.analyses.findings import EVIDENCE_HUNKS, NOT_CHECKED_HUNKS_ONLY
from reviewtool.analyses.spec.hunk_region import DECLARATION_RE, VisibleFile, region_fragment
from reviewtool.bot.b4check import check_message
from reviewtool.cli import EXIT_FINDINGS, EXIT_NOT_CHECKED, main
from reviewtool.diff import parse_patch_diff
from tests.helpers.git import author_git, replace_once

ROOT = Path(__file__).resolve().parent.parent
KERNEL = ROOT.parent / "shared" / "kernel" / "linux-6.12"
NESTED = "arch/x86/kvm/vmx/nested.c"
FUNCTION = "nested_vmx_eptp_switching"

DECLARE = (
    "\tu32 index = kvm_rcx_read(vcpu);\n\tu64 new_eptp;\n",
    "\tu32 index = kvm_rcx_read(vcpu);\n\tstruct kvm_host_map map;\n\tu64 new_eptp;\n",
)
READ = (
    "\tif (kvm_vcpu_read_guest_page(vcpu, vmcs12->eptp_list_address >> PAGE_SHIFT,\n"
    "\t\t\t\t     &new_eptp, index * 8, 8))\n\t\treturn 1;\n"
)
MAP = (
    "\tif (kvm_vcpu_map(vcpu, gpa_to_gfn(vmcs12->eptp_list_address), &map))\n"
    "\t\treturn 1;\n\tnew_eptp = ((u64 *)map.hva)[index];\n"
)
CHECK_INSIDE = (
    "\tif (vmcs12->ept_pointer != new_eptp) {\n"
    "\t\tif (!nested_vmx_check_eptp(vcpu, new_eptp))\n\t\t\treturn 1;\n\n"
)
LAST_EXIT = "\t\t\tkvm_make_request(KVM_REQ_TLB_FLUSH_GUEST, vcpu);\n\t}\n\n\treturn 0;\n}\n"
UNMAP = "\t\tkvm_vcpu_unmap(vcpu, &map, false);\n"
EARLY = {
    "leak": "\tif (!nested_vmx_check_eptp(vcpu, new_eptp))\n\t\treturn 1;\n",
    "released": f"\tif (!nested_vmx_check_eptp(vcpu, new_eptp)) {{\n{UNMAP}\t\treturn 1;\n\t}}\n",
    "leaves": "\tif (!nested_vmx_check_eptp(vcpu, new_eptp))\n\t\tgoto unmap;\n",
    "handed": (
        "\tif (!nested_vmx_check_eptp(vcpu, new_eptp)) {\n"
        "\t\tnested_vmx_defer_eptp_list(vcpu, &map);\n\t\treturn 1;\n\t}\n"
    ),
}


def _series(
    root: Path, early: str, fix_later: bool = False, rewrite_later: bool = False
) -> tuple[Path, Path]:
    """The repository and the mail directory of the series, `early` the EPTP check's exit."""
    if not (KERNEL / NESTED).is_file():
        pytest.skip(f"real Linux 6.12 files not found at {KERNEL} (they live beside the repo)")
    repo = root / "linux"
    source = repo / NESTED
    source.parent.mkdir(parents=True)
    source.write_bytes((KERNEL / NESTED).read_bytes())
    author_git(repo, "init", "-q", "-b", "master")
    author_git(repo, "add", ".")
    author_git(repo, "commit", "-q", "-m", "Linux 6.12 (the file this test needs)")
    author_git(repo, "checkout", "-q", "-b", "eptp")
    replace_once(
        source,
        "\t * VMFUNC should never execute cleanly while L1 is active;",
        "\t * VMFUNC (leaf 0 only) should never execute cleanly while L1 is active;",
    )
    author_git(repo, "commit", "-q", "-am", "KVM: nVMX: Say which VMFUNC leaf KVM emulates")
    replace_once(source, *DECLARE)
    replace_once(source, READ, MAP + EARLY[early])
    replace_once(source, CHECK_INSIDE, "\tif (vmcs12->ept_pointer != new_eptp) {\n")
    label = "unmap:\n" if early == "leaves" else ""
    replace_once(
        source, LAST_EXIT, LAST_EXIT.replace("\treturn 0;", f"{label}{UNMAP[1:]}\treturn 0;")
    )
    author_git(
        repo, "commit", "-q", "-am", "KVM: nVMX: Map the EPTP list instead of copying an entry"
    )
    if fix_later:
        replace_once(source, EARLY[early], EARLY["released"])
        author_git(
            repo, "commit", "-q", "-am", "KVM: nVMX: Unmap the EPTP list when the EPTP is bad"
        )
    if rewrite_later:
        replace_once(
            source, "gpa_to_gfn(vmcs12->eptp_list_address), &map)", "eptp_list_gfn(vmcs12), &map)"
        )
        author_git(repo, "commit", "-q", "-am", "KVM: nVMX: Name the EPTP list's gfn")
    out = root / "mail"
    author_git(repo, "format-patch", "-q", "--cover-letter", "--thread", "-o", str(out), "master")
    return repo, out


def _check_json(mail: Path, capsys) -> tuple[int, dict]:
    code = main(["check", str(mail), "--json"])
    return code, json.loads(capsys.readouterr().out)


# -- the leak ------------------------------------------------------------------------------


def test_added_map_that_an_early_return_shown_in_the_hunk_leaks_is_one_finding(tmp_path, capsys):
    repo, mail = _series(tmp_path, "leak")
    code, data = _check_json(mail, capsys)
    assert code == EXIT_FINDINGS
    found = data["findings"]
    assert [
        (f["rule"], f["file"], f["function"], f["patch_index"], f["status"]) for f in found
    ] == [("leak", NESTED, FUNCTION, 2, "introduced")]
    finding = found[0]
    assert finding["evidence"] == EVIDENCE_HUNKS and "from hunks" in finding["message"]
    assert [h["patch_index"] for h in finding["hunks"]] == [2]
    assert "+\tif (kvm_vcpu_map(" in finding["hunks"][0]["text"]
    # The exit is the EPTP check's `return 1`, in the file as the series leaves it.
    author_git(repo, "checkout", "-q", "eptp")
    lines = (repo / NESTED).read_text(encoding="utf-8").splitlines()
    assert lines[finding["line"] - 1].strip() == "return 1;"
    assert "nested_vmx_check_eptp" in lines[finding["line"] - 2]
    assert any("kvm_vcpu_map()" in step["event"] for step in finding["trace"])

    assert main(["check", str(mail)]) == EXIT_FINDINGS
    text = capsys.readouterr().out
    assert f"{NESTED}:{finding['line']}: error: leak:" in text
    assert f"evidence: patch 2: {NESTED} @@" in text


@pytest.mark.parametrize("early", ["released", "leaves", "handed"])
def test_nothing_is_reported_where_the_shown_lines_do_not_prove_a_leak(tmp_path, capsys, early):
    # Released on that exit; the exit jumps to a label another hunk shows (the path leaves
    # the lines shown around the map); the map handed to a function the mail does not show.
    _, mail = _series(tmp_path, early)
    code, data = _check_json(mail, capsys)
    assert data["findings"] == []
    assert code == EXIT_NOT_CHECKED
    assert (NESTED, FUNCTION, NOT_CHECKED_HUNKS_ONLY) in {
        (item["file"], item["function"], item["reason"]) for item in data["not_checked"]
    }


def test_a_later_patch_that_adds_the_release_marks_the_leak_fixed_by_it(tmp_path, capsys):
    _, mail = _series(tmp_path, "leak", fix_later=True)
    _, data = _check_json(mail, capsys)
    found = [(f["rule"], f["function"], f["patch_index"], f["status"]) for f in data["findings"]]
    assert found == [("leak", FUNCTION, 2, "introduced"), ("leak", FUNCTION, 3, "fixed")]
    fixed = data["findings"][1]
    assert [h["patch_index"] for h in fixed["hunks"]] == [2, 3]


def test_a_later_patch_that_rewrites_the_acquisition_does_not_fix_the_leak(tmp_path, capsys):
    # The map's line changes (another gfn helper) but the early exit still skips the unmap.
    _, mail = _series(tmp_path, "leak", rewrite_later=True)
    _, data = _check_json(mail, capsys)
    found = [(f["rule"], f["function"], f["patch_index"], f["status"]) for f in data["findings"]]
    assert found == [("leak", FUNCTION, 2, "introduced")]


def test_the_shown_lines_follow_each_patch_of_the_revision():
    first = (
        "--- a/x.c\n+++ b/x.c\n@@ -10,3 +10,5 @@ int f(void)\n"
        " \ta = 1;\n+\tb = 2;\n+\tc = 3;\n \td = 4;\n \te = 5;\n"
        "@@ -40,2 +42,2 @@ int f(void)\n \tx = 1;\n-\ty = 2;\n+\ty = 3;\n"
    )
    second = "--- a/x.c\n+++ b/x.c\n@@ -5,2 +5,3 @@ int f(void)\n \tp = 1;\n+\tq = 2;\n \tr = 3;\n"
    visible = VisibleFile()
    for index, diff in enumerate((first, second), start=1):
        file_diff = parse_patch_diff(diff).files[0]
        names = {
            line.new_line: "f" for hunk in file_diff.hunks for line in hunk.lines if line.new_line
        }
        moved = visible.apply(file_diff.hunks, index, names)
    # Every line the first patch showed moved down by the line the second one added above it.
    assert moved[10] == 11 and moved[43] == 44
    assert visible.lines[13].text == "\tc = 3;" and visible.lines[13].added_by == 1
    assert visible.lines[6].text == "\tq = 2;" and visible.lines[6].added_by == 2
    assert visible.lines[44].text == "\ty = 3;"
    assert visible.run(13, "f") == [11, 12, 13, 14, 15]
    assert visible.run(6, "f") == [5, 6, 7]


def test_without_a_tree_the_findings_are_those_the_tree_gives(tmp_path, capsys):
    """The same leak, its fix, line, patch and configuration with `--repo` and without, so a
    report read either way agrees and versions compare."""
    repo, mail = _series(tmp_path, "leak", fix_later=True)
    _, hunks = _check_json(mail, capsys)
    main(["check", str(mail), "--repo", str(repo), "--base", "master", "--json"])
    tree = json.loads(capsys.readouterr().out)

    def identity(data: dict) -> list[tuple]:
        keys = ("rule", "file", "function", "line", "patch_index", "status", "config")
        return [tuple(f[k] for k in keys) for f in data["findings"]]

    assert identity(tree) == identity(hunks)
    assert {f["evidence"] for f in hunks["findings"]} == {EVIDENCE_HUNKS}


# -- a whole block of real code added -------------------------------------------------------


def _block_series(root: Path, relpath: str, acquire: str, blank: str | None) -> Path:
    """Mail of one patch that adds, to real 6.12 `relpath`, everything from the line holding
    `acquire` to the end of its function, with the function's one-line declarations (as a
    patch introducing a mapping does); `blank`: a release line of the block left out."""
    if not (KERNEL / relpath).is_file():
        pytest.skip(f"real Linux 6.12 files not found at {KERNEL} (they live beside the repo)")
    real = (KERNEL / relpath).read_text(encoding="utf-8")
    lines = real.split("\n")
    at = next(i for i, line in enumerate(lines) if acquire in line)
    body = max(i for i in range(at) if lines[i] == "{") + 1
    end = next(i for i in range(at, len(lines)) if lines[i] == "}")
    kept = [line for line in lines[body:at] if not DECLARATION_RE.match(line)]
    base = lines[:body] + kept + lines[end:]
    after = list(lines)
    if blank is not None:
        gone = next(i for i in range(at, end) if lines[i].strip() == blank)
        after[gone] = "\t;"
    repo = root / "linux"
    (repo / relpath).parent.mkdir(parents=True)
    (repo / relpath).write_text("\n".join(base), encoding="utf-8")
    author_git(repo, "init", "-q", "-b", "master")
    author_git(repo, "add", ".")
    author_git(repo, "commit", "-q", "-m", "Linux 6.12 without the block")
    author_git(repo, "checkout", "-q", "-b", "block")
    (repo / relpath).write_text("\n".join(after), encoding="utf-8")
    author_git(repo, "commit", "-q", "-am", "KVM: fault the page in")
    out = root / "mail"
    author_git(repo, "format-patch", "-q", "-o", str(out), "master")
    return out


@pytest.mark.parametrize(
    ("relpath", "acquire", "blank", "expected"),
    [
        # The arm64 fault handler: `device` is set on one branch of the block and tested
        # later; on the other branch it holds what the lines above the block set (false).
        # Walked as if it could be anything, `return -ENOEXEC` would leak a refcounted page.
        ("arch/arm64/kvm/mmu.c", "pfn = __gfn_to_pfn_memslot(", None, []),
        ("arch/x86/kvm/svm/svm.c", "if (kvm_vcpu_map(vcpu, gpa_to_gfn(smram64->svm", None, []),
        (
            "arch/x86/kvm/svm/svm.c",
            "if (kvm_vcpu_map(vcpu, gpa_to_gfn(smram64->svm",
            "kvm_vcpu_unmap(vcpu, &map_save, true);",
            [("leak", "svm_leave_smm")],
        ),
    ],
)
def test_a_block_of_real_code_added_is_judged_as_the_tree_judges_it(
    tmp_path, capsys, relpath, acquire, blank, expected
):
    mail = _block_series(tmp_path, relpath, acquire, blank)
    _, data = _check_json(mail, capsys)
    assert [(f["rule"], f["function"]) for f in data["findings"]] == expected


# -- every door shows it -------------------------------------------------------------------


def test_report_b4_check_and_html_show_the_leak_from_hunks(tmp_path):
    _, mail = _series(tmp_path, "leak")
    out = tmp_path / "r.json"
    assert main(["report", str(mail), "--format", "json", "-o", str(out)]) == EXIT_FINDINGS
    review = json.loads(out.read_text())["reviews"][0]
    leaks = [
        (f["function"], f["patch_index"], f["evidence"])
        for entry in review["findings"]
        for f in entry["findings"]
        if f["rule"] == "leak"
    ]
    assert leaks == [(FUNCTION, 2, EVIDENCE_HUNKS)]

    page_path = tmp_path / "r.html"
    main(["report", str(mail), "-o", str(page_path), "--fail-on", "none"])
    page = lxml_html.fromstring(page_path.read_bytes())
    badges = page.xpath('//*[@data-evidence="hunks"]')
    assert badges, "the finding carries the from-hunks badge"
    assert FUNCTION in page.text_content()

    patch = next(p for p in sorted(mail.iterdir()) if p.name.startswith("0002-"))
    results = check_message(patch.read_bytes(), repo=None)
    assert [r["status"] for r in results] == ["fail"]
    assert "leak" in results[0]["details"] and FUNCTION in results[0]["details"]


@pytest.fixture
def smtp_server():
    from test_bot_fixtures import smtp_servers

    yield from smtp_servers()


def test_the_bot_reply_names_the_leak_from_hunks(tmp_path, smtp_server):
    from test_bot_fixtures import reply_once

    from tests.helpers.git import PublicInbox

    _, mail = _series(tmp_path, "leak")
    handler, port = smtp_server()
    inbox = PublicInbox(tmp_path / "inbox")
    for path in sorted(mail.iterdir()):
        inbox.add(_as_sent(path))
    reply_once(tmp_path, inbox.path, port, reply_when_clean=False)
    assert len(handler.received) == 1
    body = handler.received[0].message.get_content()
    assert "leak" in body and FUNCTION in body and "from hunks" in body


def _as_sent(path: Path) -> bytes:
    """A format-patch file as a list delivers it (an mbox `From ` line is not part of it)."""
    message = next(iter(mailbox.mbox(str(path))))
    if "Message-ID" not in message:
        message["Message-ID"] = f"<{path.stem}@example.org>"
    return message.as_bytes()


# -- the region, piece by piece ------------------------------------------------------------


def _visible(lines: list[str], first: int = 10) -> VisibleFile:
    """The visible text of one hunk of function `f`: `+` lines added, others context."""
    old = sum(1 for line in lines if not line.startswith("+"))
    body = "".join(line if line.startswith("+") else f" {line}" for line in lines)
    diff = f"--- a/x.c\n+++ b/x.c\n@@ -{first},{old} +{first},{len(lines)} @@ int f(void)\n{body}"
    visible = VisibleFile()
    for file_diff in parse_patch_diff(diff).files:
        functions = {
            line.new_line: "f"
            for hunk in file_diff.hunks
            for line in hunk.lines
            if line.kind != "-" and line.new_line
        }
        visible.apply(file_diff.hunks, 1, functions)
    return visible


def test_a_block_whose_end_is_not_shown_and_a_break_out_of_a_hidden_loop_leave_the_region():
    visible = _visible(
        [
            "\t\tif (a)\n",
            "\t\t\tcontinue;\n",
            "+\t\tpage = gfn_to_page(kvm, gfn);\n",
            "+\t\tif (b)\n",
            "+\t\t\tbreak;\n",
            "+\t\tif (c) {\n",
            "+\t\t\tput_page(page);\n",
            "\t\tx = 1;\n",
            "\t\ty = 2;\n",
        ]
    )
    fragment = region_fragment(visible, 12, "f", "f")
    assert fragment is not None
    body = fragment.text.split("\n")
    # The walk starts at the acquisition's statement; the `break` whose loop is not shown and
    # the end of the unclosed `if (c) {` both jump out of the region.
    assert body[10].startswith("static int f(void) {")
    assert body[11].strip() == "page = gfn_to_page(kvm, gfn);"
    assert "goto __reviewtool_off_region;" in body[13]
    assert fragment.text.count("goto __reviewtool_off_region;") == 3


def test_a_case_of_a_hidden_switch_proves_nothing_and_a_preprocessor_line_ends_the_region():
    case = ["\tcase 2:\n", "+\t\tpage = gfn_to_page(kvm, gfn);\n", "+\t\tif (b)\n"]
    case += ["+\t\t\treturn 1;\n", "\tcase 3:\n", "\t\tput_page(page);\n"]
    # The `switch` is not shown: the CFG would step over the `case` body.
    assert region_fragment(_visible(case), 11, "f", "f") is None
    ifdef = ["\tx = 0;\n", "+\tpage = gfn_to_page(kvm, gfn);\n", "+\tif (b)\n"]
    ifdef += ["+\t\treturn 1;\n", "#endif\n", "\tput_page(page);\n"]
    fragment = region_fragment(_visible(ifdef), 11, "f", "f")
    assert fragment is not None
    assert (fragment.first, fragment.last) == (11, 13)
    assert "put_page" not in fragment.text
