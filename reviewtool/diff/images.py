"""Pre- and post-images of functions as a patch's hunks show them, with real line numbers.

Without a tree, a hunk is all there is: its `@@` line names the function it starts in, and
kernel style (a definition starts at column 0 and ends with `}` at column 0) tells where the
next function starts. Each image keeps the line numbers of the real file through its start
offset, so `image.old_padded()` parses with the real lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from reviewtool.diff.model import DiffLine, Hunk, PatchDiff, parse_patch_diff

# Words in front of a name that never are the name: attributes, storage, qualifiers.
_HEADER_NOISE_RE = re.compile(
    r"\b__attribute__\s*\(\(.*?\)\)|\b__(?:printf|aligned|section|acquires|releases|must_hold)"
    r"\s*\([^)]*\)"
)
_NAME_RE = re.compile(r"\b(?:([A-Z][A-Z0-9_]*)\(\s*([A-Za-z_]\w*)\s*\)|([A-Za-z_]\w*))\s*\(")
_NOT_NAMES = frozenset(
    {"if", "for", "while", "switch", "return", "sizeof", "typeof", "__typeof__", "defined"}
)
_HEADER_START_RE = re.compile(r"^[A-Za-z_]")
# A col-0 line that looks like a definition but is a label, a case or a keyword statement.
_NOT_HEADER_RE = re.compile(r"^(?:\w+:\s*$|case\b|default\b|else\b|do\b|return\b|goto\b)")
# How far past a header line to look for the `{` or `;` that says what it was.
HEADER_LOOKAHEAD_LINES = 12
# Patches whose images stay cut (a revision's patches, asked for by several analyses).
IMAGE_CACHE_SIZE = 64


def close_comments(text: str) -> str:
    """A fragment made safe to parse: a comment it starts inside is blanked, one it ends
    inside is closed. Lines keep their numbers; only comment text changes."""
    close = text.find("*/")
    opening = text.find("/*")
    if close >= 0 and (opening < 0 or close < opening):
        head = re.sub(r"[^\n]", " ", text[: close + 2])
        text = head + text[close + 2 :]
    last_open, last_close = text.rfind("/*"), text.rfind("*/")
    if last_open > last_close:
        body = text.rstrip("\n")
        text = body + " */" + text[len(body) :]
    return text


def function_name_from_header(text: str) -> str | None:
    """The function a definition header (or a `@@` section) names: `FNAME(fetch)`, `f`, None.

    None when the line is not a function header: no `(`, a prototype ending with `;`,
    a struct or a macro definition.
    """
    line = text.strip()
    if not line or line.startswith(("#", "/", "*", "}")) or line.endswith(";"):
        return None
    if "(" not in line:
        return None
    line = _HEADER_NOISE_RE.sub(" ", line)
    for match in _NAME_RE.finditer(line):
        if match.group(1):
            return f"{match.group(1)}({match.group(2)})"
        name = match.group(3)
        if name not in _NOT_NAMES and not name.startswith("__attribute"):
            return name
    return None


@dataclass
class FunctionImage:
    """What one hunk shows of one function before and after the patch."""

    path: str
    function: str | None  # None for lines at file scope
    old_text: str
    new_text: str
    old_start: int  # real line number of the first line of old_text
    new_start: int
    complete: bool  # the whole function is visible on every side where it exists
    old_complete: bool = False
    new_complete: bool = False
    removed_lines: list[int] = field(default_factory=list)  # old line numbers
    added_lines: list[int] = field(default_factory=list)  # new line numbers
    hunk_index: int = 0
    old_path: str | None = None
    section: str = ""  # the hunk's `@@` section text, as git wrote it

    @property
    def old_end(self) -> int:
        return self.old_start + max(0, self.old_text.count("\n") - 1)

    @property
    def new_end(self) -> int:
        return self.new_start + max(0, self.new_text.count("\n") - 1)

    def old_padded(self) -> str:
        """old_text behind blank lines, so that a parse of it reports the real line numbers.

        A comment cut by the hunk's edges is closed (see close_comments).
        """
        if not self.old_text:
            return ""
        return "\n" * (self.old_start - 1) + close_comments(self.old_text)

    def new_padded(self) -> str:
        """new_text behind blank lines, so that a parse of it reports the real line numbers.

        A comment cut by the hunk's edges is closed (see close_comments).
        """
        if not self.new_text:
            return ""
        return "\n" * (self.new_start - 1) + close_comments(self.new_text)

    @property
    def changed(self) -> bool:
        return bool(self.removed_lines or self.added_lines)


@dataclass
class _Segment:
    function: str | None
    lines: list[DiffLine] = field(default_factory=list)
    header: bool = False
    closed: bool = False

    @property
    def whole(self) -> bool:
        return self.function is not None and self.header and self.closed

    @property
    def exists(self) -> bool:
        return any(line.text.strip() for line in self.lines)


def _is_header(lines: list[DiffLine], index: int) -> str | None:
    """The function name when lines[index] starts a definition.

    A column-0 line with a name and `(` is a definition when a `{` follows before a `;`;
    a prototype spread over several lines ends with `;` instead.
    """
    line = lines[index]
    if not _HEADER_START_RE.match(line.text) or _NOT_HEADER_RE.match(line.text):
        return None
    name = function_name_from_header(line.text.split("//")[0].split("/*")[0])
    if name is None:
        return None
    depth = 0
    for seen, follow in enumerate(lines[index:]):
        if seen > HEADER_LOOKAHEAD_LINES:
            return None
        body = follow.text.split("//")[0].rstrip()
        if seen:
            if body.startswith("{"):
                return name if depth <= 0 else None
            if depth <= 0 and _HEADER_START_RE.match(body):
                return None
        depth += body.count("(") - body.count(")")
        if depth <= 0 and body.endswith(";"):
            return None
        if depth <= 0 and body.endswith("{"):
            return name
    return name  # the hunk ends inside the header: take it for a definition


def _segments(lines: list[DiffLine], section_function: str | None, is_c: bool) -> list[_Segment]:
    """Split one side of a hunk into functions and file-scope stretches."""
    current = _Segment(section_function if is_c else None)
    segments = [current]
    for index, line in enumerate(lines):
        name = _is_header(lines, index) if is_c else None
        if name is not None:
            if not (name == current.function and current.lines and not current.closed):
                current = _Segment(name)
                segments.append(current)
            current.header = True
        elif current.closed and line.text.strip():
            # Past the closing brace: file scope until the next definition.
            current = _Segment(None)
            segments.append(current)
        current.lines.append(line)
        if is_c and current.function is not None and line.text.startswith("}"):
            current.closed = True
    first = segments[0]
    if first.function is not None and not first.header and _at_file_scope(first.lines):
        first.function = None  # the @@ line named a prototype spread over several lines
    return [segment for segment in segments if segment.lines]


def _at_file_scope(lines: list[DiffLine]) -> bool:
    """True when lines before any closing brace include a column-0 declaration: the hunk
    starts outside a function although its `@@` line names one."""
    for line in lines:
        text = line.text
        if text.startswith("}"):
            return False
        if (
            _HEADER_START_RE.match(text)
            and not _NOT_HEADER_RE.match(text)
            and not text.rstrip().endswith(":")
        ):
            return True
    return False


def _pair(
    old: list[_Segment], new: list[_Segment]
) -> list[tuple[_Segment | None, _Segment | None]]:
    """Match old and new segments by function name (file scope by order), in hunk order."""
    pairs: list[tuple[_Segment | None, _Segment | None]] = []
    unmatched_new = list(new)
    for segment in old:
        partner = next((n for n in unmatched_new if n.function == segment.function), None)
        if partner is not None:
            # New segments before the partner have no old counterpart: they come first.
            for earlier in unmatched_new[: unmatched_new.index(partner)]:
                if earlier.function is not None and earlier.function not in {
                    o.function for o in old
                }:
                    pairs.append((None, earlier))
                    unmatched_new.remove(earlier)
            unmatched_new.remove(partner)
        pairs.append((segment, partner))
    pairs.extend((None, segment) for segment in unmatched_new)
    return pairs


def _hunk_images(
    path: str, old_path: str | None, hunk: Hunk, index: int, is_c: bool
) -> list[FunctionImage]:
    section = function_name_from_header(hunk.section) if is_c else None
    old_side = _segments([x for x in hunk.lines if x.kind in (" ", "-")], section, is_c)
    new_side = _segments([x for x in hunk.lines if x.kind in (" ", "+")], section, is_c)
    images = []
    old_cursor, new_cursor = hunk.old_start, hunk.new_start
    for old, new in _pair(old_side, new_side):
        old_lines = old.lines if old else []
        new_lines = new.lines if new else []
        function = (old or new).function  # type: ignore[union-attr]
        if old_lines:
            old_cursor = (old_lines[-1].old_line or old_cursor) + 1
        if new_lines:
            new_cursor = (new_lines[-1].new_line or new_cursor) + 1
        old_exists = bool(old and old.exists)
        new_exists = bool(new and new.exists)
        complete = (
            function is not None
            and (old_exists or new_exists)
            and (not old_exists or old.whole)  # type: ignore[union-attr]
            and (not new_exists or new.whole)  # type: ignore[union-attr]
        )
        images.append(
            FunctionImage(
                path=path,
                function=function,
                old_text="".join(line.text + "\n" for line in old_lines),
                new_text="".join(line.text + "\n" for line in new_lines),
                old_start=old_lines[0].old_line if old_lines else old_cursor,
                new_start=new_lines[0].new_line if new_lines else new_cursor,
                complete=complete,
                old_complete=bool(old and old.whole),
                new_complete=bool(new and new.whole),
                removed_lines=[line.old_line for line in old_lines if line.kind == "-"],
                added_lines=[line.new_line for line in new_lines if line.kind == "+"],
                hunk_index=index,
                old_path=old_path,
                section=hunk.section,
            )
        )
    return images


def function_images(diff: str | PatchDiff) -> list[FunctionImage]:
    """Per hunk and per function it touches, the old and new text the hunk shows.

    A hunk that does not hold together is left out (`diff_problems` says which), so that one
    damaged hunk never hides the rest of a patch from the analyses."""
    if isinstance(diff, str):
        # The checker, the hunk reasoner and the migration map each ask for the same patch's
        # images: cut them once, hand each caller its own copies.
        return [
            replace(
                image,
                removed_lines=list(image.removed_lines),
                added_lines=list(image.added_lines),
            )
            for image in _images_of_text(diff)
        ]
    return _images(diff)


@lru_cache(maxsize=IMAGE_CACHE_SIZE)
def _images_of_text(diff: str) -> tuple[FunctionImage, ...]:
    return tuple(_images(parse_patch_diff(diff, lenient=True)))


def _images(patch: PatchDiff) -> list[FunctionImage]:
    images: list[FunctionImage] = []
    for file_diff in patch.files:
        for index, hunk in enumerate(file_diff.hunks):
            images.extend(
                _hunk_images(file_diff.path, file_diff.old_path, hunk, index, file_diff.is_c)
            )
    return images


def diff_problems(diff: str) -> list[str]:
    """What of a diff the readers leave out: one "path: why" per damaged hunk."""
    return parse_patch_diff(diff, lenient=True).problems
