"""Conditions on a function's own parameters that decide whether a query in it runs.

The facts pass records, for each query and call in a function, the simple tests on parameters
it sits under (`if p:`, `if p is None:`, `if p == "x":`, their `else`, `if p and ...:`, and the
rest of a block after `if not p: return`). A call site records what it passes: literals are
known, a parameter of the calling function is passed through, anything else is unknown.
ProjectIndex.query_trace combines the two: a query path whose guard is known false where the
function is called does not run there (`get_picture(event, pic)` never reaches the thumbnail
query under `if size:`). Only literals decide; unknown arguments keep every path."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ormlens.analysis import queries
from ormlens.analysis.astutil import last_name, parameter_defaults

TRUTHY, FALSY, IS_NONE, NOT_NONE, EQUALS, NOT_EQUALS = "truthy", "falsy", "none", "not_none", "eq", "ne"
_NEGATION = {TRUTHY: FALSY, FALSY: TRUTHY, IS_NONE: NOT_NONE, NOT_NONE: IS_NONE,
             EQUALS: NOT_EQUALS, NOT_EQUALS: EQUALS}


@dataclass(frozen=True)
class Guard:
    """`parameter` passes `test` (with `value` for ==/!=) whenever the guarded code runs."""

    parameter: str
    test: str
    value: object = None

    def negated(self) -> Guard:
        return Guard(self.parameter, _NEGATION[self.test], self.value)

    def holds(self, value: object) -> bool:
        if self.test == TRUTHY:
            return bool(value)
        if self.test == FALSY:
            return not value
        if self.test == IS_NONE:
            return value is None
        if self.test == NOT_NONE:
            return value is not None
        return (value == self.value) == (self.test == EQUALS)  # as Python compares the literals


@dataclass(frozen=True)
class Passed:
    """What a call site gives a parameter: a literal ("literal", its value, mutable container?),
    a parameter of the calling function ("parameter", its name), or "unknown"."""

    kind: str
    value: object = None
    mutable: bool = False


UNKNOWN_ARGUMENT = Passed("unknown")


@dataclass(frozen=True)
class CallArguments:
    positional: tuple[Passed, ...]
    keywords: tuple[tuple[str, Passed], ...]
    spread: bool        # `*args` / `**kwargs` at the call: any parameter may be passed
    receiver: str       # "plain" (a name), "instance" (obj.m() / a property), "class" (Cls.m())


@dataclass(frozen=True)
class Signature:
    positional: tuple[str, ...]
    keyword_only: tuple[str, ...]
    defaults: tuple[tuple[str, Passed], ...]
    varargs: bool
    kind: str                   # "function" | "method" | "classmethod" | "staticmethod" | "decorated"
    mutated: frozenset[str]     # parameters whose object the body may change (`p.append(x)`)


def literal(node: ast.expr | None) -> Passed:
    """A literal the analysis can decide a guard with: None, True/False, numbers, strings, empty
    containers; anything else is unknown."""
    if isinstance(node, ast.Constant) and not isinstance(node.value, bytes) and node.value is not Ellipsis:
        return Passed("literal", node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
            and isinstance(node.operand.value, (int, float)) and not isinstance(node.operand.value, bool):
        return Passed("literal", -node.operand.value)
    if isinstance(node, ast.Tuple) and not node.elts:
        return Passed("literal", ())
    if (isinstance(node, (ast.List, ast.Set)) and not node.elts) or (isinstance(node, ast.Dict) and not node.keys):
        return Passed("literal", (), mutable=True)
    return UNKNOWN_ARGUMENT


class Parameters:
    """A function's parameter names; which of them its body never rebinds (assignment, loop
    target, `with ... as`, `del`, walrus, `global`/`nonlocal`, an inner def or import of the name):
    a test on one of those is a test on the argument; and which objects it may change (`p.append(x)`,
    `p[k] = v`: an empty list passed in may not stay empty). The body is walked once, on first need."""

    def __init__(self, function: ast.FunctionDef | ast.AsyncFunctionDef):
        self.function = function
        args = function.args
        self.names = frozenset(a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs])
        self._stable: frozenset[str] | None = None
        self.mutated: frozenset[str] = frozenset()  # known once `stable` has been read

    def stable(self, name: str) -> bool:
        if name not in self.names:
            return False
        if self._stable is None:
            rebound: set[str] = set()
            mutated: set[str] = set()
            for stmt in self.function.body:
                for node in ast.walk(stmt):
                    if isinstance(node, ast.Name):
                        if not isinstance(node.ctx, ast.Load):
                            rebound.add(node.id)
                    elif isinstance(node, (ast.Attribute, ast.Subscript)):
                        if isinstance(node.value, ast.Name):
                            mutated.add(node.value.id)
                    elif isinstance(node, (ast.Global, ast.Nonlocal)):
                        rebound.update(node.names)
                    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                        rebound.add(node.name)
                    elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
                        rebound.add(node.name)
                    elif isinstance(node, (ast.Import, ast.ImportFrom)):
                        rebound.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
            self._stable = self.names - rebound
            self.mutated = self.names & mutated
        return name in self._stable


def signature(function: ast.FunctionDef | ast.AsyncFunctionDef, in_class: bool,
              parameters: Parameters) -> Signature:
    """How calls bind to the function (read after its body was walked: `parameters.mutated`)."""
    args = function.args
    positional = [a.arg for a in [*args.posonlyargs, *args.args]]
    defaults = [(name, literal(node)) for name, node in parameter_defaults(function).items()]
    decorators = {last_name(d) for d in function.decorator_list}
    kind = "function" if not in_class else "staticmethod" if "staticmethod" in decorators else \
        "classmethod" if "classmethod" in decorators else "method"
    if not decorators <= queries.PASS_THROUGH_DECORATORS:
        kind = "decorated"  # what reaches the parameters is the decorator's business: not bound
    return Signature(tuple(positional), tuple(a.arg for a in args.kwonlyargs), tuple(defaults),
                     args.vararg is not None or args.kwarg is not None, kind, parameters.mutated)


def condition(test: ast.expr, parameters: Parameters) -> tuple[tuple[Guard, ...], tuple[Guard, ...]]:
    """The guards that hold when `test` is true, and those that hold when it is false."""
    if isinstance(test, ast.BoolOp):
        parts = [condition(value, parameters) for value in test.values]
        if isinstance(test.op, ast.And):  # true: every part is; false: one of them is not
            return tuple(g for when_true, _ in parts for g in when_true), ()
        # `a or b`: true says nothing alone; false: every part is false
        return (), tuple(g for _, when_false in parts for g in when_false)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        true, false = condition(test.operand, parameters)
        return false, true
    guard = _simple(test, parameters)
    return ((guard,), (guard.negated(),)) if guard is not None else ((), ())


def _simple(test: ast.expr, parameters: Parameters) -> Guard | None:
    if isinstance(test, ast.Name) and parameters.stable(test.id):
        return Guard(test.id, TRUTHY)
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.left, ast.Name) and \
            parameters.stable(test.left.id):
        op, right = test.ops[0], test.comparators[0]
        if not isinstance(right, ast.Constant) or isinstance(right.value, bytes) or right.value is Ellipsis:
            return None
        if right.value is None and isinstance(op, (ast.Is, ast.Eq)):
            return Guard(test.left.id, IS_NONE)
        if right.value is None and isinstance(op, (ast.IsNot, ast.NotEq)):
            return Guard(test.left.id, NOT_NONE)
        if isinstance(op, ast.Eq):
            return Guard(test.left.id, EQUALS, right.value)
        if isinstance(op, ast.NotEq):
            return Guard(test.left.id, NOT_EQUALS, right.value)
    return None


def exits(body: list[ast.stmt]) -> bool:
    """Does the block always leave (return, raise, continue, break as its last statement)?"""
    return bool(body) and isinstance(body[-1], (ast.Return, ast.Raise, ast.Continue, ast.Break))


def call_arguments(node: ast.Call, receiver: str, parameters: Parameters | None) -> CallArguments:
    """What a call passes; `parameters`: the calling function's stable parameters (passed through)."""
    def passed(value: ast.expr) -> Passed:
        if isinstance(value, ast.Name) and parameters is not None and parameters.stable(value.id):
            return Passed("parameter", value.id)
        return literal(value)

    spread = any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords)
    positional = []
    for arg in node.args:
        if isinstance(arg, ast.Starred):
            break  # what follows a *spread lands on unknown positions
        positional.append(passed(arg))
    keywords = tuple((k.arg, passed(k.value)) for k in node.keywords if k.arg is not None)
    return CallArguments(tuple(positional), keywords, spread, receiver)


