"""A module's facts, function by function: what an edit inside one function body lets the next
facts pass of that module keep.

The pass records, for each function it walks at module level or in a top-level class (a unit),
the entries its walk added to the module's facts, what it read of other modules (dependency
nodes, through Dependencies.tap) and which of the module's own functions' facts it read. The next
pass of the same module (after an edit, in the editor) takes a unit back as it was instead of
walking it again when

- the text outside every unit is the same, line for line (imports, module-level code, class
  bodies: what the module's names are), and so is the unit's own text and first line;
- nothing it read of other modules was dropped since (dependencies.py), nor anything module-level
  code read (the values of the module's names: imports);
- none of the module's functions it read was edited, or is walked again for these reasons;
  or each one that was gives its readers what it gave them before (its face: the value its
  callers get, the shape of what it returns), checked once it has been walked again.

Walks share no other state: the builder starts each unit afresh (interpreter.FactsBuilder). So a pass
that takes units back gives the facts a pass from scratch gives: what the incremental tests check.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import fields, is_dataclass
from typing import Any

from ormlens.analysis.facts import FunctionFacts, FunctionRef, FunctionUnit, ModuleFacts
from ormlens.analysis.returns import summarize_returns
from ormlens.positions import shared_lines

Function = ast.FunctionDef | ast.AsyncFunctionDef

# The ModuleFacts lists a walk appends to.
LISTS = ("query_calls", "calls", "relationship_reads", "scans", "in_calls", "sums", "template_renders")


def qualname_of(parent: str, function: Function) -> str:
    """The name the facts give a function defined directly in `parent` (a class's qualified
    name, or "" for the module); a property's setter or deleter is `name:setter`."""
    qualname = f"{parent}.{function.name}" if parent else function.name
    accessor = next((d.attr for d in function.decorator_list if isinstance(d, ast.Attribute)
                     and d.attr in ("setter", "deleter")), None)
    return f"{qualname}:{accessor}" if accessor else qualname


def top_level_functions(body: list[ast.stmt], cls: str = "") -> Iterator[tuple[str, Function]]:
    """The units of a module: its functions outside any function body or nested class (through
    `if`/`try`/`with`/loop blocks), and the methods of its top-level classes; by qualified name."""
    for stmt in body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield qualname_of(cls, stmt), stmt
        elif isinstance(stmt, ast.ClassDef):
            if not cls:
                yield from top_level_functions(stmt.body, stmt.name)
        else:
            blocks = [getattr(stmt, "body", None), getattr(stmt, "orelse", None), getattr(stmt, "finalbody", None)]
            blocks += [handler.body for handler in getattr(stmt, "handlers", ())]
            blocks += [case.body for case in getattr(stmt, "cases", ())]
            for block in blocks:
                if isinstance(block, list):
                    yield from top_level_functions(block, cls)


YIELD = re.compile(r"\byield\b")


def text_matches(lines: list[str], function: Function, pattern: re.Pattern) -> bool:
    """Does the text of `function`, from its def line to its last (source_lines' `lines`), match
    `pattern`? A cheap look before walking (or putting back) its body."""
    return pattern.search("\n".join(lines[function.lineno - 1:function.end_lineno])) is not None


def first_line(function: Function) -> int:
    return min([function.lineno, *(d.lineno for d in function.decorator_list)])


def function_texts(body: list[ast.stmt], lines: list[str]) -> tuple[dict[str, tuple[int, int, int] | None], int]:
    """Each unit's first and last line and a hash of its text (None: two units of that name), and
    a hash of the module's text outside its units (their lines emptied, so positions count)."""
    texts: dict[str, tuple[int, int, int] | None] = {}
    outside = list(lines)
    for qualname, function in top_level_functions(body):
        first = first_line(function)
        entry = (first, function.end_lineno, hash("\n".join(lines[first - 1:function.end_lineno])))
        texts[qualname] = None if qualname in texts else entry
        outside[first - 1:function.end_lineno] = [""] * (function.end_lineno - first + 1)
    return texts, hash("\n".join(outside))


class Marks:
    """Where a unit's walk starts in each of the module's facts."""

    def __init__(self, facts: ModuleFacts):
        self.lengths = {name: len(getattr(facts, name)) for name in LISTS}
        self.loops = len(facts.loops)
        self.functions = len(facts.functions)

    def unit(self, facts: ModuleFacts, qualname: str, reads: set[str], own: set[str]) -> FunctionUnit:
        inner = qualname + ".<locals>."
        return FunctionUnit(
            {name: getattr(facts, name)[start:] for name, start in self.lengths.items()},
            list(facts.loops.items())[self.loops:],
            [(name, function) for name, function in list(facts.functions.items())[self.functions:]
             if name == qualname or name.startswith(inner)],
            frozenset(reads), frozenset(own) - {qualname})


def reuse(facts: ModuleFacts, unit: FunctionUnit) -> None:
    """Add a unit taken back to the module's facts, as its walk would."""
    for name, entries in unit.entries.items():
        getattr(facts, name).extend(entries)
    facts.loops.update(unit.loops)
    facts.functions.update(unit.functions)


