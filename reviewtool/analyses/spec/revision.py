"""The checker over a revision of a series: per patch, the functions it changes, before/after.

With a repository the patches are applied on the base in a temporary worktree and whole files
are checked; without one, the function images the hunks show are checked (whole when the hunk
shows the whole function, partial findings otherwise).
"""

from __future__ import annotations

import fnmatch

from reviewtool.analyses.findings import Finding
from reviewtool.analyses.spec.check import check_source, compare_findings
from reviewtool.analyses.spec.model import Spec, SpecSet
from reviewtool.cparse import parse_c
from reviewtool.diff import FunctionImage, function_images
from reviewtool.errors import UsageError

C_SUFFIXES = (".c", ".h")

# Files compiled as part of another one: their callees live in the including file.
COMPANIONS = {
    "arch/x86/kvm/mmu/paging_tmpl.h": ["arch/x86/kvm/mmu/mmu.c"],
    "arch/x86/kvm/mmu/tdp_mmu.c": ["arch/x86/kvm/mmu/mmu.c"],
}


def _companions(path: str) -> list[str]:
    return [c for pattern, cs in COMPANIONS.items() if fnmatch.fnmatch(path, pattern) for c in cs]


def _changed_functions(images: list[FunctionImage], path: str) -> set[str]:
    return {i.function for i in images if i.path == path and i.function and i.changed}


def _tag(findings: list[Finding], label: str, index: int) -> list[Finding]:
    for finding in findings:
        finding.version = label
        finding.patch_index = index
    return findings


def _check_with_tree(revision, repo: str, base: str, spec) -> list[Finding]:
    from reviewtool.diff.tree import apply_series  # noqa: PLC0415 - needs git only with --repo

    patches = sorted(revision.patches, key=lambda p: p.index)
    extra = sorted({c for p in patches for f in p.files for c in _companions(f)})
    applied, final = apply_series(repo, base, [p.diff for p in patches], extra)
    out: list[Finding] = []
    for patch, state in zip(patches, applied, strict=False):
        images = function_images(patch.diff)
        for path, files in state.files.items():
            if not path.endswith(C_SUFFIXES):
                continue
            changed = _changed_functions(images, path)
            if not changed:
                continue
            before, after = [], []
            context_after = {
                c: (state.files[c].after if c in state.files else final.get(c)) or ""
                for c in _companions(path)
            }
            context_before = {
                c: (state.files[c].before if c in state.files else final.get(c)) or ""
                for c in _companions(path)
            }
            if files.before:
                before = check_source(
                    path, files.before, changed, spec, context=context_before
                ).findings
            if files.after:
                after = check_source(
                    path, files.after, changed, spec, context=context_after
                ).findings
            out += _tag(compare_findings(before, after), revision.label, patch.index)
    return out


def _hunk_function(text: str, start: int, function: str) -> str:
    """A hunk's part of a function, wrapped into a definition when the header is not in it.

    The padding line before the text carries the made-up header, so lines keep their numbers.
    """
    if any(f.name == function for f in parse_c(text).functions()):
        return text
    lines = text.split("\n")
    header = f"static int {function}(void) {{"
    if start >= 2:
        lines[start - 2] = header
    else:
        lines[0] = f"{header} {lines[0]}"
    return "\n".join(lines) + "\n}\n"


def _check_images(revision, spec) -> list[Finding]:
    out: list[Finding] = []
    for patch in sorted(revision.patches, key=lambda p: p.index):
        images = [i for i in function_images(patch.diff) if i.path.endswith(C_SUFFIXES)]
        for image in images:
            if not image.function or not image.changed:
                continue
            sides = []
            for text, start, complete, others in (
                (image.old_padded(), image.old_start, image.old_complete, "old"),
                (image.new_padded(), image.new_start, image.new_complete, "new"),
            ):
                complete = complete or image.complete
                context = {
                    f"{other.path} ({other.function})": getattr(other, others + "_padded")()
                    for other in images
                    if other is not image and other.function and getattr(other, others + "_text")
                }
                if not text.strip():
                    sides.append([])
                    continue
                if not complete:
                    text = _hunk_function(text, start, image.function)
                result = check_source(
                    image.path,
                    text,
                    {image.function},
                    spec,
                    partial=not complete,
                    context=context,
                )
                sides.append(result.findings)
            out += _tag(compare_findings(sides[0], sides[1]), revision.label, patch.index)
    return out


def check_revision(
    revision,
    repo: str | None = None,
    base: str | None = None,
    spec: Spec | SpecSet | None = None,
) -> list[Finding]:
    """Findings in the functions each patch of `revision` changes, marked introduced/fixed/
    persisting against the same functions before that patch."""
    if repo:
        base = base or revision.base_commit
        if not base:
            raise UsageError(
                f"{revision.label}: no base commit in the mail; pass --base REV to use --repo"
            )
        return _check_with_tree(revision, repo, base, spec)
    return _check_images(revision, spec)


def check_series(
    revisions: list,
    repo: str | None = None,
    base: str | None = None,
    spec: Spec | SpecSet | None = None,
) -> dict[str, list[Finding]]:
    """check_revision() for each revision of a series, keyed by revision label."""
    return {r.label: check_revision(r, repo, base, spec) for r in revisions}
