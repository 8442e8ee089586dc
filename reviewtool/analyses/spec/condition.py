"""C conditions as the hunks show them: `!IS_ENABLED(CONFIG_X86_64) || !tdp_enabled`.

A small reader for the `!`, `&&`, `||` and parentheses of a condition's text, so that the
"from hunks" analysis can say under which configuration a flag is passed (in the spec's
words: `32-bit or !tdp_enabled`) and ask whether a function's known configuration (`[assume]`
of the spec data) rules it out. Anything else (a comparison, a call) is one opaque atom.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

# Above this many atoms, satisfiability is not enumerated: the condition is taken as possible.
MAX_ATOMS = 12


@dataclass(frozen=True)
class Cond:
    """A condition: op is "atom" (text), "not" (one part), "and" / "or" (several parts)."""

    op: str
    text: str = ""
    parts: tuple[Cond, ...] = ()

    def atoms(self) -> list[str]:
        """The atom texts, each once, in reading order."""
        if self.op == "atom":
            return [self.text]
        out: list[str] = []
        for part in self.parts:
            out += [atom for atom in part.atoms() if atom not in out]
        return out

    def holds(self, world: dict[str, bool]) -> bool:
        """The condition's value where each atom has the value `world` gives it."""
        if self.op == "atom":
            return world[self.text]
        if self.op == "not":
            return not self.parts[0].holds(world)
        values = (part.holds(world) for part in self.parts)
        return all(values) if self.op == "and" else any(values)

    def render(self, names: dict[str, str], positive: bool = True) -> str:
        """As a finding's configuration reads: `!(a && b)` -> `!a or !b`, atoms named per spec."""
        if self.op == "atom":
            key = self.text if positive else f"!{self.text}"
            return names.get(key, key)
        if self.op == "not":
            return self.parts[0].render(names, not positive)
        joins_and = (self.op == "and") == positive
        word = " and " if joins_and else " or "
        return word.join(part.render(names, positive) for part in self.parts)


TRUE = Cond("and")  # the empty conjunction


def negate(cond: Cond) -> Cond:
    """`!cond`."""
    return Cond("not", parts=(cond,))


def conjoin(parts: list[Cond]) -> Cond:
    """All of `parts` (TRUE when there are none)."""
    parts = [p for p in parts if p != TRUE]
    if not parts:
        return TRUE
    return parts[0] if len(parts) == 1 else Cond("and", parts=tuple(parts))


def disjoin(parts: list[Cond]) -> Cond:
    """Any of `parts`; TRUE when one of them is TRUE."""
    if any(p == TRUE for p in parts):
        return TRUE
    return parts[0] if len(parts) == 1 else Cond("or", parts=tuple(parts))


def _tokens(text: str) -> list[str]:
    """`(`, `)`, `!`, `&&`, `||` and atoms; an atom keeps its own call parentheses."""
    out: list[str] = []
    atom = ""
    i = 0
    while i < len(text):
        two = text[i : i + 2]
        char = text[i]
        if two in ("&&", "||"):
            if atom.strip():
                out.append(atom.strip())
            atom = ""
            out.append(two)
            i += 2
            continue
        if char == "!" and two != "!=" and not atom.strip():
            out.append("!")
            i += 1
            continue
        if (
            char == "("
            and atom.strip()
            and (atom.rstrip()[-1].isalnum() or atom.rstrip()[-1] == "_")
        ):
            depth, j = 0, i
            while j < len(text):
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                j += 1
                if depth == 0:
                    break
            atom += text[i:j]
            i = j
            continue
        if char in "()":
            if atom.strip():
                out.append(atom.strip())
            atom = ""
            out.append(char)
            i += 1
            continue
        atom += char
        i += 1
    if atom.strip():
        out.append(atom.strip())
    return out


class _Reader:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.at = 0

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str:
        self.at += 1
        return self.tokens[self.at - 1]

    def either(self) -> Cond:
        parts = [self.both()]
        while self.peek() == "||":
            self.take()
            parts.append(self.both())
        return parts[0] if len(parts) == 1 else Cond("or", parts=tuple(parts))

    def both(self) -> Cond:
        parts = [self.unary()]
        while self.peek() == "&&":
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else Cond("and", parts=tuple(parts))

    def unary(self) -> Cond:
        token = self.peek()
        if token == "!":
            self.take()
            return negate(self.unary())
        if token == "(":
            self.take()
            inner = self.either()
            if self.peek() == ")":
                self.take()
            return inner
        if token is None or token in (")", "&&", "||"):
            raise ValueError("condition ends early")
        return Cond("atom", self.take())


def parse_condition(text: str) -> Cond:
    """The condition a C expression states; an expression it cannot read is one atom."""
    text = " ".join(text.split())
    try:
        reader = _Reader(_tokens(text))
        cond = reader.either()
        if reader.peek() is not None:
            raise ValueError("trailing tokens")
        return cond
    except (ValueError, IndexError):
        return Cond("atom", text)


def given_world(assumed: tuple[str, ...] | list[str]) -> dict[str, bool]:
    """`["tdp_enabled", "!IS_ENABLED(CONFIG_X86_64)"]` -> atom values."""
    return {atom.lstrip("!"): not atom.startswith("!") for atom in assumed}


def satisfiable(cond: Cond, given: dict[str, bool]) -> bool:
    """True when some world that keeps `given` makes `cond` true."""
    free = [atom for atom in cond.atoms() if atom not in given]
    if len(free) > MAX_ATOMS:
        return True
    for bits in itertools.product((False, True), repeat=len(free)):
        world = {**{a: False for a in cond.atoms()}, **given, **dict(zip(free, bits, strict=True))}
        if cond.holds(world):
            return True
    return False
