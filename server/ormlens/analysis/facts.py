"""What rules read: a module's facts (ModuleFacts), as the interpreter (interpreter.py) records
them in its one walk: loops, query calls, calls to project functions, relationship reads on rows,
scans with an equality filter, IN lists and `sum()`s over columns. Rules never walk the tree."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ormlens.analysis import guards as branch
from ormlens.analysis.declarations import ClassDecl, ModuleDecl
from ormlens.analysis.flow import (
    Kind,
    QueryInfo,
    Size,
    Value,
)
from ormlens.analysis.models import ModelInfo, RelationshipInfo
from ormlens.findings import Span

# --- the facts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionRef:
    path: str
    qualname: str


@dataclass(eq=False)
class LoopScope:
    """A `for` loop, a comprehension generator, or the implicit loop of `filter(lambda ...)`."""

    id: int
    kind: str          # "for" | "comprehension" | "filter" | "while"
    span: Span         # the loop header: `for x in xs` / the iterable of a comprehension
    label: str         # source text of the iterable
    size: Size
    batched: bool      # iterates chunks (range(0, len(xs), K), batched(xs, K), ...)
    iter_deps: frozenset[int]
    rows_of: str | None = None  # the model whose rows it iterates, when known
    # For `for` statements (what a rewrite needs): the whole statement, the iterable, the target
    # when it is one name, and whether the iterable can be read twice (a list, not an iterator).
    statement: Span | None = None
    iterable: Span | None = None
    target: str | None = None
    reiterable: bool = False
    yields_target: bool = False  # a comprehension whose element is its target (`[s for s in xs]`)
    # A `while` loop that takes the next item of a collection each turn (`todo.pop()`, `next(it)`):
    # it runs once per item. Any other `while` (retries, polling, pages) is only a scope.
    drains: bool = False
    worklist: bool = False  # a draining `while` whose body adds to what it drains (a graph walk)
    # A `while` that steps a variable up to a bound the data sets (`while day <= routine.end:
    # ...; day += delta`): it runs once per step, as many as the data says.
    counted: bool = False
    asynchronous: bool = False  # `async for` (and its comprehension form)
    # Its items are groups that split one collection (`itertools.groupby`): a loop over an item's
    # group, across all items, visits each element once (N, not N·M).
    partitioned: bool = False
    path: str | None = None  # another module's loop (a callee's, contexts.py); None: this module's

    @property
    def repeats(self) -> bool:
        """Does its body run once per item of something of unbounded (or unknown) size?"""
        return (self.kind != "while" or self.drains or self.counted) and not self.batched and \
            self.size is not Size.BOUNDED


@dataclass(eq=False)
class QueryCall:
    span: Span
    label: str
    model: ModelInfo | None
    terminal: str
    loops: tuple[LoopScope, ...]   # enclosing loops that repeat it (exits already cut out)
    function: str | None
    deps: frozenset[int]           # loops whose item the query's filters use
    query: QueryInfo | None = None
    # When the query depends on its innermost repeating `for` loop only through one equality
    # `column == <loop target>` (or `.get(<loop target>)`): that column. What a batch rewrite keys on.
    batch_column: str | None = None
    # Django: the queryset expression that runs (`Book.objects.filter(...)` in `list(...)`), the
    # statement it is the whole of (`rows = list(qs)` / a `for` header, with shape "list" /
    # "iterate"), the one lookup keyed on the loop item (lookup, key source text), and for a
    # count per item, the name to annotate instead (`Count("books")`).
    expression: Span | None = None
    statement: Span | None = None
    shape: str | None = None
    # (lookup, key source, manager source, the rows' attribute compared (None: unknown), the key is a row)
    django_key: tuple[str, str, str, str | None, bool] | None = None
    count_name: str | None = None
    # It writes: "insert" / "update" / "delete" (a write statement run by the session, or a
    # Query/QuerySet `.update()` / `.delete()`); "" for a read.
    write: str = ""
    # Tests on the function's own parameters that must hold for it to run (guards.py).
    guards: tuple[branch.Guard, ...] = ()
    # The `if` arms it is in: ((id of the `if`, 0 body / 1 else), ...). Two sites in different
    # arms of one `if` never both run in a turn of the loop.
    arms: tuple[tuple[int, int], ...] = ()
    # In an `except` handler: it runs when the statement before failed, not once per item.
    exceptional: bool = False


@dataclass(eq=False)
class CallSite:
    span: Span
    label: str
    callee: FunctionRef
    loops: tuple[LoopScope, ...]
    function: str | None
    guards: tuple[branch.Guard, ...] = ()         # as QueryCall.guards
    arguments: branch.CallArguments | None = None  # what it passes (None: not known, `map(f, xs)`)
    arms: tuple[tuple[int, int], ...] = ()         # as QueryCall.arms
    exceptional: bool = False                      # as QueryCall.exceptional


@dataclass(eq=False)
class RelationshipRead:
    span: Span
    label: str
    model: ModelInfo
    relationship: RelationshipInfo
    uselist: bool | None          # a collection (one-to-many), one row (many-to-one), or unknown
    eager: frozenset[tuple[str, ...]] | None
    row_loop: int | None
    loops: tuple[LoopScope, ...]
    source: Span | None             # the query call that loaded the rows
    # Every row of the loop has the same parent for this many-to-one read: it loads once.
    one_parent: bool = False
    asynchronous: bool = False  # the rows came from an AsyncSession: a lazy load raises MissingGreenlet
    awaited: bool = False       # `await row.awaitable_attrs.rel`: a load that runs (AsyncAttrs)
    rel_path: tuple[str, ...] = ()  # relationships from the loop's rows to `model` (Django lookups)
    through_many: bool = False      # ... through a collection
    # Made inside a function this call passes the rows to (contexts.py): the reads inside, outermost
    # call first, as (path, span, message); and the callee's loop over the rows, when it is there.
    through: tuple[tuple[str, Span, str], ...] = ()
    callee_loop: LoopScope | None = None
    # Made only on some paths of its function (in an `if` arm, a conditional expression, an
    # `except` handler, a lambda): a caller cannot tell it runs (contexts.py lifts only the others).
    conditional: bool = False
    # ... and every condition on its path is a test of the walked rows' own state (contexts.py lifts it).
    row_state: bool = False
    exceptional: bool = False  # in an `except` handler (as QueryCall.exceptional): runs when something failed
    # The rows' query is in another file: the view that rendered this template (templates/evaluate.py).
    source_path: str | None = None


@dataclass(eq=False)
class Scan:
    span: Span
    label: str
    collection: str
    key: str
    outer: LoopScope
    kind: str
    # What a grouping rewrite needs: the collection scanned, the scanned item's name, the side of
    # the equality computed from the item (the group key) and the side from the outer item.
    collection_span: Span | None = None
    item: str | None = None
    item_side: Span | None = None
    outer_side: Span | None = None
    yields_item: bool = False  # `[s for s in xs if ...]`: the element is the item itself


@dataclass(eq=False)
class InCall:
    span: Span
    label: str
    argument: str
    size: Size
    kind: Kind
    method: str = "in_"
    argument_span: Span | None = None
    keyword: str | None = None  # Django: the lookup (`author_id__in`)
    values: str = ""            # Django: the source text of the value list


@dataclass(eq=False)
class NullableSum:
    span: Span
    label: str
    model: ModelInfo
    column: str
    element: str
    element_span: Span | None = None


@dataclass(eq=False)
class FunctionFacts:
    ref: FunctionRef
    span: Span
    cached: bool
    query_calls: list[QueryCall] = field(default_factory=list)
    calls: list[CallSite] = field(default_factory=list)
    returns: list[Value] = field(default_factory=list)  # the value of each `return` statement
    # Every `return` gives a literal list/tuple/set or a module constant that is one (`return KEYS`):
    # a fixed number of items whatever the call (a local list may have grown: not this).
    literal_returns: bool = True
    generator: bool = False
    done: bool = False  # its body has been walked (a call from inside it is recursion)
    signature: branch.Signature | None = None
    # Behind a cache whose entries expire (`@cache.memoize(timeout=120)`, `@cached(ttl=60)`): a
    # call runs the body once per distinct argument on a cold cache (so `cached` is False).
    expiring_cache: bool = False


class FunctionReader(Protocol):
    """What ModuleFacts.function needs of the project's index (summaries.FunctionSummaries)."""

    def read_function(self, ref: FunctionRef) -> None: ...