NO_ARGUMENTS_ON_INSTANCE = CallArguments((), (), False, "instance")  # a property read


def bind(sig: Signature, arguments: CallArguments) -> dict[str, Passed] | None:
    """What each parameter gets at this call (None: the call does not match the signature, or the
    way it binds `self` is not known)."""
    if sig.kind == "method":
        skip = {"instance": 1, "class": 0}.get(arguments.receiver)
    elif sig.kind == "classmethod":
        skip = 1 if arguments.receiver in ("instance", "class") else None
    elif sig.kind in ("function", "staticmethod"):
        skip = 0
    else:
        skip = None
    if skip is None:
        return None
    names = sig.positional[skip:]
    if len(arguments.positional) > len(names) and not sig.varargs:
        return None
    bound: dict[str, Passed] = dict(zip(names, arguments.positional))
    for name, value in arguments.keywords:
        if name in bound or (name not in sig.positional and name not in sig.keyword_only and not sig.varargs):
            return None  # an error at run time, or a `**kwargs` we cannot follow
        bound[name] = value
    defaults = dict(sig.defaults)
    for name in (*names, *sig.keyword_only):
        if name in bound:
            continue
        bound[name] = UNKNOWN_ARGUMENT if arguments.spread else defaults.get(name, UNKNOWN_ARGUMENT)
    for name, value in bound.items():
        if value.kind == "literal" and value.mutable and name in sig.mutated:
            bound[name] = UNKNOWN_ARGUMENT  # `acc=[]` that the body appends to
    return bound


