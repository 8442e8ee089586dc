"""Builders shared by the range-diff tests and benchmark: real git series, real format-patch mail.

A series is a list of PatchSpec (title, message, edits); an edit finds a unique anchor line
in a file and inserts after it, replaces it or deletes it, so the same patch applies to a
base that moved elsewhere. `GitSeries` commits two versions of a series on two bases in a
temporary repository, writes them as mail with `git format-patch`, and asks
`git range-diff` how it pairs them.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from reviewtool.ingest import load
from reviewtool.series.model import Revision
from tests.helpers.git import fill_cover, format_patch, git, git_env

# The series' own author, with fixed dates: commits (and so the mail) are reproducible.
GIT_ENV = git_env(("Dana Kernel", "dana@example.org"), "2023-08-24T10:00:00+00:00")
_RANGE_DIFF_LINE = re.compile(r"^\s*(-|\d+):\s+(?:-+|[0-9a-f]+)\s+([=!<>])\s+(-|\d+):")


@dataclass(frozen=True)
class Edit:
    """Insert after (`after`), replace (`replace`) or delete (`delete`) one anchor line."""

    file: str
    anchor: str
    op: str
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class PatchSpec:
    title: str
    message: str
    edits: tuple[Edit, ...]


def kernel_tree(files: int = 3, functions: int = 12, seed: int = 0) -> dict[str, list[str]]:
    """C files of small functions whose lines are all distinct (so every line is an anchor)."""
    rng = random.Random(seed)
    tree: dict[str, list[str]] = {}
    for f in range(files):
        path = f"virt/kvm/part{f}.c"
        lines = ["// SPDX-License-Identifier: GPL-2.0-only", f'#include "part{f}.h"', ""]
        for k in range(functions):
            name = f"kvm_part{f}_fn{k}"
            lines.append(f"static int {name}(struct kvm *kvm, gfn_t gfn)")
            lines.append("{")
            lines.append(f"\tunsigned long v{f}_{k} = gfn + {rng.randrange(1000)};")
            for s in range(rng.randint(3, 6)):
                lines.append(f"\tv{f}_{k} = kvm_step_{s}(kvm, v{f}_{k}, {rng.randrange(100)});")
            lines.append(f"\treturn kvm_finish(kvm, v{f}_{k});")
            lines.append("}")
            lines.append("")
        tree[path] = lines
    return tree


def apply_edits(tree: dict[str, list[str]], edits: tuple[Edit, ...]) -> None:
    """Apply edits in place; an anchor must occur exactly once."""
    for edit in edits:
        lines = tree[edit.file]
        where = [k for k, line in enumerate(lines) if line == edit.anchor]
        if len(where) != 1:
            raise ValueError(f"anchor {edit.anchor!r} found {len(where)} times in {edit.file}")
        k = where[0]
        if edit.op == "after":
            lines[k + 1 : k + 1] = list(edit.lines)
        elif edit.op == "replace":
            lines[k : k + 1] = list(edit.lines)
        elif edit.op == "delete":
            del lines[k]
        else:
            raise ValueError(edit.op)


def _git(repo: Path, *args: str, stdin: str | None = None) -> str:
    return git(repo, *args, env=GIT_ENV, stdin=stdin)


@dataclass
class GitSeries:
    """A temporary repository holding a base and versions of one series."""

    repo: Path
    branches: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (base, tip)

    @classmethod
    def create(cls, repo: Path) -> GitSeries:
        repo.mkdir(parents=True, exist_ok=True)
        _git(repo, "init", "-q", "-b", "main")
        _git(repo, "config", "diff.renames", "true")
        return cls(repo)

    def write_tree(self, tree: dict[str, list[str]]) -> None:
        for path, lines in tree.items():
            target = self.repo / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("\n".join(lines) + "\n")
        _git(self.repo, "add", "-A")

    def commit_base(self, tree: dict[str, list[str]], message: str) -> str:
        """Commit a whole tree (detached) and return its commit id."""
        self.write_tree(tree)
        _git(self.repo, "commit", "-q", "--allow-empty", "-m", message)
        return _git(self.repo, "rev-parse", "HEAD").strip()

    def commit_series(
        self, name: str, base: str, base_tree: dict[str, list[str]], patches: list[PatchSpec]
    ) -> None:
        """Commit patches on top of base as branch `name`."""
        _git(self.repo, "checkout", "-q", "--detach", base)
        tree = {path: list(lines) for path, lines in base_tree.items()}
        for patch in patches:
            apply_edits(tree, patch.edits)
            self.write_tree(tree)
            _git(self.repo, "commit", "-q", "-F", "-", stdin=f"{patch.title}\n\n{patch.message}\n")
        _git(self.repo, "branch", "-f", name, "HEAD")
        self.branches[name] = (base, _git(self.repo, "rev-parse", name).strip())

    def format_patch(self, name: str, version: int, out: Path, cover: str = "") -> Path:
        """Write branch `name` as [PATCH vN k/n] mail (with a cover letter) into out/."""
        base, tip = self.branches[name]
        files = format_patch(
            self.repo, base, out, version, tip=tip, subject_prefix=f"PATCH v{version}", env=GIT_ENV
        )
        if cover:
            fill_cover(files[0], "KVM: a series under test", cover)
        return out

    def range_diff(self, old: str, new: str, creation_factor: int = 60) -> list[tuple]:
        """git range-diff's pairing: (old index or None, new index or None) per output line."""
        old_base, old_tip = self.branches[old]
        new_base, new_tip = self.branches[new]
        text = _git(
            self.repo,
            "range-diff",
            "--no-color",
            f"--creation-factor={creation_factor}",
            f"{old_base}..{old_tip}",
            f"{new_base}..{new_tip}",
        )
        return parse_range_diff(text)


