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
        found, otherwise = _calls(index, module).get(name, ((), False))
        if otherwise:
            return False  # used otherwise than called: who calls it is not known
        for call in found:
            calls += 1
            passed = _passed(call, parameter, position)
            if passed is None:
                if default is None or not (_bounded_literal(default) or _enum_class(index, decl, default)):
                    return False
            elif passed == "*" or passed == "?":
                return False  # spread, or anything but a literal
            elif passed != "literal" and not _enum_class(index, module, ast.parse(passed, mode="eval").body):
                return False
    return calls > 0


def _calls(index, module) -> dict[str, tuple[list, bool]]:
    """Per name called in the module (`name(...)`, `x.name(...)`): each call's arguments as
    `_described`, and whether the name is also used otherwise than called (read from the text
    once, kept on its declarations with the text it was read from)."""
    kept = module.derived.get("callers.calls")
    if kept is not None and kept[0] is module.source:
        return kept[1]
    calls: dict[str, tuple[list, bool]] = {}
    called: set[int] = set()
    for node in ast.walk(index.whole(module).tree):  # (a call before its function: breadth first)
        if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
            called.add(id(node.func))
            name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            entry = calls.setdefault(name, ([], False))
            entry[0].append(([_described(a) for a in node.args],
                             [(kw.arg, "*" if kw.arg is None else _described(kw.value)) for kw in node.keywords]))
        elif isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Load) and id(node) not in called:
            name = node.id if isinstance(node, ast.Name) else node.attr
            calls[name] = (calls.get(name, ([], False))[0], True)
    module.derived["callers.calls"] = (module.source, calls)
    return calls


def _described(node: ast.expr) -> str:
    """An argument: "literal" (of bounded length), "*" (spread), a dotted name's text (maybe an
    enumeration class), or "?"."""
    if isinstance(node, ast.Starred):
        return "*"
    if _bounded_literal(node):
        return "literal"
    dotted = node
    while isinstance(dotted, ast.Attribute):
        dotted = dotted.value
    return ast.unparse(node) if isinstance(dotted, ast.Name) else "?"


def _passed(call: tuple[list, list], parameter: str, position: int | None) -> str | None:
    """What a described call passes `parameter` ("*" when it spreads anything), None: nothing."""
    args, keywords = call
    if "*" in args or any(arg is None for arg, _ in keywords):
        return "*"
    passed = next((value for arg, value in keywords if arg == parameter), None)
    if passed is None and position is not None and 0 <= position < len(args):
        passed = args[position]
    return passed


IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def identifiers(module) -> frozenset[str]:
    """The words of a module's text (once per text: kept on its declarations with the text they
    were read from, which an edit of its bodies or comments replaces)."""
    if module.words is None or module.words[0] is not module.source:
        module.words = (module.source, frozenset(IDENTIFIER.findall(module.source)))
    return module.words[1]


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
