"""A small mbox read whole is cut exactly as the streaming reader cuts it.

`.patch` files and small archives are read in one piece and only their `From ` lines are
looked at; this checks that shortcut against the line-by-line reader on generated files full
of the shapes that decide a cut (strict and loose separators, blank and CRLF lines, mboxrd
escapes, no final newline) and on tiny per-message limits.
"""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewtool.sources.mbox import _split, _split_whole, iter_mbox

LINES = [
    b"From 1234abcd Mon Sep 17 00:00:00 2001\n",
    b"From mboxrd@z Thu Jan  1 00:00:00 1970\r\n",
    b"From someone on the list\n",
    b"From \n",
    b"From",
    b">From a quoted line\n",
    b">>From twice quoted\n",
    b"\n",
    b"\r\n",
    b"\r\r\n",
    b"\r",
    b"Subject: [PATCH 1/2] x\n",
    b"diff --git a/x b/x\n",
    b"+code\n",
    b"no newline at the end",
]


def _fields(messages) -> list[tuple]:
    return [(m.data, m.location, m.error, m.damaged) for m in messages]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(LINES), max_size=40).map(b"".join),
    st.sampled_from([1, 5, 40, 64 * 1024 * 1024]),
)
def test_a_file_read_whole_is_cut_as_the_stream_is(data: bytes, limit: int) -> None:
    streamed = _fields(_split(io.BytesIO(data), "f", limit))
    assert _fields(_split_whole(data, "f", limit)) == streamed


def test_a_patch_file_read_whole_keeps_each_message_and_its_offset(tmp_path) -> None:
    text = b"From 1234abcd Mon Sep 17 00:00:00 2001\nSubject: a\n\nbody\n\n"
    path = tmp_path / "one.patch"
    path.write_bytes(text + text.replace(b"body", b"second"))
    messages = list(iter_mbox(str(path)))
    assert [m.data for m in messages] == [b"Subject: a\n\nbody\n", b"Subject: a\n\nsecond\n"]
    assert [m.location for m in messages] == [f"{path}@0", f"{path}@{len(text)}"]
