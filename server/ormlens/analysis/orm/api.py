"""The two sides of the plugin protocol: what the interpreter asks a plugin (OrmPlugin), and what
a plugin may use of the interpreter while it answers (Interpreter).

Each hook gets the interpreter and answers a Value, or None when the value or call is not its
ORM's: then the next plugin is asked, and after the last one the interpreter goes on with what
Python alone says. The hooks are modelled on mypy's plugin hooks (get_method_hook,
get_function_hook, get_attribute_hook): the interpreter knows Python, plugins know libraries."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ormlens.analysis.declarations import ClassDecl, ModuleDecl
from ormlens.analysis.facts import FunctionRef, LoopScope, ModuleFacts, QueryCall
from ormlens.analysis.flow import Kind, Size, Value
from ormlens.findings import Span
from ormlens.fixes.plans import FixPlan

if TYPE_CHECKING:
    from ormlens.analysis.dependencies import Dependencies
    from ormlens.analysis.models import ModelInfo, RelationshipInfo

# How Python evaluates a value whole (OrmPlugin.evaluate): iterating it, `list()` of it, `iter()`
# or `reversed()` of it, `len()`, its truth, indexing it.
EVALUATIONS = ("__iter__", "list", "iter", "len", "bool", "index")


class Index(Protocol):
    """What plugins use of the project's index (project.ProjectIndex)."""

    dependencies: Dependencies          # what is derived reads (read) what, while computing it (computing)
    plugin_caches: dict[str, dict]      # per plugin, what it derives from declarations (see OrmPlugin.forget)

    def decl(self, path: str) -> ModuleDecl | None: ...
    def whole(self, decl: ModuleDecl) -> ModuleDecl: ...
    def entries(self, directory: str) -> frozenset[str]: ...
    def imports(self, path: str) -> set[str]: ...
    def eval_static(self, decl: ModuleDecl, node: ast.expr, depth: int = 0, label: str = "") -> Value: ...
    def declared_model(self, decl: ModuleDecl, cls: ClassDecl) -> ModelInfo | None: ...
    def models_named(self, name: str) -> list[ModelInfo]: ...
    def class_of(self, model: ModelInfo) -> tuple[str, ClassDecl] | None: ...
    def is_enum_class(self, path: str, cls: ClassDecl) -> bool: ...  # through project bases
    def historical(self, model: ModelInfo) -> ModelInfo: ...
    def returns(self, ref: FunctionRef) -> Value: ...
    def loaded(self) -> list[str]: ...
    def read_function(self, ref: FunctionRef) -> None: ...  # what is computed depends on that function
    def body(self, decl: ModuleDecl, function: ast.FunctionDef | ast.AsyncFunctionDef) -> None: ...  # put back


class Interpreter(Protocol):
    """What plugins use of the interpreter (interpreter.FactsBuilder)."""

    decl: ModuleDecl                    # the module being walked
    project: Index                      # the whole project: models, functions' summaries
    facts: ModuleFacts                  # what the walk records
    values: dict[int, Value]            # the value of each node evaluated so far, by id(node)
    assignment: ast.Assign | None       # the assignment statement being executed
    untyped_parameters: dict[int, Value]  # values of parameters without an annotation, by id
    evaluated_querysets: dict[int, Value]  # lazy query objects already evaluated (result cache filled)
    filled_at: dict[int, tuple]         # of those, where an evaluation ran on every path after it (path_mark)
    plugin_data: dict[str, Any]         # per module, for plugins (keyed by the plugin's name)

    def segment(self, node: ast.AST) -> str: ...
    def short(self, node: ast.AST, limit: int = 60) -> str: ...
    def effective_loops(self) -> tuple[LoopScope, ...]: ...
    def conditional(self) -> bool: ...  # what is being walked runs on some paths of its function only
    def path_mark(self) -> tuple: ...  # where the walk is: its `if` arms, branches, loops, function
    def dominates(self, mark: tuple) -> bool: ...  # what ran at `mark` ran on every path to here
    def loop_ids(self) -> frozenset[int]: ...
    # `node` (a call) chooses the database or schema what follows runs on from these loops' items.
    def route(self, node: ast.AST, deps: frozenset[int]) -> None: ...
    def lookup(self, name: str) -> Value: ...
    def rebind(self, name: str, value: Value) -> None: ...
    def as_query(self, value: Value) -> Value: ...
    def in_list_size(self, argument: Value) -> Size: ...  # an IN list's length, callers considered
    def constant_width(self, part: ast.Slice) -> bool: ...
    def returned(self, ref: FunctionRef) -> Value: ...
    def method_value(self, start: tuple[str, ClassDecl], attr: str) -> Value | None: ...
    def record_call(self, node: ast.Call | ast.Attribute, callee: Value, named: ast.expr | None = None) -> None: ...

    def calls_dunder_str(self, node: ast.expr, row: Value) -> None:
        """`str(row)` at `node`: the row's model's `__str__` runs on it."""

    def record_query(self, node: ast.AST, query: Value, terminal: str, loops: tuple[LoopScope, ...] | None = None,
                     evaluation: str | None = None, **details: Any) -> QueryCall:
        """A query runs at `node`. `evaluation`: how its label reads when it runs by being
        evaluated (`"list({})"`); `details`: QueryCall fields a fix plan reads."""


@dataclass(frozen=True)
class LazyLoadAdvice:
    """How to load a relationship with the rows (ORM002), in an ORM's terms."""

    loader: str             # the loader's name: "selectinload", "join", "prefetch"...
    option: str             # what to write, as a message shows it: "`.options(selectinload(User.posts))`"
    fix: FixPlan | None     # the quick fix that writes it, when the ORM has one
    # The whole message when the ORM words it itself, from how often it runs (`per_item`: "once
    # per item of `rows`"; `product`: "N"); and what else the finding's data names.
    message: Callable[[str, str], str] | None = None
    data: dict = field(default_factory=dict)


