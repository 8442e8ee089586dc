"""Struct fields a page reference may be parked in: those some function releases from.

A page stored into memory the walker does not own (`pte->pfn = pfn`, a map kept in
`vmx->nested`) is handed on: someone else releases it later. That someone is code too: a
release whose argument reads the same field (`kvm_release_pfn_clean(pte->pfn)`,
`kvm_vcpu_unmap(vcpu, &vmx->nested.apic_access_page_map, ...)`, or a local copied from it).
A field no function of the files at hand releases from keeps nothing alive: a page parked
there and not released is leaked. A field is named by its struct type where the declaration
of the variable it is reached through says it (`struct hpte_cache *pte`: `hpte_cache.pfn`
is not `kvm_page_fault.pfn`), else by its name alone (which matches any type: the careful
answer).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from reviewtool.analyses.spec.model import Spec, call_arguments

# `a->b.c`, `a.b`: a variable and the fields reached through it.
_CHAIN_RE = re.compile(r"([A-Za-z_]\w*)((?:\s*(?:->|\.)\s*[A-Za-z_]\w*)+)")
_STEP_RE = re.compile(r"(?:->|\.)\s*([A-Za-z_]\w*)")
# `struct hpte_cache *pte`, `struct kvm_host_map map`, `struct x *a, *b` (first name only).
_DECL_RE = re.compile(r"\bstruct\s+([A-Za-z_]\w*)\s*\**\s*([A-Za-z_]\w*)\s*(?=[;,=)\[])")
_WORD_RE = re.compile(r"[A-Za-z_]\w*")

# (struct type or "" when unknown, fields from the variable on: ("nested", "msr_bitmap_map"))
FieldKey = tuple[str, tuple[str, ...]]


# What one function's text says, remembered by that text: the pre-push hook checks one
# version of a file after another, and all but a few of their functions are the same text.
@lru_cache(maxsize=8192)
def _call_args(body: str, callee: str) -> tuple[tuple[tuple[str, ...], bool], ...]:
    return tuple((tuple(args), closed) for args, closed in call_arguments(body, callee))


@lru_cache(maxsize=8192)
def _words(text: str) -> frozenset[str]:
    return frozenset(_WORD_RE.findall(text))


def declared_types(text: str) -> dict[str, str]:
    """Variable -> struct type, from the declarations in a function's text (a name declared
    with two struct types maps to "": unknown)."""
    found: dict[str, str] = {}
    for match in _DECL_RE.finditer(text):
        kind, name = match.group(1), match.group(2)
        found[name] = kind if found.get(name, kind) == kind else ""
    return found


def chains(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """Every `var->field.field` in an expression's text: (var, fields)."""
    return [
        (m.group(1), tuple(_STEP_RE.findall(m.group(2))))
        for m in _CHAIN_RE.finditer(text)
        if not m.group(1)[0].isdigit()
    ]


def key_of(variable: str, fields_: tuple[str, ...], types: dict[str, str]) -> FieldKey:
    """The key of a field reached through a variable of a function with these types."""
    return (types.get(variable, ""), fields_)


@dataclass
class ReleasedFields:
    """The fields the functions of some texts release a page from."""

    keys: set[FieldKey] = field(default_factory=set)

    def digest(self) -> str:
        """A stable text naming the keys (for cache keys)."""
        return "\0".join(sorted(f"{kind}:{'.'.join(path)}" for kind, path in self.keys))

    def add_texts(self, texts: Iterable[str], spec: Spec) -> None:
        """Add the fields the functions of whole C texts release from (a line scan finds
        the functions; a layout it cannot read is parsed)."""
        for text in texts:
            self.add_functions(*_functions_of(text), spec)

    def add_functions(
        self, bodies: dict[str, str], params: dict[str, list[str]], spec: Spec
    ) -> None:
        """Add the fields each function releases from: a release row's argument (or the
        argument of a function of the same text that hands that parameter to a release)
        reads the field, or a local copied from it (`hpa = scb->itdba; unpin(..., hpa)`)."""
        releasing: dict[str, set[int]] = {row.name: {row.arg} for row in spec.rows_with("release")}
        # Functions of the text that hand a parameter to a release, a few levels deep. What
        # one function adds depends only on its text and on `releasing` as it stands: both
        # are the key of what is remembered (_handed, _released_keys).
        for _ in range(3):
            grown = False
            current = _releasing_key(releasing)
            for fname, body in bodies.items():
                handed = _handed(fname, body, tuple(params.get(fname, ())), current)
                if handed - releasing.get(fname, set()):
                    releasing.setdefault(fname, set()).update(handed)
                    grown = True
                    current = _releasing_key(releasing)
            if not grown:
                break
        current = _releasing_key(releasing)
        for body in bodies.values():
            self.keys |= _released_keys(body, current)

    def released(self, key: FieldKey) -> bool:
        """True when some function releases from this field (or may: a type unknown on
        either side matches by field name)."""
        kind, fields_ = key
        if not fields_:
            return True
        for other_kind, other in self.keys:
            if other[-1] != fields_[-1]:
                continue
            if len(other) == 1 and len(fields_) == 1 and kind and other_kind and kind != other_kind:
                continue  # `hpte_cache.pfn` is not `kvm_page_fault.pfn`
            return True
        return False


