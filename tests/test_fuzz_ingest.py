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
