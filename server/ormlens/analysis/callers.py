"""What a function's callers pass it: whether every call in the project gives a parameter a list
the caller writes out (`get_runs(work_queue_ids=[queue_id])`), so the parameter is bounded however
its own annotation reads (`list[UUID]`).

Read from the text of every loaded module, without their facts: a call is found by the function's
name (`name(...)`, `anything.name(...)`), so calls of other functions of that name count too (they
can only make the answer "not known"). Not known, and so not bounded, when the function has no
caller, a library's decorator (a framework calls it with its own arguments; a project decorator
passes the caller's on, by keyword as far as the analysis knows), a use of its name that is not a call (passed as a callback, stored), or a call that
spreads `*args`/`**kwargs` or passes anything but a literal there."""

from __future__ import annotations

import ast
import re

from ormlens.analysis.astutil import last_name, parameter_defaults
from ormlens.analysis.facts import FunctionRef
from ormlens.analysis.flow import Kind

PLAIN_DECORATORS = frozenset({"staticmethod", "classmethod"})
MAX_MODULES = 40  # modules whose text names the function


def mentioning(index, ref: FunctionRef) -> dict[str, str] | None:
    """The text of every loaded module that names the function (by path), what the answer below
    is read from; None when the function is not found."""
    decl = index.decl(ref.path)
    function = decl.function_node(ref.qualname)[0] if decl is not None else None
    if function is None:
        return None
    name = function.name
    return {module.path: module.source for module in map(index.decl, index.loaded())
            if module is not None and name in identifiers(module)}


def callers_pass_bounded(index, ref: FunctionRef, parameter: str, texts: dict[str, str]) -> bool:
    """Does every call of `ref` in the project pass `parameter` a literal of bounded length (a
    list, tuple or set written out, a constant) or leave it to a default that is one? `texts`:
    what `mentioning` found."""
    decl = index.decl(ref.path)
    function, cls = decl.function_node(ref.qualname) if decl is not None else (None, None)
    if function is None:
        return False
    wrapped = False  # by a project decorator: it calls the function, maybe with more arguments first
    for decorator in function.decorator_list:
        if last_name(decorator) in PLAIN_DECORATORS:
            continue
        if index.eval_static(decl, decorator).kind is not Kind.FUNCTION:
            return False  # a library's (a route, a task): the framework calls it
        wrapped = True
    name = function.name
    if name.startswith("__"):
        return False  # dunders run through operators and the runtime, not calls by name
    positional = [a.arg for a in [*function.args.posonlyargs, *function.args.args]]
    keyword_only = [a.arg for a in function.args.kwonlyargs]
    if parameter not in positional and parameter not in keyword_only:
        return False
    default = parameter_defaults(function).get(parameter)
    # A method called on an object or class: its first parameter is the receiver.
    method = cls is not None and "staticmethod" not in {last_name(d) for d in function.decorator_list}
    position = positional.index(parameter) - (1 if method else 0) if parameter in positional and not wrapped else None
    if len(texts) > MAX_MODULES:
        return False  # a name that common: its calls are not told apart (and reading them all costs)
    calls = 0
    for module in map(index.decl, texts):
        called: set[int] = set()
        mentioned: list[ast.AST] = []
        for node in ast.walk(index.whole(module).tree):
            if isinstance(node, ast.Call) and _names(node.func, name):
                called.add(id(node.func))
                calls += 1
                if not _bounded_argument(node, parameter, position, default, lambda n: _enum_class(index, module, n)):
                    return False
            elif _names(node, name) and isinstance(getattr(node, "ctx", None), ast.Load):
                mentioned.append(node)
        if any(id(node) not in called for node in mentioned):
            return False  # used otherwise than called: who calls it is not known
    return calls > 0


IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def identifiers(module) -> frozenset[str]:
    """The words of a module's text (once per text: kept on its declarations with the text they
    were read from, which an edit of its bodies or comments replaces)."""
    if module.words is None or module.words[0] is not module.source:
        module.words = (module.source, frozenset(IDENTIFIER.findall(module.source)))
    return module.words[1]


def _names(node: ast.AST, name: str) -> bool:
    return (isinstance(node, ast.Name) and node.id == name) or (isinstance(node, ast.Attribute) and node.attr == name)


def _bounded_argument(call: ast.Call, parameter: str, position: int | None, default: ast.expr | None,
                      enum_class=lambda node: False) -> bool:
    if any(isinstance(arg, ast.Starred) for arg in call.args) or any(kw.arg is None for kw in call.keywords):
        return False
    passed = next((kw.value for kw in call.keywords if kw.arg == parameter), None)
    if passed is None and position is not None and 0 <= position < len(call.args):
        passed = call.args[position]
    if passed is None:
        passed = default
    return passed is not None and (_bounded_literal(passed) or enum_class(passed))


def _enum_class(index, module, node: ast.expr) -> bool:
    """`Colour` passed where a collection is expected: a project enumeration, whose members are
    a closed set."""
    if not isinstance(node, (ast.Name, ast.Attribute)):
        return False
    value = index.eval_static(module, node)
    return value.kind is Kind.CLASS and isinstance(value.ref, tuple) and index.is_enum_class(*value.ref)


def _bounded_literal(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return True
    return isinstance(node, (ast.List, ast.Tuple, ast.Set)) and not any(isinstance(e, ast.Starred) for e in node.elts)
