"""Issue 17.1: past a text budget, messages keep headers, trailers, files and patch-id only;
bodies are read back from the mbox offset or the file when an analysis needs them, and
every result is the same as with everything in memory. Real list mail from ../shared/corpus."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reviewtool.analyses.rangediff import compare
from reviewtool.errors import InputError
from reviewtool.ingest import load
from reviewtool.series import to_json

SERIES = ("kvm-apic-bus-freq", "kvm-tracepoint-updates")


def corpus_mbox(corpus_dir: Path, out: Path) -> Path:
    """The corpus series as one mboxrd file, as public-inbox exports it."""
    parts = []
    for name in SERIES:
        for path in sorted((corpus_dir / name).glob("*.eml")):
            data = re.sub(rb"^(>*From )", rb">\1", path.read_bytes(), flags=re.M)
            parts.append(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n" + data.rstrip(b"\n") + b"\n\n")
    out.write_bytes(b"".join(parts))
    return out


def comparisons(collection) -> list[dict]:
    return [
        compare(a, b).to_json()
        for series in collection.series
        for a, b in zip(series.revisions, series.revisions[1:], strict=False)
    ]


@pytest.mark.parametrize("layout", ["mbox", "eml files"])
def test_released_texts_read_back_give_the_same_series_and_range_diffs(
    corpus_dir, tmp_path, layout
):
    if layout == "mbox":
        paths = [str(corpus_mbox(corpus_dir, tmp_path / "corpus.mbox"))]
    else:
        paths = [str(corpus_dir / name) for name in SERIES]
    full = load(paths)
    lean = load(paths, keep_text_bytes=0)
    mails = [p.mail for s in lean.series for r in s.revisions for p in r.patches]
    assert mails and all(m.text_released for m in mails)
    assert to_json(lean) == to_json(full)  # patch-ids, files, trailers: kept without the text
    assert all(m.text_released for m in mails)  # the series document read no body back
    assert comparisons(lean) == comparisons(full)  # the range-diff read the bodies back
    assert not any(m.text_released for m in mails)


def test_a_message_changed_after_reading_is_an_input_error(corpus_dir, tmp_path):
    mbox = corpus_mbox(corpus_dir, tmp_path / "corpus.mbox")
    lean = load([str(mbox)], keep_text_bytes=0)
    patch = lean.series[0].revisions[0].patches[0]
    mbox.write_bytes(b"From mboxrd@z Thu Jan  1 00:00:00 1970\nSubject: other\n\nx\n" * 40)
    with pytest.raises(InputError, match="changed since it was read"):
        _ = patch.diff