def translate(guards: tuple[Guard, ...], bound: dict[str, Passed] | None) -> tuple[Guard, ...] | None:
    """The callee's guards as seen by the caller: None when one is false at this call; those on a
    parameter the caller passes through become guards on the caller's parameter; the others
    (true, or unknown) are dropped."""
    if bound is None:
        return ()
    kept: list[Guard] = []
    for guard in guards:
        value = bound.get(guard.parameter, UNKNOWN_ARGUMENT)
        if value.kind == "literal":
            if not guard.holds(value.value):
                return None
        elif value.kind == "parameter":
            kept.append(Guard(str(value.value), guard.test, guard.value))
    return tuple(kept)


ABORTING_CALLS = frozenset({"abort", "fail", "exit"})  # `abort(400)`: a framework's way to raise


def length_cap(test: ast.expr, body: list[ast.stmt]) -> tuple[str, bool] | None:
    """The name whose length an `if` caps for the code after it, and whether the body leaves:
    `if len(ids) > MAX: raise ...` (or `return`, `abort(...)`; also `>=`, `MAX < len(ids)`, and
    `len(ids) > MAX` among `or`ed tests), where MAX is a constant or a name (a setting): past it,
    `ids` holds at most MAX items. A body that rebinds the name instead (`ids = ids[:MAX]`) caps
    it when what it binds is bounded (the walk of the body says)."""
    tests = test.values if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or) else [test]
    for part in tests:
        name = _over_limit(part)
        if name is None:
            continue
        if exits(body) or _aborts(body[-1]):
            return name, True
        if len(tests) == 1 and any(isinstance(stmt, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in stmt.targets) for stmt in body):
            return name, False
    return None


def _over_limit(test: ast.expr) -> str | None:
    if not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return None
    left, op, right = test.left, test.ops[0], test.comparators[0]
    if isinstance(op, (ast.Lt, ast.LtE)):
        left, right = right, left
    elif not isinstance(op, (ast.Gt, ast.GtE)):
        return None
    if not (isinstance(left, ast.Call) and isinstance(left.func, ast.Name) and left.func.id == "len"
            and len(left.args) == 1 and isinstance(left.args[0], ast.Name)):
        return None
    limit_ok = isinstance(right, (ast.Name, ast.Attribute)) or (
        isinstance(right, ast.Constant) and isinstance(right.value, int) and not isinstance(right.value, bool))
    return left.args[0].id if limit_ok else None


def _aborts(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and \
        last_name(stmt.value.func) in ABORTING_CALLS
