"""What each module's derived facts read from other modules: the graph that lets an edit recompute
only what it can change (early cutoff), and that names what a cached result depends on.

Everything the ProjectIndex derives (a module's facts, a function's query summary, a model, a
resolved name) belongs to one node: the module it is about. While it is computed, its node is on a
stack; every declaration or derived entry of another module it touches is recorded as read by it.
An edit of a module invalidates that module and, transitively, every node that read it, and
nothing else."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

# The node of what is derived from every loaded module at once: the list of all models (a
# relationship target found by class name, backrefs declared on other models).
ALL_MODELS = "<all models>"


def imports_node(path: str) -> str:
    """The node of a module's import closure (what it imports, directly or not)."""
    return f"<imports> {path}"


def facts_node(path: str) -> str:
    """The node of what is derived from a module's function bodies: its facts, its functions'
    summaries and its findings. Its module's node stands for the text and what is derived from
    the declarations (models, resolved names), which the list of all models reads: a change of
    what a module's functions do never reaches that list."""
    return f"<facts> {path}"


def templates_node(path: str) -> str:
    """The node of the findings a module's views give in the templates they render: it reads the
    templates (and what their evaluation read), not its facts' node, so an edit of a template
    evaluates the templates again without walking the view."""
    return f"<templates> {path}"


def is_module(node: str) -> bool:
    """Is `node` a module's path (not ALL_MODELS, not an import closure)?"""
    return not node.startswith("<")