@dataclass(eq=False)
class ModuleFacts:
    decl: ModuleDecl
    loops: dict[int, LoopScope] = field(default_factory=dict)
    query_calls: list[QueryCall] = field(default_factory=list)
    calls: list[CallSite] = field(default_factory=list)
    relationship_reads: list[RelationshipRead] = field(default_factory=list)
    scans: list[Scan] = field(default_factory=list)
    in_calls: list[InCall] = field(default_factory=list)
    sums: list[NullableSum] = field(default_factory=list)
    # Templates its views render, with the values they pass (templates/renders.py).
    template_renders: list = field(default_factory=list)
    functions: dict[str, FunctionFacts] = field(default_factory=dict)
    # Bodies the module's pass did not walk (see may_report): walked when a caller asks.
    deferred: dict[str, DeferredBody] = field(default_factory=dict)
    # What a deferred walk needs of the pass: the module's names (as they are once it has run,
    # which is what a function sees when it is called), what plugins keep, the ids counter.
    module_env: dict[str, Value] = field(default_factory=dict)
    plugin_data: dict[str, Any] = field(default_factory=dict)  # what ORM plugins keep per module
    ids: Any = None
    # What the module's next pass may take back after an edit (units.py; the editor's index only).
    units: dict[str, FunctionUnit] = field(default_factory=dict)
    texts: dict[str, tuple[int, int, int] | None] = field(default_factory=dict)
    skeleton: int = 0
    module_own: set[str] = field(default_factory=set)  # own functions read outside any unit
    module_reads: set[str] = field(default_factory=set)  # dependency nodes read outside any unit
    reusable: dict[str, FunctionUnit] = field(default_factory=dict)  # from the previous facts
    # Units of the previous facts taken back if the functions they read give what they gave; the
    # functions of this pass known to give what they gave (units.py).
    maybe: dict[str, FunctionUnit] = field(default_factory=dict)
    stable: set[str] = field(default_factory=set)
    # Faces of functions walked alone during this pass (a call to one defined further down: see
    # ProjectIndex.function_facts), with those of earlier passes not walked again.
    alone_faces: dict[str, tuple] = field(default_factory=dict)
    previous: ModuleFacts | None = None  # the facts this pass took units from, while it runs
    dropped: set[str] = field(default_factory=set)     # dependency nodes dropped since the pass
    # The interpreter's walk of a deferred body (interpreter.walk_deferred), set by the pass.
    walk_deferred: Callable[[ModuleFacts, str, DeferredBody, Any], None] | None = None

    @property
    def path(self) -> str:
        return self.decl.path

    def function(self, qualname: str, project: FunctionReader) -> FunctionFacts | None:
        """The facts of one of its functions, walking a deferred body now."""
        project.read_function(FunctionRef(self.decl.path, qualname))
        found = self.functions.get(qualname)
        if found is None and qualname in self.deferred:
            deferred = self.deferred.pop(qualname)
            assert self.walk_deferred is not None
            self.walk_deferred(self, qualname, deferred, project)
            found = self.functions.get(qualname)
        return found


@dataclass(eq=False)
class FunctionUnit:
    entries: dict[str, list]                    # a ModuleFacts list's name -> what the walk added
    loops: list[tuple[int, LoopScope]]
    functions: list[tuple[str, FunctionFacts]]  # the function and those defined in it
    reads: frozenset[str]                       # dependency nodes it read
    own: frozenset[str]                         # the module's functions whose facts it read
    face: tuple | None = None                   # what the module's other functions read of it
    # It read a callee's body in a caller's context (contexts.py): what it derived depends on more
    # than the callee's face, so it is walked again whenever a function it read is.
    contextual: bool = False
    # (What a walk of one function added to its module's facts, what it read, and its face:
    # a unit, units.py.)


@dataclass(eq=False)
class DeferredBody:
    node: ast.FunctionDef
    cls: tuple[str, ClassDecl] | None
