"""A body's nodes as both template readers build them: in order, with the names bound for the rest
of the scope (Django `{% url ... as u %}`, `{% regroup %}`; Jinja2 `{% set x = ... %}`) folded into
Binds where the scope ends."""

from __future__ import annotations

from dataclasses import dataclass, field

from ormlens.analysis.templates import ir


@dataclass
class Sequence:
    nodes: list = field(default_factory=list)
    binds: list = field(default_factory=list)  # (index in nodes, ((name, read or None), ...))

    def extend(self, other: Sequence) -> None:
        """A body rendered in place (an `{% if %}` branch): no scope of its own, so what it binds
        holds after it too."""
        offset = len(self.nodes)
        self.binds.extend((offset + index, names) for index, names in other.binds)
        self.nodes.extend(other.nodes)

    def bind_rest(self, names: tuple[tuple[str, ir.Read | None], ...]) -> None:
        if names:
            self.binds.append((len(self.nodes), names))

    def output(self, reads: list[ir.Read], shown: bool = False) -> None:
        """Reads where they stand (`shown`: rendered as text, a `{{ ... }}`)."""
        if reads:
            self.nodes.append(ir.Output(tuple(reads), shown))

    def folded(self) -> tuple[ir.Node, ...]:
        """The nodes, each rest-of-scope binding wrapping what follows it (built from the back:
        linear in the nodes however many bindings)."""
        tail: tuple[ir.Node, ...] = ()
        end = len(self.nodes)
        for index, names in reversed(self.binds):
            tail = (ir.Bind(names, tuple(self.nodes[index:end]) + tail),)
            end = index
        return tuple(self.nodes[:end]) + tail
