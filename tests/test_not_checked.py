"""Never an all-clear for what was not checked: every door says which changed functions the
checker could not check whole, and why (`NotChecked`), and a run that saw only hunks does not
look like a clean one.

The mail is the bundled example's v1 (real-shaped git format-patch output, four patches that
change parts of KVM fault handlers): without a tree the hunks show those functions only in
part, so nothing there may be reported as clean.
"""

from __future__ import annotations

import json
import mailbox
from pathlib import Path

import pytest
from lxml import html as lxml_html
from test_bot_fixtures import reply_once, smtp_servers

from reviewtool.analyses.findings import NOT_CHECKED_BOUND, NOT_CHECKED_HUNKS_ONLY
from reviewtool.bot.b4check import check_message
from reviewtool.cli import EXIT_NOT_CHECKED, main
from tests.helpers.git import PublicInbox, git, git_env

ROOT = Path(__file__).resolve().parent.parent
V1 = ROOT / "examples" / "kvm-follow-pfn" / "mbox" / "v1.mbox"
# A function whose paths cannot merge (every answer is read again): the walker's work bound
# stops it, so it is checked only in part.
COUNT = 20


def _bounded_function(extra: str = "") -> str:
    stores = "".join(f"\tint a{i} = probe{i}(kvm);\n" for i in range(COUNT))
    tests = "".join(f"\tif (a{i})\n\t\tn++;\n" for i in range(COUNT))
    return (
        "static int many(struct kvm *kvm, gfn_t gfn)\n{\n\tint n = 0;\n"
        f"{stores}\tkvm_pfn_t pfn = gfn_to_pfn(kvm, gfn);\n{extra}\n"
        f"{tests}{tests}\tkvm_release_pfn_clean(pfn);\n\treturn n;\n}}\n"
    )


def _v1_mails() -> list[bytes]:
    return [message.as_bytes() for message in mailbox.mbox(str(V1))]


# -- reviewtool check ----------------------------------------------------------------------


def test_check_on_mail_without_a_tree_names_each_function_not_checked_and_exits_3(capsys):
    code = main(["check", str(V1)])
    out = capsys.readouterr().out
    assert code == EXIT_NOT_CHECKED
    assert "arch/x86/kvm/mmu/mmu.c: direct_page_fault: not checked (hunks-only)" in out
    assert "not an all-clear" in out.splitlines()[-1]


def test_check_json_carries_not_checked_with_reasons(capsys):
    main(["check", str(V1), "--json"])
    data = json.loads(capsys.readouterr().out)
    entries = data["not_checked"]
    assert entries, "a check that saw only hunks must list what it did not check"
    assert {entry["reason"] for entry in entries} == {NOT_CHECKED_HUNKS_ONLY}
    first = entries[0]
    assert set(first) >= {"file", "function", "reason", "detail", "version", "patch_index"}
    assert first["label"] == "v1" and first["version"] == 1 and first["patch_index"]


