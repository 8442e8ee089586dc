"""Decoding one message: encodings, charsets, MIME, in-body From, trailers."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewtool.errors import InputError
from reviewtool.mail import parse_mail

DATA = Path(__file__).parent / "data" / "mail"


def load(name: str):
    return parse_mail((DATA / name).read_bytes(), name)


def test_quoted_printable_patch_is_decoded_with_soft_breaks_joined():
    mail = load("encoding-qp-patch.eml")
    assert "int tries = KVM_FAULTIN_RETRIES;" in mail.diff
    assert "see the comment above. */" in mail.diff  # soft line break joined
    assert mail.diff.startswith("diff --git a/virt/kvm/kvm_main.c")
    assert "2.40.1" not in mail.diff  # the signature is not part of the diff


def test_rfc2047_subject_is_decoded():
    mail = load("encoding-qp-patch.eml")
    assert "fault\u2011in" in mail.subject
    assert (mail.prefix.version, mail.prefix.index, mail.prefix.total) == (2, 2, 3)


def test_base64_reply_with_crlf_gives_reviewed_by():
    mail = load("encoding-base64-reply-crlf.eml")
    assert mail.prefix.reply
    assert [(t.name, t.email) for t in mail.trailers] == [
        ("Reviewed-by", "rick.p.edgecombe@intel.com")
    ]
    assert "\r" not in mail.body


def test_patch_sent_as_attachment_is_found():
    mail = load("mime-attached-patch.eml")
    assert "book3s_64_mmu_radix.c" in mail.diff
    assert any("attachment" in w for w in mail.warnings)


def test_bad_bytes_are_replaced_not_fatal():
    mail = load("bugs-bad-charset.eml")
    assert "J\u00f6rg" in mail.author_name  # RFC 2047 in From
    assert "\ufffd" in mail.body
    assert mail.diff.startswith("diff --git a/arch/x86/kvm/svm/svm.c")


def test_format_flowed_warns_and_bad_trailer_is_ignored():
    mail = load("bugs-format-flowed-reply.eml")
    assert any("format=flowed" in w for w in mail.warnings)
    assert [t.name for t in mail.trailers] == ["Reviewed-by"]


def test_in_body_from_names_the_real_author():
    raw = (
        b"From: David Stevens <stevensd@chromium.org>\n"
        b"Subject: [PATCH v8 1/8] KVM: Assert that a page's refcount is elevated\n"
        b"Message-ID: <x-1@chromium.org>\n"
        b"Date: Thu, 24 Aug 2023 17:04:01 +0900\n\n"
        b"From: Sean Christopherson <seanjc@google.com>\n\n"
        b"Assert that a page is refcounted before marking it.\n\n"
        b"Signed-off-by: Sean Christopherson <seanjc@google.com>\n"
        b"Signed-off-by: David Stevens <stevensd@chromium.org>\n"
        b"---\n virt/kvm/kvm_main.c | 1 +\n\n"
        b"diff --git a/virt/kvm/kvm_main.c b/virt/kvm/kvm_main.c\n"
        b"--- a/virt/kvm/kvm_main.c\n+++ b/virt/kvm/kvm_main.c\n@@ -1,1 +1,2 @@\n a\n+b\n"
    )
    mail = parse_mail(raw, "inline")
    assert mail.in_body_from == "Sean Christopherson <seanjc@google.com>"
    assert mail.commit_message.startswith("Assert that a page")
    assert [t.value for t in mail.trailers if t.name == "Signed-off-by"] == [
        "Sean Christopherson <seanjc@google.com>",
        "David Stevens <stevensd@chromium.org>",
    ]


def test_fixes_needs_a_commit_id_and_persons_need_an_address():
    raw = (
        b"From: A <a@example.org>\nSubject: [PATCH] x\nMessage-ID: <t@x>\n\n"
        b"Body.\n\nFixes: the earlier change\nReviewed-by: Someone\n"
        b'Fixes: 0123456789ab ("KVM: x")\nSigned-off-by: A <a@example.org>\n'
        b"---\ndiff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n"
    )
    mail = parse_mail(raw, "inline")
    assert [t.name for t in mail.trailers] == ["Fixes", "Signed-off-by"]
    assert sum("malformed trailer" in w for w in mail.warnings) == 2


def test_no_headers_is_an_input_error():
    with pytest.raises(InputError):
        parse_mail(b"\x00\x01 this is not mail at all\n", "junk")


def test_missing_message_id_gets_a_stable_stand_in():
    raw = b"From: a@example.org\nSubject: [PATCH] x\n\nbody\n"
    first, second = parse_mail(raw, "a"), parse_mail(raw, "b")
    assert first.message_id == second.message_id
    assert first.message_id.endswith("@reviewtool.invalid")


def test_base_commit_and_change_id_are_read():
    raw = (
        b"From: a@example.org\nSubject: [PATCH v2 0/2] x\nMessage-ID: <c@x>\n\n"
        b"cover\n\n---\nchange-id: 20230824-kvm-follow-pfn-1a2b3c\n"
        b"base-commit: 0123456789abcdef0123456789abcdef01234567\n"
        b"prerequisite-patch-id: fedcba9876543210fedcba9876543210fedcba98\n"
    )
    mail = parse_mail(raw, "inline")
    assert mail.change_id == "20230824-kvm-follow-pfn-1a2b3c"
    assert mail.base_commit == "0123456789abcdef0123456789abcdef01234567"
    assert mail.prerequisite_patch_ids == ["fedcba9876543210fedcba9876543210fedcba98"]


# Date headers read directly must read exactly as email.utils reads them.
_DATE_SHAPES = st.builds(
    "{}{} {} {} {:02d}:{:02d}:{:02d} {}{:02d}{:02d}{}".format,
    st.sampled_from(["", "Thu, ", "Mon,", "Sun,  ", "thu, ", "Xyz, "]),
    st.integers(0, 40),
    st.sampled_from(["Jan", "Feb", "Aug", "Dec", "dec", "Foo", "JAN"]),
    st.sampled_from([1, 69, 99, 999, 1000, 1969, 2023, 9999]),
    st.integers(0, 25),
    st.integers(0, 61),
    st.integers(0, 61),
    st.sampled_from(["+", "-"]),
    st.integers(0, 30),
    st.integers(0, 99),
    st.sampled_from(["", " (PDT)", " (UTC)", "  (x)", " GMT"]),
)


def _outcome(read, value: str):
    try:
        return read(value)
    except (TypeError, ValueError, IndexError, OverflowError) as exc:
        return type(exc)


@settings(max_examples=1000, deadline=None)
@given(_DATE_SHAPES)
def test_dates_read_as_email_utils_reads_them(value: str) -> None:
    from email.utils import parsedate_to_datetime

    from reviewtool.mail.parse import _read_date

    ours, theirs = _outcome(_read_date, value), _outcome(parsedate_to_datetime, value)
    assert ours == theirs
    if isinstance(ours, datetime):
        assert ours.utcoffset() == theirs.utcoffset()


@pytest.mark.parametrize(
    "value",
    [
        "Thu, 24 Aug 2023 10:00:00 +0000",
        "Thu, 24 Aug 2023 10:00:00 -0000",
        "Tue, 5 Dec 2023 18:11:02 -0800 (PST)",
        "24 Aug 2023 10:00:00 +0530",
        "Thu, 24 Aug 2023 10:00 +0000",
        "Thu, 24 Aug 23 10:00:00 GMT",
        "Thu, 31 Feb 2023 10:00:00 +0000",
        "Thu, 24 Aug 2023 10:00:00 +9900",
    ],
)
def test_common_and_unusual_dates_read_as_email_utils_reads_them(value: str) -> None:
    from email.utils import parsedate_to_datetime

    from reviewtool.mail.parse import _read_date

    ours, theirs = _outcome(_read_date, value), _outcome(parsedate_to_datetime, value)
    assert ours == theirs
    if isinstance(ours, datetime):
        assert ours.utcoffset() == theirs.utcoffset()


def test_corpus_dates_read_as_email_utils_reads_them() -> None:
    from email.utils import parsedate_to_datetime

    corpus = Path(__file__).resolve().parents[1] / "../shared/corpus"
    if not corpus.is_dir():
        pytest.skip(f"the real mail corpus is not at {corpus}")
    mails = sorted(corpus.rglob("*.eml"))
    assert mails
    for path in mails:
        mail = parse_mail(path.read_bytes(), str(path))
        header = next(
            line.split(":", 1)[1].strip()
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
            if line.lower().startswith("date:")
        )
        expected = parsedate_to_datetime(header)
        if expected.tzinfo is None:
            expected = expected.replace(tzinfo=UTC)
        assert mail.date == expected and mail.date.utcoffset() == expected.utcoffset(), path


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=40).map(lambda raw: bytes(b"\r\na:"[x % 4] for x in raw)))
def test_headers_end_where_the_blank_line_pattern_says(data: bytes) -> None:
    """split_at_blank_line cuts where `\\r?\\n\\r?\\n` first matches, CR and LF mixed."""
    import re

    from reviewtool.mail.parse import split_at_blank_line

    parts = re.split(rb"\r?\n\r?\n", data, maxsplit=1)
    assert split_at_blank_line(data) == (parts[0], parts[1] if len(parts) > 1 else b"")


def _headers_line_by_line(block: bytes) -> list[tuple[str, str]]:
    """The reference: each line cut from the bytes, then decoded."""
    out: list[tuple[str, str]] = []
    for raw in block.split(b"\n"):
        line = raw.rstrip(b"\r").decode("utf-8", "surrogateescape")
        if line[:1] in (" ", "\t") and out:
            out[-1] = (out[-1][0], out[-1][1] + " " + line.strip())
            continue
        name, sep, value = line.partition(":")
        if sep and name and " " not in name:
            out.append((name.strip().lower(), value.strip()))
    return out


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from([b"\n", b"\r", b" ", b"\t", b":", b"a", b"\xe2", b"\x82", b"\xff"]),
        max_size=30,
    ).map(b"".join)
)
def test_a_header_block_decoded_whole_reads_as_line_by_line(block: bytes) -> None:
    from reviewtool.mail.parse import _split_headers

    assert _split_headers(block) == _headers_line_by_line(block)
