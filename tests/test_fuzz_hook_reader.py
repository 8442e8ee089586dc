"""Property test of the hook's commit reader (issue 16.2): whatever a subject or a patch line
holds, the records say which commit each change belongs to, and nothing is invented."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewtool.errors import InputError
from reviewtool.hook.changes import parse_log

# Anything a commit can carry: every character but NUL, which git never prints in a subject
# or a text patch (a file with a NUL is "binary" to git).
TEXT = st.text(st.characters(blacklist_characters="\x00\n", codec="utf-8"), max_size=40)
SHA = st.text("0123456789abcdef", min_size=40, max_size=40)


def _record(sha: str, parent: str, subject: str, added: list[str]) -> str:
    body = "\n"
    if added:
        body += (
            "diff --git a/f.c b/f.c\n--- a/f.c\n+++ b/f.c\n"
            f"@@ -0,0 +1,{len(added)} @@\n" + "".join(f"+{line}\n" for line in added)
        )
    return f"\x00{sha}\x00{parent}\x00{subject}\x00{body}"


@settings(max_examples=200, deadline=None)
@given(
    commits=st.lists(
        st.tuples(SHA, TEXT, st.lists(TEXT, max_size=5)),
        min_size=1,
        max_size=4,
        unique_by=lambda c: c[0],
    )
)
def test_records_keep_each_commit_its_own_subject_and_lines(commits) -> None:
    parent = "1" * 40
    stream = "".join(_record(sha, parent, subject, added) for sha, subject, added in commits)
    patches = parse_log(stream, [sha for sha, _, _ in commits])
    assert list(patches) == [sha for sha, _, _ in commits]
    for sha, subject, added in commits:
        patch = patches[sha]
        assert patch.subject == subject and patch.parent == parent
        if added:
            (change,) = patch.files
            assert change.path == "f.c" and change.new_lines == set(range(1, len(added) + 1))
        else:
            assert patch.files == []


@settings(max_examples=100, deadline=None)
@given(sha=SHA, other=SHA, subject=TEXT)
def test_a_record_naming_a_commit_not_asked_for_is_refused(sha, other, subject) -> None:
    if sha == other:
        return
    with pytest.raises(InputError):
        parse_log(_record(other, "", subject, []), [sha])
