"""What a parse yields: functions, call sites, declarations, error regions. Plain dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Node


@dataclass(frozen=True)
class ParseErrorRegion:
    """Lines the checker cannot read, and the function they fall in (None at file scope).

    kind "error" is an ERROR node, "missing" a token the parser invented, "masked" an
    alternative `#if` branch the sanitiser hid so that the rest parses (`reason` says which).
    """

    start_line: int
    end_line: int
    function: str | None
    kind: str = "error"
    reason: str = ""

    def describe(self) -> str:
        """`not checked: could not parse lines 120-134 of `user_mem_abort``, for a reader."""
        span = (
            f"line {self.start_line}"
            if self.start_line == self.end_line
            else f"lines {self.start_line}-{self.end_line}"
        )
        where = f" of `{self.function}`" if self.function else ""
        if self.kind == "masked":
            return f"not checked: {span}{where} ({self.reason})"
        return f"not checked: could not parse {span}{where}"


@dataclass(frozen=True, eq=False)
class FunctionDef:
    """A function (or, with kind "macro", a function-like macro) defined in the file."""

    name: str
    start_line: int
    end_line: int
    node: Node
    is_static: bool
    kind: str = "function"
    params: tuple[str, ...] = ()
    recovered: bool = False  # rebuilt from inside an ERROR node

    def contains(self, line: int) -> bool:
        """True when line lies between the header and the closing brace."""
        return self.start_line <= line <= self.end_line


@dataclass(frozen=True, eq=False)
class CallSite:
    """One call: callee text, where it starts (1-based line and column), enclosing function."""

    name: str
    line: int
    column: int
    function: str | None
    args: list[str]
    node: Node
    end_line: int = 0

    @property
    def lines(self) -> range:
        """Every line the call spans."""
        return range(self.line, max(self.line, self.end_line) + 1)


@dataclass(frozen=True, eq=False)
class Declaration:
    """A declaration naming the symbol: a prototype (with its parameter names) or a variable."""

    name: str
    line: int
    end_line: int
    kind: str  # "prototype" or "variable"
    is_static: bool
    is_extern: bool
    params: tuple[str, ...]
    text: str
    node: Node = field(repr=False)


@dataclass(frozen=True)
class Assignment:
    """`left op right` (op "=", "|=", "&=", ...) or a designated initializer `.field = value`.

    For an initializer, left is `.field` and target the variable being initialised.
    """

    left: str
    op: str
    right: str
    line: int
    target: str | None = None
    condition: str | None = None  # `write_fault` for `if (write_fault) foll.flags |= FOLL_WRITE;`

    @property
    def field(self) -> str | None:
        """The field written: `flags` for `foll.flags |= X`, `.flags = X` or `f->flags = X`."""
        if self.left.startswith("."):
            return self.left[1:]
        for separator in ("->", "."):
            if separator in self.left:
                return self.left.rsplit(separator, 1)[1].strip()
        return None
