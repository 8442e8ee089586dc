"""Configurations on a path: conditions on tdp_enabled / CONFIG_X86_64, how findings name
them, and rule 9's question "does this configuration let the SPTE record refcounted?".
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from tree_sitter import Node

from reviewtool.analyses.spec.model import Spec
from reviewtool.analyses.spec.state import MAX_ENTAILMENT_ATOMS, Frame, State


class Configs:
    """Configuration questions of one walked file under one spec generation."""

    def __init__(self, spec: Spec, text: Callable[[Node], str], path: str) -> None:
        self.spec = spec
        self.text = text
        self.path = path
        self.config_atoms = {k.lstrip("!") for k in spec.config_names}
        self.top = ""  # the function being checked
        self.given: dict[str, bool] = {}  # configuration atoms it runs with ([assume])

    def start(self, fname: str) -> None:
        """Begin checking function `fname`: its [assume] atoms become given."""
        self.top = fname
        self.given = {}
        for atom in self.spec.assume.get(fname, ()):
            self.given[atom.lstrip("!")] = not atom.startswith("!")

    def render(self, node: Node, positive: bool) -> str:
        """A condition as a configuration reads: `!(a && b)` -> `!a or !b`, named per spec."""
        if node.type == "parenthesized_expression" and node.named_children:
            return self.render(node.named_children[0], positive)
        if (
            node.type == "unary_expression"
            and self.text(node.child_by_field_name("operator")) == "!"
        ):
            return self.render(node.child_by_field_name("argument"), not positive)
        if node.type == "binary_expression":
            op = self.text(node.child_by_field_name("operator"))
            if op in ("&&", "||"):
                joins_and = (op == "&&") == positive
                left = self.render(node.child_by_field_name("left"), positive)
                right = self.render(node.child_by_field_name("right"), positive)
                return f"{left} {'and' if joins_and else 'or'} {right}"
        text = self.text(node)
        key = text if positive else f"!{text}"
        return self.spec.config_names.get(key, key)

    def render_assumptions(self, st: State) -> str:
        """The configuration this path assumed, as a reader would say it."""
        return ", ".join(text for text, _ in st.assumptions)

    def given_answer(self, node: Node) -> bool | None:
        """The answer the checked function's known configuration ([assume]) gives, if any."""
        if not self.given:
            return None
        atoms: list[str] = []
        self.atoms(node, atoms)
        if not atoms or not all(atom in self.given for atom in atoms):
            return None
        return self.holds(node, self.given)

    def config_only(self, node: Node) -> bool:
        """True when every atom of a condition is a configuration atom."""
        atoms: list[str] = []
        self.atoms(node, atoms)
        return all(self.is_config(atom) for atom in atoms)

    def is_config(self, text: str) -> bool:
        """True when the text names a configuration atom of the spec."""
        return any(atom in text for atom in self.config_atoms)

    def get_required(self, st: State, frame: Frame) -> bool:
        """Rule 9: FOLL_GET is omitted in a configuration where the SPTE cannot record it."""
        for rule in self.spec.get_required:
            if not (rule.applies(self.path, frame.name) or rule.applies(self.path, self.top)):
                continue
            if not self.entails(st.assume_nodes, rule.needs):
                return True
        return False

    def entails(self, assumed: tuple[tuple[Node, bool], ...], needs: tuple[str, ...]) -> bool:
        """True when the path's assumptions (and [assume]) force every atom of `needs`."""
        if "false" in needs:
            return False
        atoms: list[str] = list(self.given)
        for node, _ in assumed:
            self.atoms(node, atoms)
        if not set(needs) <= set(atoms):
            return False
        if len(atoms) > MAX_ENTAILMENT_ATOMS:
            return True
        for bits in itertools.product((False, True), repeat=len(atoms)):
            world = dict(zip(atoms, bits, strict=True))
            if any(world[atom] != value for atom, value in self.given.items()):
                continue
            if all(self.holds(node, world) == answer for node, answer in assumed):
                if not all(world[need] for need in needs):
                    return False
        return True

    def atoms(self, node: Node, out: list[str]) -> None:
        """Collect the leaves of a condition built with `!`, `&&`, `||` and parentheses."""
        if node.type == "parenthesized_expression" and node.named_children:
            self.atoms(node.named_children[-1], out)
        elif (
            node.type == "unary_expression"
            and self.text(node.child_by_field_name("operator")) == "!"
        ):
            self.atoms(node.child_by_field_name("argument"), out)
        elif node.type == "binary_expression" and self.text(
            node.child_by_field_name("operator")
        ) in ("&&", "||"):
            self.atoms(node.child_by_field_name("left"), out)
            self.atoms(node.child_by_field_name("right"), out)
        elif self.text(node) not in out:
            out.append(self.text(node))

    def holds(self, node: Node, world: dict[str, bool]) -> bool:
        """Evaluate a condition in a world that gives each atom a value."""
        if node.type == "parenthesized_expression" and node.named_children:
            return self.holds(node.named_children[-1], world)
        if (
            node.type == "unary_expression"
            and self.text(node.child_by_field_name("operator")) == "!"
        ):
            return not self.holds(node.child_by_field_name("argument"), world)
        if node.type == "binary_expression":
            op = self.text(node.child_by_field_name("operator"))
            if op == "&&":
                return self.holds(node.child_by_field_name("left"), world) and self.holds(
                    node.child_by_field_name("right"), world
                )
            if op == "||":
                return self.holds(node.child_by_field_name("left"), world) or self.holds(
                    node.child_by_field_name("right"), world
                )
        return world[self.text(node)]