class OrmPlugin(Protocol):
    """One ORM (a module with these functions, registered in orm/__init__.py). A plugin leaves
    out the interpreter's and the index's hooks it never answers (they are not asked); STYLE and
    the rules' hooks (write_advice, batch_advice, lazy_load_advice) it must have."""

    STYLE: str  # the name models and queries of this ORM carry (ModelInfo.style, QueryInfo.orm)
    # Optional, so that the interpreter asks only the plugins concerned: the kinds of values whose
    # methods it answers (method_call), that it evaluates and indexes (evaluate, subscript), and the
    # top-level packages of the library functions it knows (function_call). Absent: all of them.
    METHOD_KINDS: frozenset[Kind]
    EVALUATE_KINDS: frozenset[Kind]
    SUBSCRIPT_KINDS: frozenset[Kind]
    PACKAGES: frozenset[str]
    MODULE_ALIASES: dict[str, str]  # library modules that re-export another's names: {alias: module}

    def method_call(self, b: Interpreter, node: ast.Call, base: Value, method: str, args: list[Value],
                    kwargs: dict[str | None, Value]) -> Value | None:
        """`base.method(...)` where `base` is one of this ORM's values (a query, a session, a
        result, a loader option...)."""

    def function_call(self, b: Interpreter, node: ast.Call, name: str, args: list[Value]) -> Value | None:
        """A call of the library function or class `name` (dotted: `sqlalchemy.select`)."""

    def attribute(self, b: Interpreter, node: ast.Attribute, base: Value, attr: str) -> Value | None:
        """`base.attr`, before the interpreter reads a row's relationship or column: a manager or a
        query of a model class, a schema object."""

    def relationship(self, b: Interpreter, node: ast.Attribute, row: Value, rel: RelationshipInfo,
                     target: ModelInfo | None) -> Value | None:
        """A relationship read on a row that this ORM answers without running anything (a
        related manager); None: the interpreter records the read (a lazy load unless loaded)."""

    def evaluate(self, b: Interpreter, node: ast.AST, value: Value, how: str, expression: ast.AST,
                 header: Span | None = None) -> Value | None:
        """Python evaluates `value` whole (`how`: one of EVALUATIONS): when that runs a query,
        record it and give what it yields. `header`: the `for` statement's header, iterating."""

    def subscript(self, b: Interpreter, node: ast.Subscript, base: Value, deps: frozenset[int]) -> Value | None:
        """`base[...]` read."""

    def self_value(self, b: Interpreter, cls: tuple[str, ClassDecl]) -> Value | None:
        """`self` (or `super()`) in a method of project class `cls`, when this ORM gives it a meaning."""

    def parameter(self, b: Interpreter, function: ast.FunctionDef | ast.AsyncFunctionDef, index: int,
                  arg: ast.arg) -> Value | None:
        """The value of a module-level function's parameter that a library passes (a migration's
        `apps`), before its annotation is read."""

    def annotation(self, b: Interpreter, value: Value) -> Value | None:
        """A parameter annotated with library class `value` (a session class)."""

    # --- declarations (asked by the project's index, model_index.py) ---

    def declared_model(self, index: Index, decl: ModuleDecl, cls: ClassDecl) -> ModelInfo | None:
        """The model class `cls` declares (abstract=True for an abstract one), or None."""

    def is_model_base(self, index: Index, decl: ModuleDecl, cls: ClassDecl) -> bool:
        """Is `cls` a base of models without being one (a declarative base)?"""

    def construct(self, index: Index, name: str, args: list[Value], keywords: dict[str | None, Value]) -> Value | None:
        """What calling the library class or factory `name` gives (a session, a session factory...)."""

    def namespace_attribute(self, index: Index, attr: str, namespace: Value) -> Value | None:
        """`attr` of this ORM's namespace object `namespace` (Kind.ORM_NAMESPACE: Flask-SQLAlchemy's `db`)."""

    def model_label(self, index: Index, model: ModelInfo) -> str | None:
        """The label telling models of one class name apart (a Django app label)."""

    def module_label(self, index: Index, path: str) -> str | None:
        """The label of the models module `path` would declare."""

    def forget(self, index: Index, nodes: set[str] | None) -> None:
        """Drop what was derived from `nodes` (module paths and dependency nodes; None: everything)."""

    # --- what the rules advise (rules/) ---

    def write_advice(self, query: QueryCall) -> str:
        """ORM001: the one statement for all items that replaces this write per item."""

    def batch_advice(self, query: QueryCall, loop: LoopScope) -> str | None:
        """ORM001: what replaces this query per item, when the ORM has better than the generic
        "load them all before the loop and look them up by key"."""

    def batch_query(self, query: QueryCall, loop: LoopScope) -> tuple[type[FixPlan], Any] | None:
        """ORM001's quick fix (optional): this query's part of a batch rewrite of `loop` (the plan
        class the loop's queries share, and the query's entry in it); None when it has none."""

    def chunk_plan(self, call: Any, query: QueryCall) -> FixPlan | None:
        """ORM004's quick fix (optional): running `query` per chunk of the IN list `call`
        (facts.InCall)."""

    def lazy_load_advice(self, read: Any, loop: LoopScope | None) -> LazyLoadAdvice | None:
        """ORM002: how to load this relationship (facts.RelationshipRead, read on the rows `loop`
        iterates) with the rows; None when the rule words it itself."""
