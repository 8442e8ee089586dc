#!/usr/bin/env python3
"""Build the kvm-follow-pfn example from nothing: a git repository and the mail of v1..v8.

    python examples/kvm-follow-pfn/build.py [--out DIR] [--repo-out DIR]

The repository holds a compact model of the files the series touches (`tree/`), kvm/next
moving under the series, and one branch per version (v1 .. v8, plus v7.1).  Each version is
exported with `git format-patch --cover-letter --thread --base=...` and then dressed as
git-send-email through gmail would have sent it.  Every name and date is fixed, so the commit
hashes, and therefore the mbox files, come out the same on every run.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import quopri
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from history import (  # noqa: E402
    DAVID,
    PAOLO,
    VERSION_BASE,
    Commit,
    Edit,
    ident,
    upstream,
    version_commits,
    x86_migrate,
)
from letters import (  # noqa: E402
    MSGID_DOMAIN,
    ORIGINAL_FROM,
    POINT_REVISION,
    QP_PATCH,
    REPLIES,
    SENDER,
    SENDINGS,
    TITLE,
    UNTHREADED,
    UNTHREADED_SENDING,
    Reply,
    cover_blurb,
)

TREE = HERE / "tree"
DEFAULT_OUT = HERE / "mbox"
ROOT_DATE = "2021-06-18 09:00:00 -0400"
ROOT_SUBJECT = "KVM: compact model of the kvm/next fault-in paths"
ROOT_BODY = """
The files the series touches, cut down to the code that resolves a gfn to
a pfn, maps it into the guest and releases it: the generic gfn_to_pfn
helpers, the x86 TDP and shadow fault paths, arm64 user_mem_abort() and
the PPC HV and radix fault handlers.
"""
VERSIONS = ["1", "2", "3", "4", "5", "6", "7", "7.1", "8"]
FORMAT_PATCH_FROM_RE = re.compile(r"^From ([0-9a-f]{40}) Mon Sep 17 00:00:00 2001\n", re.M)
SUBJECT_PREFIX_RE = re.compile(r"^\[PATCH[^\]]*\] ")
SEND_SPACING = timedelta(seconds=1)  # git-send-email dates messages one second apart
COMMIT_SPACING = timedelta(minutes=7)


class BuildError(Exception):
    """The example could not be built (a replacement did not match, git failed)."""


# ----------------------------------------------------------------------------- git


def git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """An environment that ignores the user's git configuration."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": os.devnull,
        "LC_ALL": "C",
        "TZ": "UTC",
    }
    env.update(extra or {})
    return env


