"""Locations a path writes and reads: `fault->pfn` is `(frame depth, "fault.pfn")`, and a
pointer parameter stands for the caller's location it was given (an alias).
"""

from __future__ import annotations

from tree_sitter import Node

from reviewtool.analyses.spec import values as V
from reviewtool.analyses.spec.state import IDENT_RE, MAX_INLINE_DEPTH, Frame, State


def resolve(st: State, frame: int, path: str) -> tuple[int, str]:
    """Follow pointer-parameter aliases to the caller's location a path stands for."""
    path = path.lstrip("*")
    root, _, rest = path.partition(".")
    for _ in range(MAX_INLINE_DEPTH + 2):
        value = st.env.get((frame, root))
        if not isinstance(value, V.Alias):
            break
        frame, target = value.frame, value.path
        path = f"{target}.{rest}" if rest else target
        root, _, rest = path.partition(".")
    return frame, path


def values_under(st: State, frame: int, arg: Node) -> list[V.Value]:
    """The values kept at an argument's location or in its fields (what a callee handed
    `&x` or `p` can reach); none for an argument that is not an lvalue."""
    path = path_of(arg)
    if path is None:
        return []
    depth, where = resolve(st, frame, path)
    inside = where + "."
    return [
        value
        for (at, held), value in st.env.items()
        if at == depth and (held == where or held.startswith(inside))
    ]


def path_of(node: Node) -> str | None:
    """`fault->pfn` -> `fault.pfn`: the dotted path of an lvalue, or None."""
    kind = node.type
    if kind == "identifier":
        return node.text.decode()
    if kind == "field_expression":
        base = path_of(node.child_by_field_name("argument"))
        fld = node.child_by_field_name("field")
        return f"{base}.{fld.text.decode()}" if base and fld is not None else None
    if kind == "pointer_expression":
        return path_of(node.child_by_field_name("argument"))
    if kind in ("parenthesized_expression", "cast_expression"):
        inner = node.child_by_field_name("value") or (
            node.named_children[-1] if node.named_children else None
        )
        return path_of(inner) if inner is not None else None
    return None


def loc(st: State, node: Node, frame: Frame) -> tuple[int, str] | None:
    """The location an lvalue expression names, or None (array elements, calls)."""
    path = path_of(node)
    return resolve(st, frame.depth, path) if path else None


def read(st: State, where: tuple[int, str]) -> V.Value:
    """The value at a location: written on this path, zero in a `{...}` struct, or a symbol."""
    if where in st.env:
        return st.env[where]
    frame, path = where
    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        if st.env.get((frame, ".".join(parts[:cut]))) == V.ZERO_STRUCT:
            return V.NULL
    # A value nobody on this path wrote: named after its location, so that a copy
    # (`slot = fault->slot`) and the original answer a test the same way.
    return V.Sym(f"{frame}:{path}")


def store(st: State, where: tuple[int, str], value: V.Value) -> None:
    """Write a location and forget the answers to conditions that read it."""
    st.env[where] = value
    names = set(where[1].split("."))
    sym = f"sym:{where[0]}:{where[1]}"
    st.facts = {
        text: answer
        for text, answer in st.facts.items()
        if not (text == sym or text.startswith(sym + "."))
        and (text.startswith("sym:") or not names & set(IDENT_RE.findall(text)))
    }
