"""Sources: every reader yields every message once, in order, without loading the archive."""

import gzip
import shutil
from pathlib import Path

import pytest

from reviewtool.errors import InputError
from reviewtool.sources import iter_messages
from reviewtool.sources.mbox import iter_mbox
from tests.helpers.git import public_inbox

DATA = Path(__file__).parent / "data" / "mail"

MSG = (
    "From: Sean Christopherson <seanjc@google.com>\n"
    "Subject: [PATCH {i}/3] KVM: x86: part {i}\n"
    "Message-ID: <part-{i}@google.com>\n"
    "Date: Fri, 26 Jul 2024 16:51:1{i} -0700\n\n"
    "Body of part {i}.\n"
    "From here on the body has a line that starts with From.\n"
    ">From a quoted line, escaped once by mboxrd.\n"
)


def mboxrd(messages: list[str]) -> bytes:
    out = []
    for text in messages:
        escaped = "\n".join(
            (">" + line) if line.lstrip(">").startswith("From ") else line
            for line in text.splitlines()
        )
        out.append(f"From mboxrd@z Thu Jan  1 00:00:00 1970\n{escaped}\n\n")
    return "".join(out).encode()


def test_mboxrd_unescapes_exactly_one_level(tmp_path):
    path = tmp_path / "t.mbox"
    path.write_bytes(mboxrd([MSG.format(i=i) for i in (1, 2, 3)]))
    raws = list(iter_mbox(str(path)))
    assert len(raws) == 3
    body = raws[0].data.decode()
    assert "\nFrom here on the body" in body
    assert "\n>From a quoted line" in body
    assert not raws[0].data.endswith(b"\n\n")


def test_gzip_mbox_reads_like_plain(tmp_path):
    path = tmp_path / "t.mbox.gz"
    path.write_bytes(gzip.compress(mboxrd([MSG.format(i=i) for i in (1, 2)])))
    raws = list(iter_messages([str(path)]))
    assert [r.location.rsplit("@", 1)[0] for r in raws] == [str(path)] * 2
    assert b"Message-ID: <part-2@google.com>" in raws[1].data


def test_format_patch_stdout_mboxo_splits_on_git_separators(tmp_path):
    from tests.helpers.git import commit, git, init_repo, write

    repo = init_repo(tmp_path / "repo")
    base = git(repo, "rev-parse", "HEAD").strip()
    for i in range(3):
        write(repo, f"virt/kvm/f{i}.c", f"int f{i};\n")
        commit(repo, f"KVM: add f{i}\n\nFrom now on f{i} exists.\n")
    out = git(repo, "format-patch", "--stdout", "--cover-letter", f"{base}..HEAD")
    path = tmp_path / "series.mbox"
    path.write_text(out)
    raws = list(iter_messages([str(path)]))
    assert len(raws) == 4
    assert b"From now on f0 exists." in raws[1].data


def test_truncated_gzip_is_reported_not_raised(tmp_path):
    data = gzip.compress(mboxrd([MSG.format(i=i) for i in (1, 2, 3)] * 50))
    path = tmp_path / "cut.mbox.gz"
    path.write_bytes(data[: len(data) // 2])
    raws = list(iter_messages([str(path)]))
    assert raws[-1].error and "damaged" in raws[-1].error
    assert all(r.error is None for r in raws[:-1])


def test_maildir_reads_cur_and_new_not_tmp(tmp_path):
    for sub in ("cur", "new", "tmp"):
        (tmp_path / "md" / sub).mkdir(parents=True)
    (tmp_path / "md" / "cur" / "1.host:2,S").write_text(MSG.format(i=1))
    (tmp_path / "md" / "new" / "2.host").write_text(MSG.format(i=2))
    (tmp_path / "md" / "tmp" / "3.host").write_text(MSG.format(i=3))
    raws = list(iter_messages([str(tmp_path / "md")]))
    assert len(raws) == 2


def test_directory_walk_skips_notes_and_reads_mail(tmp_path):
    shutil.copy(DATA / "encoding-qp-patch.eml", tmp_path / "a.eml")
    (tmp_path / "README.md").write_text("# not mail\n")
    (tmp_path / "notes.txt").write_text("just words, no headers\n")
    skipped: list[str] = []
    raws = list(iter_messages([str(tmp_path)], skipped))
    assert [Path(r.location).name for r in raws] == ["a.eml"]
    assert sorted(Path(p).name for p in skipped) == ["README.md", "notes.txt"]


def test_missing_path_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        list(iter_messages([str(tmp_path / "nope.mbox")]))


def make_public_inbox(path: Path, messages: list[str], delete_last: bool = False) -> Path:
    """A public-inbox v2 inbox: git/0.git where each commit adds a message as file `m`."""
    return public_inbox([text.encode() for text in messages], path, delete_last)


def test_public_inbox_v2_yields_one_message_per_commit(tmp_path):
    inbox = make_public_inbox(tmp_path / "inbox", [MSG.format(i=i) for i in (1, 2, 3)], True)
    raws = list(iter_messages([str(inbox)]))
    assert len(raws) == 3
    assert b"<part-1@google.com>" in raws[0].data and b"<part-3@google.com>" in raws[2].data
    epoch_only = list(iter_messages([str(inbox / "git" / "0.git")]))
    assert [r.data for r in epoch_only] == [r.data for r in raws]


def test_a_file_is_read_alike_whatever_path_reads_it(tmp_path, monkeypatch):
    """Small plain files are read whole with os calls; gzip, big and oversize ones take the
    other readers. Each kind yields the same messages either way."""
    from reviewtool.sources.limits import READ_CHUNK_BYTES

    plain = MSG.format(i=1).encode()
    (tmp_path / "one.eml").write_bytes(plain)
    (tmp_path / "one.eml.gz").write_bytes(gzip.compress(plain))
    (tmp_path / "empty.eml").write_bytes(b"")
    three = mboxrd([MSG.format(i=i) for i in (1, 2, 3)])
    (tmp_path / "three.mbox").write_bytes(three)
    padding = b"x" * 100 + b"\n"
    big = mboxrd([MSG.format(i=1)]) + b"".join(
        [b"From mboxrd@z Thu Jan  1 00:00:00 1970\n", MSG.format(i=2).encode()]
        + [padding] * (READ_CHUNK_BYTES // len(padding) + 1)
    )
    (tmp_path / "big.mbox").write_bytes(big)
    assert len(big) > READ_CHUNK_BYTES

    def read(name: str) -> list[tuple[bytes, str | None]]:
        return [(r.data, r.error) for r in iter_messages([str(tmp_path / name)])]

    assert read("one.eml") == [(plain, None)] == read("one.eml.gz")
    assert read("empty.eml") == [(b"", "empty file")]
    assert [data for data, _ in read("three.mbox")] == [
        raw.data for raw in iter_mbox(str(tmp_path / "three.mbox"))
    ]
    assert len(read("three.mbox")) == 3
    messages = read("big.mbox")
    assert len(messages) == 2 and b"Message-ID: <part-2@google.com>" in messages[1][0]
    assert len(messages[1][0]) > READ_CHUNK_BYTES
    # Over the per-message limit: rejected with its size, whichever reader met it.
    monkeypatch.setenv("REVIEWTOOL_MAX_MESSAGE_MB", "0.0001")
    for name in ("one.eml", "three.mbox", "one.eml.gz"):
        assert all(data == b"" and "limit" in error for data, error in read(name)), name