def git(repo: Path, *args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> str:
    """Run git in `repo`; raise BuildError with git's message when it fails."""
    proc = subprocess.run(
        ["git", "-c", "core.abbrev=12", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        env=git_env(env),
        input=stdin,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise BuildError(f"git {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout


def git_date(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z")


def fmt_git_date(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S %z")


def apply_edit(repo: Path, edit: Edit) -> None:
    """Apply one exact replacement; the old text must occur exactly once."""
    path = repo / edit.path
    text = path.read_text()
    count = text.count(edit.old)
    if count != 1:
        raise BuildError(f"{edit.path}: expected one match, found {count}:\n{edit.old[:200]}")
    path.write_text(text.replace(edit.old, edit.new))


def commit(repo: Path, change: Commit, date: str) -> str:
    """Apply a commit's edits and record it with fixed identities and dates."""
    for edit in change.edits:
        apply_edit(repo, edit)
    committed = change.committed or date
    env = {
        "GIT_AUTHOR_NAME": change.author[0],
        "GIT_AUTHOR_EMAIL": change.author[1],
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_NAME": change.committer[0],
        "GIT_COMMITTER_EMAIL": change.committer[1],
        "GIT_COMMITTER_DATE": committed,
    }
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-q", "-F", "-", env=env, stdin=change.message())
    return git(repo, "rev-parse", "HEAD").strip()


def build_repo(repo: Path) -> dict[str, str]:
    """Create the repository; return the tip of every branch and tag by name."""
    repo.mkdir(parents=True, exist_ok=True)
    if any(repo.iterdir()):
        existing = _built_refs(repo)
        if existing is None:
            raise BuildError(f"{repo} is not empty")
        return existing  # built before by this script: the same names and dates, the same hashes
    git(repo, "init", "-q", "-b", "master")
    shutil.copytree(TREE, repo, dirs_exist_ok=True)
    root = Commit(ROOT_SUBJECT, ROOT_BODY, [], author=PAOLO, committer=PAOLO)
    refs = {"base": commit(repo, root, ROOT_DATE)}
    git(repo, "tag", "base")
    for tag, change in upstream():
        refs[tag] = commit(repo, change, change.date)
        git(repo, "tag", tag)
    for label in VERSIONS:
        sending = SENDINGS[label]
        when = git_date(sending.commit_date)
        if label == "7.1":
            # The reroll replaces v7 4/8: it sits on v7's first three patches.
            git(repo, "checkout", "-q", "-B", "v7.1", f"{refs['v7']}~5")
            changes = [x86_migrate(7, point=True)]
        else:
            git(repo, "checkout", "-q", "-B", f"v{label}", refs[VERSION_BASE[label]])
            changes = version_commits(label)
        for change in changes:
            commit(repo, change, fmt_git_date(when))
            when += COMMIT_SPACING
        refs[f"v{label}"] = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "master")
    git(repo, "reset", "-q", "--hard", refs[VERSION_BASE["8"]])
    return refs


# ----------------------------------------------------------------------------- mail


@dataclass
class Message:
    """One message as text: its mbox From_ line, ordered headers and body."""

    from_line: str
    headers: list[tuple[str, str]]
    body: str
    key: str = ""  # "v8/5", "v8/0", or a reply key
    plain: str = ""  # the body before any transfer encoding, for quoting

    def header(self, name: str) -> str:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return ""

    def render(self) -> str:
        lines = [self.from_line]
        lines += [f"{name}: {value}" for name, value in self.headers]
        body = self.body if self.body.endswith("\n") else self.body + "\n"
        # mboxo: a blank line ends every message before the next From_ line.
        if not body.endswith("\n\n"):
            body += "\n"
        return "\n".join(lines) + "\n\n" + body


def split_format_patch(text: str) -> list[tuple[str, list[tuple[str, str]], str]]:
    """Split `format-patch --stdout` output into (sha, headers, body) per message."""
    starts = list(FORMAT_PATCH_FROM_RE.finditer(text))
    out = []
    for i, match in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        chunk = text[match.end() : end]
        head, _, body = chunk.partition("\n\n")
        headers: list[tuple[str, str]] = []
        for line in head.split("\n"):
            if line[:1] in (" ", "\t") and headers:
                name, value = headers[-1]
                headers[-1] = (name, value + " " + line.strip())
            else:
                name, _, value = line.partition(": ")
                headers.append((name, value))
        out.append((match.group(1), headers, body))
    return out


def fold_addresses(addresses: list[str]) -> str:
    """An address list as git-send-email folds it: one per line, tab-indented."""
    return ",\n\t".join(addresses)


def msgid(stamp: str, pid: int, count: int) -> str:
    """A git-send-email Message-ID: <UTC stamp>.<pid>-<n>-<user>@<domain>."""
    return f"<{stamp}.{pid}-{count}-{MSGID_DOMAIN}>"


def rfc2822(when: datetime) -> str:
    return when.strftime("%a, ") + str(when.day) + when.strftime(" %b %Y %H:%M:%S %z")


def asctime(when: datetime) -> str:
    utc = when.astimezone(UTC)
    return f"{utc:%a %b} {utc.day:2d} {utc:%H:%M:%S %Y}"


def send_headers(
    subject: str,
    date: datetime,
    message_id: str,
    git_version: str,
    to: list[str],
    cc: list[str],
    parents: list[str],
    encoding: str = "8bit",
) -> list[tuple[str, str]]:
    """Headers in the order git-send-email writes them."""
    headers = [
        ("From", SENDER),
        ("X-Google-Original-From", ORIGINAL_FROM),
        ("To", fold_addresses(to)),
        ("Cc", fold_addresses(cc)),
        ("Subject", subject),
        ("Date", rfc2822(date)),
        ("Message-ID", message_id),
        ("X-Mailer", f"git-send-email {git_version}"),
    ]
    if parents:
        headers.append(("In-Reply-To", parents[-1]))
        headers.append(("References", " ".join(parents)))
    headers.append(("MIME-Version", "1.0"))
    if encoding == "quoted-printable":
        headers.append(("Content-Type", "text/plain; charset=UTF-8"))
    headers.append(("Content-Transfer-Encoding", encoding))
    return headers


def subject_of(headers: list[tuple[str, str]]) -> str:
    for name, value in headers:
        if name == "Subject":
            return value
    raise BuildError("format-patch message without a Subject")


def author_of(headers: list[tuple[str, str]]) -> str:
    for name, value in headers:
        if name == "From":
            return value
    raise BuildError("format-patch message without a From")


def export_version(repo: Path, refs: dict[str, str], label: str) -> list[Message]:
    """format-patch one version and dress it as sent; returns cover (if any) and patches."""
    sending = SENDINGS[label]
    ident_env = {"GIT_COMMITTER_NAME": DAVID[0], "GIT_COMMITTER_EMAIL": DAVID[1]}
    tip = refs[f"v{label}"]
    if label == "7.1":
        args = ["format-patch", "--stdout", f"--signature={sending.git_version}"]
        args += [f"--base={tip}~1", "-1", tip]
    else:
        base = refs[VERSION_BASE[label]]
        args = ["format-patch", "--stdout", "--cover-letter", "--thread=shallow"]
        args += [f"--base={base}", f"--signature={sending.git_version}"]
        if label != "1":
            args += ["-v", label]
        args.append(f"{base}..{tip}")
    raw = split_format_patch(git(repo, *args, env=ident_env))
    start = parsedate_to_datetime(sending.date)
    cover_id = msgid(sending.utc_stamp, sending.pid, 1)
    messages = []
    for position, (sha, headers, body) in enumerate(raw):
        subject = subject_of(headers)
        if label == "7.1":
            # format-patch numbers a single patch as [PATCH v7.1]; the reroll keeps 4/8.
            _, index, total = POINT_REVISION
            subject = SUBJECT_PREFIX_RE.sub(f"[PATCH v7.1 {index}/{total}] ", subject)
            key = f"v7.1/{index}"
            message_id = msgid(sending.utc_stamp, sending.pid, 1)
            parents = [_v7_patch_id(4)]
            date = start
        else:
            index = position
            key = f"v{label}/{index}"
            message_id = msgid(sending.utc_stamp, sending.pid, position + 1)
            parents = [] if position == 0 else [cover_id]
            date = start + SEND_SPACING * position
            if position == 0:
                subject = subject.replace("*** SUBJECT HERE ***", TITLE)
                body = body.replace("*** BLURB HERE ***\n", cover_blurb(label))
        if (label, index) == UNTHREADED:
            stamp_date, stamp, pid = UNTHREADED_SENDING
            date = parsedate_to_datetime(stamp_date)
            message_id = msgid(stamp, pid, 1)
            parents = []
        plain = f"From: {author_of(headers)}\n\n{body}"
        encoding = "8bit"
        text = plain
        if (label, index) == QP_PATCH:
            encoding = "quoted-printable"
            text = quopri.encodestring(plain.encode(), quotetabs=False).decode("ascii")
        out_headers = send_headers(
            subject,
            date,
            message_id,
            sending.git_version,
            sending.to,
            sending.cc,
            parents,
            encoding,
        )
        from_line = f"From {sha} Mon Sep 17 00:00:00 2001"
        messages.append(Message(from_line, out_headers, text, key=key, plain=plain))
    return messages


def _v7_patch_id(index: int) -> str:
    sending = SENDINGS["7"]
    return msgid(sending.utc_stamp, sending.pid, index + 1)


# The list copy of the quoted-printable patch, as lore serves it from linux-kernel.
LIST_HEADERS_BEFORE = [
    ("Return-Path", "<linux-kernel-owner@vger.kernel.org>"),
    (
        "Received",
        "from out1.vger.email (out1.vger.email [2620:137:e000::1:20])\n"
        "\tby smtp.lore.kernel.org (Postfix) with ESMTP id 4F1C2EB64DA\n"
        "\tfor <linux-kernel@archiver.kernel.org>; Tue,  4 Jul 2023 08:52:03 +0000 (UTC)",
    ),
    (
        "Authentication-Results",
        "smtp.subspace.kernel.org;\n"
        '\tdkim=fail reason="signature verification failed" (1024-bit key)'
        ' header.d=chromium.org header.i=@chromium.org header.b="K3c9QmTs"',
    ),
]
LIST_HEADERS_AFTER = [
    ("Precedence", "bulk"),
    ("List-ID", "<linux-kernel.vger.kernel.org>"),
    ("X-Mailing-List", "linux-kernel@vger.kernel.org"),
    ("List-Subscribe", "<mailto:linux-kernel+subscribe@vger.kernel.org>"),
    ("List-Unsubscribe", "<mailto:linux-kernel+unsubscribe@vger.kernel.org>"),
]


def list_copy(message: Message) -> Message:
    """The same message as it came back through linux-kernel: list headers added."""
    archived = message.header("Message-ID").strip("<>")
    headers = LIST_HEADERS_BEFORE + message.headers + LIST_HEADERS_AFTER
    headers.append(("Archived-At", f"<https://lore.kernel.org/lkml/{archived}/>"))
    when = parsedate_to_datetime(message.header("Date"))
    from_line = f"From linux-kernel-owner@vger.kernel.org {asctime(when + timedelta(seconds=70))}"
    return Message(from_line, headers, message.body, key=message.key, plain=message.plain)


def quote(text: str, start: str, end: str) -> str:
    """Lines of `text` from the first containing `start` through the next containing `end`."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if start in line:
            for j in range(i, len(lines)):
                if end in lines[j]:
                    return "\n".join(("> " + x).rstrip() for x in lines[i : j + 1])
            break
    raise BuildError(f"quote {start!r}..{end!r} not found")


def build_reply(reply: Reply, parent: Message) -> Message:
    """A review reply, threaded under `parent`, quoting it where the body asks."""
    body = reply.body.replace("{sigdash}", "-- ")
    for name, (start, end) in reply.quotes.items():
        body = body.replace("{quote:" + name + "}", quote(parent.plain, start, end))
    subject = parent.header("Subject")
    if not subject.startswith("Re: "):
        subject = "Re: " + subject
    refs = parent.header("References").split()
    refs.append(parent.header("Message-ID"))
    date = parsedate_to_datetime(reply.date)
    me = ident(reply.author)
    to = [SENDER if parent.header("From") == SENDER else parent.header("From")]
    cc_source = parent.header("To").split(",") + parent.header("Cc").split(",")
    cc = [a.strip() for a in cc_source if a.strip() and a.strip() != me and a.strip() not in to]
    headers = [
        ("From", me),
        ("Date", rfc2822(date)),
        ("To", to[0]),
        ("Cc", fold_addresses(cc)),
        ("Subject", subject),
        ("Message-ID", reply.message_id),
        ("References", " ".join(refs)),
        ("In-Reply-To", parent.header("Message-ID")),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=us-ascii"),
        ("Content-Disposition", "inline"),
    ]
    from_line = f"From {reply.author[1]} {asctime(date)}"
    return Message(from_line, headers, body, key=reply.key, plain=body)


@dataclass
class Output:
    """Every mbox file of the example, by file name."""

    files: dict[str, list[Message]] = field(default_factory=dict)

    def write(self, out: Path) -> list[Path]:
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, messages in self.files.items():
            path = out / name
            path.write_text("".join(m.render() for m in messages))
            written.append(path)
        return written


def build_mail(repo: Path, refs: dict[str, str]) -> Output:
    """All mbox files: one per version, the reroll, the list copy and the replies."""
    output = Output()
    by_key: dict[str, Message] = {}
    for label in VERSIONS:
        messages = export_version(repo, refs, label)
        for message in messages:
            by_key[message.key] = message
        output.files[f"v{label}.mbox"] = messages
    qp_label, qp_index = QP_PATCH
    output.files["lkml.mbox"] = [list_copy(by_key[f"v{qp_label}/{qp_index}"])]
    replies = []
    for reply in REPLIES:
        message = build_reply(reply, by_key[reply.parent])
        by_key[reply.key] = message
        replies.append(message)
    output.files["replies.mbox"] = replies
    return output


def digest(paths: list[Path]) -> str:
    """One hash over the files, to compare builds at a glance."""
    sha = hashlib.sha256()
    for path in sorted(paths):
        sha.update(path.name.encode() + b"\0" + path.read_bytes())
    return sha.hexdigest()[:16]


def _built_refs(repo: Path) -> dict[str, str] | None:
    """The refs of a repository this script built earlier, or None for anything else."""
    if not (repo / ".git").is_dir():
        return None
    try:
        listing = git(
            repo,
            "for-each-ref",
            "--format=%(refname:short) %(objectname)",
            "refs/heads",
            "refs/tags",
        )
    except BuildError:
        return None
    refs = dict(line.split(" ", 1) for line in listing.splitlines() if " " in line)
    wanted = {"base", *(f"v{label}" for label in VERSIONS)}
    if not wanted <= set(refs):
        return None
    return {name: sha for name, sha in refs.items() if name != "master"}


def build(out: Path, repo_out: Path | None = None) -> list[Path]:
    """Build the repository (in a temporary directory unless `repo_out`) and the mbox files."""
    with tempfile.TemporaryDirectory(prefix="kvm-follow-pfn-") as tmp:
        repo = repo_out if repo_out is not None else Path(tmp) / "linux"
        refs = build_repo(repo)
        return build_mail(repo, refs).write(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the mbox files go")
    parser.add_argument("--repo-out", type=Path, help="keep the git repository here")
    args = parser.parse_args(argv)
    try:
        paths = build(args.out, args.repo_out)
    except (BuildError, OSError) as err:
        print(f"build.py: {err}", file=sys.stderr)
        return 2
    print(f"wrote {len(paths)} mbox files to {args.out} (digest {digest(paths)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