class Dependencies:
    def __init__(self) -> None:
        self._reads: dict[str, set[str]] = {}    # node -> nodes it read
        self._readers: dict[str, set[str]] = {}  # node -> nodes that read it
        self._stack: list[str] = []
        # (owner, nodes): also collect what `owner` itself reads (tap), for a finer record of one
        # part of its computation (facts.FunctionUnit).
        self._tap: tuple[str, set[str]] | None = None
        # Facts passes run per module since the index was made: what the early-cutoff tests check.
        self.facts_built: Counter[str] = Counter()
        self._last_many: tuple | None = None  # read_many's last (reader, tap, key)

    @contextmanager
    def computing(self, node: str) -> Iterator[None]:
        """What is read inside is read by `node`."""
        self._stack.append(node)
        self._last_many = None
        try:
            yield
        finally:
            self._stack.pop()
            self._last_many = None

    @contextmanager
    def tap(self, owner: str) -> Iterator[set[str]]:
        """Also collect, into the set it gives, what `owner` reads (directly) inside."""
        outer = self._tap
        self._tap = (owner, set())
        self._last_many = None
        try:
            yield self._tap[1]
        finally:
            self._tap = outer
            self._last_many = None

    @contextmanager
    def untapped(self) -> Iterator[None]:
        """What is read inside is not collected by the tap (it is read for another purpose)."""
        outer, self._tap = self._tap, None
        self._last_many = None
        try:
            yield
        finally:
            self._tap = outer
            self._last_many = None

    def read(self, node: str) -> None:
        if self._stack:
            reader = self._stack[-1]
            if reader != node:
                self._reads.setdefault(reader, set()).add(node)
                self._readers.setdefault(node, set()).add(reader)
                if self._tap is not None and self._tap[0] == reader:
                    self._tap[1].add(node)

    def read_many(self, key: object, nodes: Callable[[], Iterable[str]]) -> None:
        """`read` each of `nodes()`, unless the same reader (and tap) read the same `key` just before:
        what reads every module's facts asks once per question, many times in one walk."""
        if not self._stack:
            return
        mark = (self._stack[-1], id(self._tap[1]) if self._tap is not None else None, key)
        if mark == self._last_many:
            return
        for node in nodes():
            self.read(node)
        self._last_many = mark

    def readers(self, node: str) -> set[str]:
        return set(self._readers.get(node, ()))

    def affected(self, node: str, skip: Iterable[tuple[str, str]] = ()) -> set[str]:
        """`node` and every node that read it, directly or through others; an edge (reader, node)
        in `skip` is not followed (what the change provably did not touch)."""
        skipped = set(skip)
        seen, pending = {node}, [node]
        while pending:
            current = pending.pop()
            for reader in self._readers.get(current, ()):
                if reader not in seen and (reader, current) not in skipped:
                    seen.add(reader)
                    pending.append(reader)
        return seen

    def reads(self, node: str, stop: str | None = None) -> set[str]:
        """`node` and everything it read, directly or through others (`stop` is included when
        reached, not what it read)."""
        seen, pending = {node}, [node]
        while pending:
            current = pending.pop()
            if current == stop:
                continue
            for read in self._reads.get(current, ()):
                if read not in seen:
                    seen.add(read)
                    pending.append(read)
        return seen

    def closures(self, nodes: list[str], stop: str | None = None) -> dict[str, tuple[str, ...]]:
        """`reads(node, stop)` for each of `nodes`, at once: strongly connected components
        (Tarjan, without recursion) share one set, each built from its successors' sets."""
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        on_stack: set[str] = set()
        stack: list[str] = []
        component_of: dict[str, int] = {}
        # Per component: what its nodes read, them included, as a bit set over `bit` (an int: a
        # union is one `|`, and a set of 5,000 modules is 600 bytes).
        reach: list[int] = []
        bit: dict[str, int] = {}
        names: list[str] = []

        def successors(node: str) -> tuple[str, ...]:
            return () if node == stop else tuple(self._reads.get(node, ()))

        for start in nodes:
            if start in index:
                continue
            work = [(start, iter(successors(start)))]
            index[start] = low[start] = len(index)
            stack.append(start)
            on_stack.add(start)
            while work:
                node, children = work[-1]
                child = next(children, None)
                if child is not None:
                    if child not in index:
                        index[child] = low[child] = len(index)
                        stack.append(child)
                        on_stack.add(child)
                        work.append((child, iter(successors(child))))
                    elif child in on_stack:
                        low[node] = min(low[node], index[child])
                    continue
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:  # a component: its successors' components are done
                    members = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component_of[member] = len(reach)
                        members.append(member)
                        if member == node:
                            break
                    found = 0
                    for member in members:
                        if member not in bit:
                            bit[member] = len(names)
                            names.append(member)
                        found |= 1 << bit[member]
                        for successor in successors(member):
                            component = component_of.get(successor)
                            if component is not None and component != len(reach):
                                found |= reach[component]
                    reach.append(found)
        # Decoded once per distinct set, in the order of `names` (sorted by the caller if needed).
        decoded: dict[int, tuple[str, ...]] = {}
        out = {}
        for node in nodes:
            bits = reach[component_of[node]]
            if bits not in decoded:
                digits = bin(bits)[:1:-1]  # bit i is digits[i]
                decoded[bits] = tuple(names[i] for i, digit in enumerate(digits) if digit == "1")
            out[node] = decoded[bits]
        return out

    def modules_read(self, paths: list[str]) -> dict[str, tuple[tuple[str, ...], bool]]:
        """For each module of `paths`: the modules its facts read, directly or not (sorted), and
        whether that reached ALL_MODELS. One closure computation for all of them."""
        out = {}
        sorted_modules: dict[tuple, tuple[tuple[str, ...], bool]] = {}  # by the identities of its closures
        closures = self.closures([node for path in paths for node in (facts_node(path), templates_node(path))],
                                 stop=ALL_MODELS)
        for path in paths:
            nodes, templates = closures[facts_node(path)], closures[templates_node(path)]
            key = (id(nodes), id(templates))
            found = sorted_modules.get(key)
            if found is None:  # the closure includes `path` itself (its facts read its text)
                both = {*nodes, *templates}
                found = sorted_modules[key] = (tuple(sorted(node for node in both if is_module(node))),
                                               ALL_MODELS in both)
            out[path] = found
        return out

    def recorded(self, node: str) -> bool:
        """Is what `node` read on record (it read something, and nothing it read has changed since)?"""
        return bool(self._reads.get(node))

    def forget(self, nodes: set[str]) -> None:
        """`nodes` are computed again: what they read is recorded anew."""
        self._last_many = None
        for node in nodes:
            for read in self._reads.pop(node, ()):
                readers = self._readers.get(read)
                if readers is not None:
                    readers.discard(node)

    def clear(self) -> None:
        self._last_many = None
        self._reads.clear()
        self._readers.clear()

    def edges(self) -> int:
        return sum(len(reads) for reads in self._reads.values())