def parse_range_diff(text: str) -> list[tuple[int | None, int | None]]:
    """Pairs from `git range-diff` output lines such as `1:  abc = 1:  def`."""
    pairs = []
    for line in text.splitlines():
        match = _RANGE_DIFF_LINE.match(line)
        if match:
            a, b = match.group(1), match.group(3)
            pairs.append((None if a == "-" else int(a), None if b == "-" else int(b)))
    return pairs


def load_revision(directory: Path) -> Revision:
    """The one revision that format-patch wrote into directory, read back by reviewtool."""
    collection = load([str(directory)])
    revisions = [r for s in collection.series for r in s.revisions]
    assert len(revisions) == 1, [r.label for r in revisions]
    return revisions[0]


def random_series(rng: random.Random, tree: dict[str, list[str]], count: int) -> list[PatchSpec]:
    """`count` patches of 1-3 edits each; no two edits share an anchor."""
    anchors = [
        (path, line)
        for path, lines in tree.items()
        for line in lines
        if line.startswith("\tv") and lines.count(line) == 1
    ]
    rng.shuffle(anchors)
    patches = []
    serial = 0
    for k in range(count):
        edits = []
        for _ in range(rng.randint(1, 3)):
            if not anchors:
                break
            path, anchor = anchors.pop()
            serial += 1
            edits.append(random_edit(rng, path, anchor, serial))
        patches.append(
            PatchSpec(
                title=f"KVM: part: change number {k + 1}",
                message=f"Change {k + 1} does one thing.\n\nSigned-off-by: Dana <dana@example.org>",
                edits=tuple(edits),
            )
        )
    return patches


def random_edit(rng: random.Random, path: str, anchor: str, serial: int) -> Edit:
    """A plausible kernel-style edit at an anchor."""
    op = rng.choice(["after", "after", "replace", "delete"])
    body = tuple(
        f"\tkvm_track_{serial}_{k}(kvm, gfn, {rng.randrange(50)});"
        for k in range(rng.randint(1, 5))
    )
    if op == "replace":
        return Edit(path, anchor, "replace", (anchor.replace("kvm_step", "kvm_walk"),) + body)
    if op == "delete":
        return Edit(path, anchor, "delete")
    return Edit(path, anchor, "after", body)


def mutate(
    rng: random.Random, patches: list[PatchSpec], spare: list[tuple[str, str]], kinds: list[str]
) -> list[PatchSpec]:
    """A next version: each kind (reorder, drop, add, modify, reword, split, squash) once."""
    out = list(patches)
    serial = 1000 + rng.randrange(1000)
    for kind in kinds:
        if kind == "reorder" and len(out) >= 2:
            a, b = rng.sample(range(len(out)), 2)
            out[a], out[b] = out[b], out[a]
        elif kind == "drop" and len(out) >= 2:
            del out[rng.randrange(len(out))]
        elif kind == "add" and spare:
            path, anchor = spare.pop()
            serial += 1
            edit = random_edit(rng, path, anchor, serial)
            out.insert(
                rng.randint(0, len(out)),
                PatchSpec(f"KVM: part: new change {serial}", "A new change.", (edit,)),
            )
        elif kind == "modify" and out:
            k = rng.randrange(len(out))
            edits = list(out[k].edits)
            e = rng.randrange(len(edits))
            serial += 1
            edits[e] = replace(edits[e], lines=edits[e].lines + (f"\tkvm_fixup_{serial}(kvm);",))
            out[k] = replace(out[k], edits=tuple(edits))
        elif kind == "reword" and out:
            k = rng.randrange(len(out))
            out[k] = replace(out[k], message=out[k].message + "\n\nNow with more words.")
        elif kind == "split":
            candidates = [k for k, p in enumerate(out) if len(p.edits) >= 2]
            if candidates:
                k = rng.choice(candidates)
                first = replace(out[k], edits=out[k].edits[:1])
                second = replace(out[k], title=out[k].title + " (part two)", edits=out[k].edits[1:])
                out[k : k + 1] = [first, second]
        elif kind == "squash" and len(out) >= 2:
            k = rng.randrange(len(out) - 1)
            merged = replace(out[k], edits=out[k].edits + out[k + 1].edits)
            out[k : k + 2] = [merged]
    return out


def moved_base(rng: random.Random, tree: dict[str, list[str]], touched: set[str]) -> dict:
    """The base after upstream moved on: lines near (not at) the anchors changed, some added."""
    moved = {path: list(lines) for path, lines in tree.items()}
    for path, lines in moved.items():
        out = []
        for line in lines:
            if line.startswith("\tv") and line not in touched and rng.random() < 0.15:
                out.append(line.replace("kvm_step", "kvm_upstream_step"))
            else:
                out.append(line)
            if line.startswith("static int") and rng.random() < 0.3:
                out.append("/* upstream moved this */")
        moved[path] = out
    return moved