def test_check_on_a_c_file_whose_walk_hit_the_bound_says_so_and_exits_3(tmp_path, capsys):
    source = tmp_path / "bounded.c"
    source.write_text(_bounded_function(), encoding="utf-8")
    code = main(["check", str(source), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == EXIT_NOT_CHECKED
    assert [(e["function"], e["reason"]) for e in data["not_checked"]] == [
        ("many", NOT_CHECKED_BOUND)
    ]


def test_check_that_checked_everything_exits_0_and_says_so(tmp_path, capsys):
    source = tmp_path / "plain.c"
    source.write_text(
        "static int plain(struct kvm *kvm, gfn_t gfn)\n{\n"
        "\tkvm_pfn_t pfn = gfn_to_pfn(kvm, gfn);\n\n"
        "\tkvm_release_pfn_clean(pfn);\n\treturn 0;\n}\n",
        encoding="utf-8",
    )
    assert main(["check", str(source)]) == 0
    assert "nothing left unchecked" in capsys.readouterr().out


# -- reviewtool report ---------------------------------------------------------------------


def test_report_json_lists_not_checked_per_version(tmp_path):
    out = tmp_path / "r.json"
    assert main(["report", str(V1), "--format", "json", "-o", str(out)]) == EXIT_NOT_CHECKED
    entry = json.loads(out.read_text())["reviews"][0]["findings"][-1]
    assert entry["findings"] == []
    assert entry["not_checked"]
    assert all(item["reason"] == NOT_CHECKED_HUNKS_ONLY for item in entry["not_checked"])
    assert all(set(item) == {"file", "function", "patch_index"} for item in entry["checked"])


def test_report_text_does_not_say_none_for_code_it_did_not_check(tmp_path):
    out = tmp_path / "r.txt"
    main(["report", str(V1), "--format", "text", "-o", str(out), "--fail-on", "none"])
    text = out.read_text()
    findings = text.split("Findings in v1", 1)[1]
    assert "\n  none\n" not in findings
    assert "Not checked in v1" in findings
    assert "direct_page_fault: not checked (hunks-only)" in findings


def test_report_html_makes_no_all_clear_and_lists_not_checked(tmp_path):
    out = tmp_path / "r.html"
    main(["report", str(V1), "-o", str(out), "--fail-on", "none"])
    page = lxml_html.fromstring(out.read_bytes())
    text = page.text_content()
    assert "No rule is broken in any version" not in text
    assert "No findings in v1." not in text
    block = page.xpath('//*[@data-not-checked="v1"]')
    assert block, "the findings section lists what v1 did not check"
    assert "direct_page_fault" in block[0].text_content()


# -- the bot -------------------------------------------------------------------------------


@pytest.fixture
def smtp_server():
    yield from smtp_servers()


def test_bot_reply_to_a_series_it_saw_only_in_hunks_is_not_an_all_clear(tmp_path, smtp_server):

    handler, port = smtp_server()
    inbox = PublicInbox(tmp_path / "inbox")
    for data in _v1_mails():
        inbox.add(data)
    store = reply_once(tmp_path, inbox.path, port, reply_when_clean=False)
    assert "clean" not in [decision[1] for decision in store.decisions()]
    assert len(handler.received) == 1
    body = handler.received[0].message.get_content()
    assert "found nothing to report" not in body
    assert "No findings." not in body
    assert "Not checked" in body and "hunks-only" in body
    assert max(len(line) for line in body.splitlines()) <= 72


# -- b4-check ------------------------------------------------------------------------------


def test_b4_check_warns_instead_of_passing_a_patch_it_saw_only_in_hunks():
    patch = next(m for m in _v1_mails() if b"[PATCH 2/4]" in m)
    results = check_message(patch, repo=None)
    assert [r["status"] for r in results] == ["warn"]
    assert "not checked" in results[0]["summary"]
    assert "hunks-only" in results[0]["details"]


# -- the pre-push hook ---------------------------------------------------------------------


def _git(repo: Path, *args: str, env: dict) -> str:
    return git(repo, *args, env=env).strip()


def test_hook_output_names_a_function_it_could_not_check_whole(tmp_path):
    from reviewtool.hook.report import format_result
    from reviewtool.hook.run import run_hook

    env = git_env(("A U Thor", "author@example.org"), date=None, home=tmp_path)
    repo = tmp_path / "work"
    _git(tmp_path, "init", "-q", "-b", "main", str(repo), env=env)
    source = repo / "virt" / "kvm" / "bounded.c"
    source.parent.mkdir(parents=True)
    source.write_text(_bounded_function(), encoding="utf-8")
    _git(repo, "add", ".", env=env)
    _git(repo, "commit", "-q", "-m", "base", env=env)
    base = _git(repo, "rev-parse", "HEAD", env=env)
    source.write_text(_bounded_function("\tn += 2;\n"), encoding="utf-8")
    _git(repo, "commit", "-q", "-am", "KVM: count twice", env=env)
    head = _git(repo, "rev-parse", "HEAD", env=env)
    result = run_hook(repo, f"refs/heads/main {head} refs/heads/main {base}\n", remote="origin")
    assert result.error is None
    assert [(item.function, item.reason) for item in result.not_checked] == [
        ("many", NOT_CHECKED_BOUND)
    ]
    text = format_result(result)
    assert "virt/kvm/bounded.c: many: not checked (bound)" in text
    last = text.strip().splitlines()[-1]
    assert "not checked" in last and last.startswith("reviewtool: ok")
    assert result.exit_code() == 0  # the checker's own limits never block a push
