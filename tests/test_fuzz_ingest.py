"""Property tests: mutated and random mail never raises, and the accounting always adds up."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewtool.ingest import assemble_raw
from reviewtool.series.serialize import to_json
from reviewtool.sources import RawMessage

# Slow (subprocesses, real git or corpus): `pytest -m "not slow"` leaves these out.
pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data" / "mail"
SEEDS = [p.read_bytes() for p in sorted(DATA.glob("*.eml"))]

HEADER_NAMES = [
    b"Subject",
    b"From",
    b"Message-ID",
    b"In-Reply-To",
    b"References",
    b"Date",
    b"Content-Type",
    b"Content-Transfer-Encoding",
]
NASTY_VALUES = [
    b"",
    b"<>",
    b"<a@b> <a@b>",
    b"=?utf-8?q?=FF=FE?=",
    b"[PATCH v999999999 0/0]",
    b"Re: Re: Aw: [PATCH [[[",
    b'multipart/mixed; boundary="x"',
    b"base64",
    b"quoted-printable",
    b"\xff\xfe\x00",
    b"[PATCH v5.1 10/12] x",
    b"Mon, 99 Foo 1 25:61",
]


@st.composite
def mutated_mail(draw):
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["truncate", "insert", "header", "flip"]))
        if action == "truncate" and data:
            del data[draw(st.integers(0, len(data) - 1)) :]
        elif action == "insert":
            at = draw(st.integers(0, len(data)))
            data[at:at] = draw(st.binary(max_size=40))
        elif action == "header":
            line = draw(st.sampled_from(HEADER_NAMES)) + b": " + draw(st.sampled_from(NASTY_VALUES))
            data[0:0] = line + b"\n"
        elif action == "flip" and data:
            at = draw(st.integers(0, len(data) - 1))
            data[at] = draw(st.integers(0, 255))
    return bytes(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(mutated_mail(), st.binary(max_size=300)), max_size=8))
def test_no_exception_escapes_and_accounting_adds_up(messages):
    raws = [RawMessage(data, f"fuzz:{i}") for i, data in enumerate(messages)]
    collection = assemble_raw(raws)
    acc = collection.accounting
    assert acc.read == len(messages)
    assert acc.balanced()
    placed = sum(
        len(r.patches) + (r.cover is not None) for s in collection.series for r in s.revisions
    )
    # Duplicated indices are kept out of revisions but still counted as patches.
    assert placed <= acc.cover + acc.patch
    to_json(collection)  # serialisable, whatever came in


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_any_subject_parses(subject):
    from reviewtool.mail.subject import parse_subject

    prefix = parse_subject(subject)
    assert prefix.version >= 0
    assert isinstance(prefix.title, str)


# The diff reader gets the same treatment: seeds are the diffs of the test mail, mutated at
# the places a damaged or hostile patch differs (hunk counts, markers, headers, line ends).
def _seed_diffs() -> list[str]:
    from reviewtool.mail.parse import parse_mail

    diffs = []
    for data in SEEDS:
        try:
            diff = parse_mail(data, "seed").diff
        except Exception:  # noqa: BLE001 - a seed that does not decode gives no diff
            continue
        if diff:
            diffs.append(diff)
    return diffs


DIFF_SEEDS = _seed_diffs()
DIFF_INSERTS = [
    "@@ -2147483648,1 +1,1 @@\n",
    "@@ -1 +1 @@\n",
    "@@ -0,0 +1,99999999 @@\n",
    "\\ No newline at end of file\n",
    "diff --git a/x b/x\n",
    "--- a/x\n+++ b/x\n",
    "+\f-\tbackdoor();\n",
    "-\u2028+x\n",
    "\r\n",
    "rename from a\nrename to b\n",
    "Binary files a/x and b/x differ\n",
    "-- \n2.41.0\n",
    "",
]


@st.composite
def mutated_diff(draw):
    lines = draw(st.sampled_from(DIFF_SEEDS)).split("\n") if DIFF_SEEDS else [""]
    for _ in range(draw(st.integers(0, 5))):
        at = draw(st.integers(0, len(lines)))
        action = draw(st.sampled_from(["drop", "insert", "garble", "cut"]))
        if action == "drop" and at < len(lines):
            del lines[at]
        elif action == "insert":
            lines[at:at] = draw(st.sampled_from(DIFF_INSERTS)).split("\n")
        elif action == "garble" and at < len(lines):
            lines[at] = draw(st.text(max_size=30))
        elif action == "cut":
            del lines[at:]
    return "\n".join(lines)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_diff())
def test_the_diff_reader_never_raises_and_its_hunks_hold_together(text):
    from reviewtool.diff.model import read_diff
    from reviewtool.diff.patterns import MAX_LINE_NUMBER
    from reviewtool.errors import InputError
    from reviewtool.render.view import diffstat

    patch = read_diff(text, lenient=True)  # lenient: never raises
    for file_diff in patch.files:
        for hunk in file_diff.hunks:
            assert max(hunk.old_start, hunk.new_start) <= MAX_LINE_NUMBER
            old = [line for line in hunk.lines if line.kind != "+"]
            new = [line for line in hunk.lines if line.kind != "-"]
            # A hunk is kept whole, or (cut by the end of the text) as far as it goes.
            assert len(old) <= hunk.old_length and len(new) <= hunk.new_length
            assert all(
                hunk.old_start <= line.old_line < hunk.old_start + hunk.old_length for line in old
            )
            assert all("\n" not in line.text for line in hunk.lines)
    stat = diffstat(text)
    assert stat.added == sum(len(f.added_lines()) for f in patch.files)
    assert stat.removed == sum(len(f.removed_lines()) for f in patch.files)
    try:
        strict = read_diff(text)
    except InputError:
        assert patch.problems, "strict reading refused what lenient reading found whole"
    else:
        assert not patch.problems and len(strict.files) == len(patch.files)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_diff(), st.text(max_size=60))
def test_the_hooks_commit_reader_never_raises(diff, subject):
    from reviewtool.errors import InputError
    from reviewtool.hook.changes import parse_log

    sha = "a" * 40
    text = f"\0{sha}\0{'b' * 40}\0{subject}\0{diff}\n"
    try:
        patches = parse_log(text, [sha])
    except InputError:
        return  # a stream it cannot split into whole records is refused, with a reason
    assert sha in patches
    for change in patches[sha].files:
        # Bounded by what the diff holds, never by what a header claims.
        assert len(change.new_lines) <= diff.count("\n") + 1