# `releasing` as a key: each callee with the argument positions it releases.
ReleasingKey = tuple[tuple[str, frozenset[int]], ...]


def _releasing_key(releasing: dict[str, set[int]]) -> ReleasingKey:
    return tuple((callee, frozenset(indexes)) for callee, indexes in releasing.items())


@lru_cache(maxsize=8192)
def _handed(
    fname: str, body: str, params: tuple[str, ...], releasing: ReleasingKey
) -> frozenset[int]:
    """The parameters (by position) function `fname` hands to a release it calls."""
    handed = set()
    for callee, indexes in releasing:
        if callee == fname or callee not in body:
            continue
        for args, _ in _call_args(body, callee):
            for index in indexes:
                if index >= len(args):
                    continue
                words = _words(args[index])
                handed.update(position for position, pname in enumerate(params) if pname in words)
    return frozenset(handed)


@lru_cache(maxsize=8192)
def _released_keys(body: str, releasing: ReleasingKey) -> frozenset[FieldKey]:
    """The fields the releases a function's text calls read."""
    keys: set[FieldKey] = set()
    for callee, indexes in releasing:
        if callee not in body:
            continue
        for args, _ in _call_args(body, callee):
            for index in indexes:
                if index < len(args):
                    keys |= _argument_keys(args[index], body)
    return frozenset(keys)


@lru_cache(maxsize=8192)
def _argument_keys(arg: str, body: str) -> frozenset[FieldKey]:
    """The fields a release's argument `arg` in the function `body` reads."""
    types = declared_types(body)
    keys = {key_of(variable, fields_, types) for variable, fields_ in chains(arg)}
    for word in set(_WORD_RE.findall(arg)) - {v for v, _ in chains(arg)}:
        # A local released by name: the fields it was copied from (`x = a->f`,
        # `struct kvm_host_map *map = &vmx->nested.map`).
        for match in re.finditer(rf"(?<![\w>.]){re.escape(word)}\s*=(?!=)([^;]*);", body):
            for variable, fields_ in chains(match.group(1)):
                keys.add(key_of(variable, fields_, types))
    return frozenset(keys)


def target_of(local: str, body: str) -> tuple[str, tuple[str, ...]] | None:
    """The field a local pointer was set to point at (`map = &vmx->nested.msr_bitmap_map`:
    ("vmx", ("nested", "msr_bitmap_map"))), when the function's text sets it to that one
    field and nothing else."""
    found: set[tuple[str, tuple[str, ...]]] = set()
    for match in re.finditer(rf"(?<![\w>.]){re.escape(local)}\s*=(?!=)\s*([^;]*);", body):
        value = match.group(1).strip()
        inner = chains(value)
        if not value.startswith("&") or len(inner) != 1:
            return None
        found.add(inner[0])
    return found.pop() if len(found) == 1 else None


_PARAMS_RE = re.compile(r"\(([^()]*(?:\([^()]*\)[^()]*)*)\)\s*$")


def _functions_of(text: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Name -> text and name -> parameter names of every function definition of `text`."""
    from reviewtool.analyses.spec.selection import function_spans

    spans = function_spans(text)  # the scan the selection of the same text made, if it did
    bodies: dict[str, str] = {}
    params: dict[str, list[str]] = {}
    if spans is None:
        from reviewtool.analyses.spec.state import param_list
        from reviewtool.cparse import parse_c

        parsed = parse_c(text)
        for fdef in parsed.functions():
            if fdef.kind == "function":
                bodies[fdef.name] = parsed.node_text(fdef.node)
                params[fdef.name] = [name for name, _ in param_list(fdef.node)]
        return bodies, params
    # Joining each function's lines costs less than locating every line start of the text
    # in Python (a loop over all lines of a 5,000-line file, for every version the hook reads).
    lines = text.split("\n")
    for span in spans:
        body = "\n".join(lines[span.start - 1 : span.end])
        bodies[span.name] = body
        brace = body.find("\n{")  # the header: the text before it (no copy of the rest)
        params[span.name] = list(_header_params(body if brace < 0 else body[:brace]))
    return bodies, params


@lru_cache(maxsize=8192)
def _header_params(header: str) -> tuple[str, ...]:
    found = _PARAMS_RE.search(header)
    names = []
    for part in found.group(1).split(",") if found else ():
        words = _WORD_RE.findall(part.split("[")[0])
        if words:
            names.append(words[-1])
    return tuple(names)


def released_in(texts: Iterable[str], spec: Spec) -> ReleasedFields:
    """The fields the functions of these whole texts release a page from."""
    found = ReleasedFields()
    found.add_texts(texts, spec)
    return found