def face(function: FunctionFacts, returned: object, node: Function, text: tuple[int, int, int] | None,
         lines: list[str]) -> tuple:
    """What the module's other functions read of a function's facts, comparable across walks
    (FactsBuilder.returned, returned_query, yields_chunks): the value a call gives, the shape of
    each value it returns, whether it is a generator and always returns; a function that yields
    is compared by its text (chunking.py reads its body). `returned`: returns.summarize_returns of it."""
    shapes = tuple((v.kind, v.model, v.statement, v.tuples, v.query is not None and (
        v.query.django, v.query.limited, v.query.ordered, v.query.not_null)) for v in function.returns)
    yields = text_matches(lines, node, YIELD)
    last = node.body[-1] if node.body else None
    return (_structure(returned), shapes, function.generator, function.literal_returns,
            type(last).__name__, text if yields else None)


def _structure(value: object) -> object:
    """A value of the analysis (flow's dataclasses compare by identity) as nested tuples."""
    if is_dataclass(value) and not isinstance(value, type) and type(value).__module__.endswith("flow"):
        return (type(value).__name__, *(_structure(getattr(value, f.name)) for f in fields(value)))
    if isinstance(value, tuple):
        return tuple(_structure(item) for item in value)
    return value


def reusable(previous: ModuleFacts | None, texts: dict[str, tuple[int, int, int] | None],
             outside: int) -> tuple[dict[str, FunctionUnit], dict[str, FunctionUnit]]:
    """The units of `previous` (the module's facts before an edit) the new pass may take back:
    those it takes back, and those it takes back if every one of the module's functions they
    read gives what it gave (FactsBuilder.exec_unit)."""
    if previous is None or previous.skeleton != outside:
        return {}, {}
    edited = {name for name in texts.keys() | previous.texts.keys()
              if texts.get(name) is None or texts.get(name) != previous.texts.get(name)}
    edited |= {name for name, unit in previous.units.items() if unit.reads & previous.dropped}
    again = set(edited)
    grew = True
    while grew:  # a unit that read a function walked again is walked again
        grew = False
        for name, unit in previous.units.items():
            if name not in again and unit.own & again:
                again.add(name)
                grew = True
    if previous.module_own & again or previous.module_reads & previous.dropped:
        return {}, {}  # module-level code read one, or read what changed: the module's names may differ
    return ({name: unit for name, unit in previous.units.items() if name not in again},
            {name: unit for name, unit in previous.units.items()
             if name in again and name not in edited and not unit.contextual})


# --- taking units back (a pass of a module's facts; see the module docstring) ---------------------


def take_back(facts: ModuleFacts, qualname: str, project: Any) -> FunctionUnit | None:
    """The previous facts' unit of `qualname` when this pass may take it back (units.py)."""
    unit = facts.reusable.pop(qualname, None)
    if unit is None and qualname in facts.maybe:
        unit = facts.maybe.pop(qualname)
        # What deciding reads is no read of the module-level code (nor of any unit).
        sink, project.own_reads = project.own_reads, None
        try:
            with project.dependencies.untapped():
                given = all(gives_what_it_gave(facts, name, project) for name in unit.own)
        finally:
            project.own_reads = sink
        if not given:
            return None
    if unit is not None:
        facts.units[qualname] = unit
        facts.stable.add(qualname)
    return unit


def gives_what_it_gave(facts: ModuleFacts, qualname: str, project: Any) -> bool:
    """Do the facts of this pass for function `qualname` show its readers what the previous
    facts did? A deferred one edited is walked now to tell."""
    if qualname in facts.stable or qualname in facts.reusable:
        return True
    if qualname not in facts.functions and qualname not in facts.deferred and qualname not in facts.units:
        # Not defined yet at this point of the pass (further down, as in the previous one):
        # the reader got nothing of it, or a walk of it alone (ProjectIndex.function_facts),
        # which is made again and compared.
        before = facts.previous.alone_faces.get(qualname) if facts.previous is not None else None
        if before is None:
            return True
        project.function_facts(FunctionRef(facts.decl.path, qualname))
        return facts.alone_faces.get(qualname) == before
    if qualname in facts.deferred and previous_face(facts, qualname) is not None:
        facts.function(qualname, project)
        return qualname in facts.stable
    return False


def note_alone(facts: ModuleFacts, qualname: str, function: FunctionFacts) -> None:
    node, _ = facts.decl.function_node(qualname)
    if node is not None:
        facts.alone_faces[qualname] = face(function, summarize_returns(function), node,
                                                facts.texts.get(qualname), shared_lines(facts.decl.source))


def settle(facts: ModuleFacts, qualname: str, unit: FunctionUnit) -> None:
    """Keep the unit of a function walked in this pass; it gives what it gave when its face
    is the previous one."""
    facts.units[qualname] = unit
    if unit.face is not None and previous_face(facts, qualname) == unit.face:
        facts.stable.add(qualname)


def previous_face(facts: ModuleFacts, qualname: str) -> tuple | None:
    unit = facts.previous.units.get(qualname) if facts.previous is not None else None
    return unit.face if unit is not None else None
