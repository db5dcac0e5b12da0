"""What a function's callers pass it: how long a list a parameter gets, from the calls of the
function in the project (`get_runs(work_queue_ids=[queue_id])` is bounded however the annotation
reads; `tasks_of(session, every_member)` grows with the data).

The calls are found in the text of every loaded module by the function's name (`name(...)`,
`anything.name(...)`), so calls of other functions of that name count too (they can only make the
answer "unknown" or "unbounded"). What a call passes is read from a walk of the calling function
(interpreter.function_arguments): a list written out, `[x]`, a page (`.limit(n)`, `xs[:n]`) or one
row's collection is bounded; the rows of a query, or a list made from them, grow; the caller's own
parameter is asked of its own callers in turn (MAX_CALLER_DEPTH). A library's decorator means its
framework calls the function with a request's input. No caller in the project: a parameter
annotated as a list of any length is an entry point's input; else nothing is known."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from ormlens.analysis.astutil import is_none, last_name, parameter_defaults, unquote
from ormlens.analysis.facts import FunctionRef
from ormlens.analysis.flow import Kind, Size
from ormlens.analysis.models import collection_item

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
    # (What asks reads every module's declarations, recorded once per walk.)
    index.dependencies.read_many(("declarations of", index.loaded_count()), index.loaded)
    changes = index.text_changes
    kept = index.mentioned.get(name)
    if kept is None:
        found = {module.path: module.source for module in map(index.decl, index.loaded())
                 if module is not None and name in identifiers(module)}
    elif kept[1] < len(changes):  # modules read, forgotten or changed since: only those are read again
        found = dict(kept[0])
        for path in dict.fromkeys(changes[kept[1]:]):
            module = index.decl(path) if index.is_loaded(path) else None
            if module is not None and name in identifiers(module):
                found[path] = module.source
            else:
                found.pop(path, None)
    else:
        return kept[0]
    index.mentioned[name] = (found, len(changes))
    return found


IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def identifiers(module) -> frozenset[str]:
    """The words of a module's text (once per text: kept on its declarations with the text they
    were read from, which an edit of its bodies or comments replaces)."""
    if module.words is None or module.words[0] is not module.source:
        module.words = (module.source, frozenset(IDENTIFIER.findall(module.source)))
    return module.words[1]


def _bounded_literal(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return True
    return isinstance(node, (ast.List, ast.Tuple, ast.Set)) and not any(isinstance(e, ast.Starred) for e in node.elts)


# --- what callers' values pass (the flow at each call) ---------------------------------------------

BOUNDED, UNBOUNDED, UNKNOWN = "bounded", "unbounded", "unknown"
MAX_CALLER_DEPTH = 3  # how many callers up a parameter passed on is followed


def parameter_bound(index, ref: FunctionRef, parameter: str, texts: dict[str, str], depth: int = 0,
                    seen: frozenset = frozenset(), written_out: bool = False) -> str:
    """How long a list a parameter gets, from what every call of `ref` in the project passes it:
    "unbounded" when some caller passes one that grows with the data (the rows of a query not
    capped, request input: a parameter of a function a library's decorator registers, which its
    framework calls with what a request holds, or a caller's parameter that is so); "bounded" when
    every caller passes a bounded one (a list written out, `[x]`, a page of a `.limit(n)`ed query or
    an `xs[:n]` slice, an enum's members, or its own parameter that every one of its callers
    fills bounded); else "unknown" (no caller found, a use that is not a call, a value the
    analysis cannot size): the rules say nothing then. `written_out` (how many turns a loop over
    it takes): only what the code writes out bounds it, a literal or an enumeration class."""
    decl = index.decl(ref.path)
    function, cls = decl.function_node(ref.qualname) if decl is not None else (None, None)
    if function is None:
        return UNKNOWN
    wrapped = False
    for decorator in function.decorator_list:
        if last_name(decorator) in PLAIN_DECORATORS:
            continue
        if index.eval_static(decl, decorator).kind is not Kind.FUNCTION:
            return UNBOUNDED  # a library's (a route, a task): its framework calls it with request input
        wrapped = True
    name = function.name
    if name.startswith("__"):
        return UNKNOWN  # dunders run through operators and the runtime, not calls by name
    positional = [a.arg for a in [*function.args.posonlyargs, *function.args.args]]
    keyword_only = [a.arg for a in function.args.kwonlyargs]
    if parameter not in positional and parameter not in keyword_only:
        return UNKNOWN
    default = parameter_defaults(function).get(parameter)
    method = cls is not None and "staticmethod" not in {last_name(d) for d in function.decorator_list}
    position = positional.index(parameter) - (1 if method else 0) if parameter in positional and not wrapped else None
    if len(texts) > MAX_MODULES:
        return UNKNOWN  # a name that common: its calls are not told apart
    seen = seen | {(ref, parameter)}
    answers: set[str] = set()
    for module in map(index.decl, texts):
        if test_module(module.path):
            continue  # tests pass fixtures, not what the program meets
        calls, otherwise = _calls(index, module).get(name, ((), False))
        if otherwise:
            answers.add(UNKNOWN)  # used otherwise than called (a callback): who calls it is not known
        for call in calls:
            answers.add(_passed_bound(index, module, decl, call, parameter, position, default, depth, seen,
                                      written_out))
            if UNBOUNDED in answers:
                return UNBOUNDED
    if not answers:
        # No caller in the project: called from outside it (a library's API, a framework, a
        # script). Its annotation is then all that is known of what it gets: a list of any length
        # (`ids: list[int]`) is reported; an unannotated parameter cannot be told.
        argument = next(a for a in [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]
                        if a.arg == parameter)
        return UNBOUNDED if declares_a_list(argument.annotation) else UNKNOWN
    return BOUNDED if answers == {BOUNDED} else UNKNOWN


def test_module(path: str) -> bool:
    """A module of tests: under a `tests`/`test` directory, or named `test_*.py`, `*_test(s).py`,
    `conftest.py`."""
    parts = Path(path).parts
    name = parts[-1] if parts else ""
    return any(part in ("tests", "test") for part in parts[:-1]) or name.startswith("test_") or \
        name.endswith(("_test.py", "_tests.py")) or name == "conftest.py"


def declares_a_list(annotation: ast.expr | None) -> bool:
    """`list[int]`, `Sequence[str] | None`, `Optional[set[UUID]]`, `Annotated[list[int], ...]`:
    a collection of any length (not `tuple[int, int]`)."""
    if annotation is None:
        return False
    node = unquote(annotation)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return any(declares_a_list(side) for side in (node.left, node.right) if not is_none(side))
    if isinstance(node, ast.Subscript) and last_name(node.value) in ("Optional", "Union", "Annotated"):
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if last_name(node.value) == "Annotated":
            items = items[:1]
        return any(declares_a_list(item) for item in items if not is_none(item))
    if collection_item(node) is None:
        return False
    if isinstance(node, ast.Subscript) and last_name(node.value) in ("tuple", "Tuple"):
        return isinstance(node.slice, ast.Tuple) and any(
            isinstance(e, ast.Constant) and e.value is Ellipsis for e in node.slice.elts)
    return True


def _calls(index, module) -> dict[str, tuple[list, bool]]:
    """Per name called in the module (`name(...)`, `x.name(...)`): each call as (its line, its
    arguments, its keywords), each argument `_described`; and whether the name is also used
    otherwise than called. Read from the text once, kept on its declarations with the text it was
    read from (a loop over a parameter asks about its function: a big module's many loops would
    otherwise walk it once each), and as plain data: the module's bodies may be released."""
    kept = module.derived.get("callers.calls")
    if kept is not None and kept[0] is module.source:
        return kept[1]
    calls: dict[str, tuple[list, bool]] = {}
    called: set[int] = set()
    for node in ast.walk(index.whole(module).tree):  # (a call before its function: breadth first)
        if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
            called.add(id(node.func))
            name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            calls.setdefault(name, ([], False))[0].append(
                (node.lineno, [_described(a) for a in node.args],
                 [(kw.arg, "*" if kw.arg is None else _described(kw.value)) for kw in node.keywords]))
        elif isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Load) and id(node) not in called:
            name = node.id if isinstance(node, ast.Name) else node.attr
            calls[name] = (calls.get(name, ([], False))[0], True)
    module.derived["callers.calls"] = (module.source, calls)
    return calls


def _described(node: ast.expr):
    """An argument: "literal" (of bounded length), "*" (spread), or (its span, its text when it is
    a dotted name (maybe an enumeration class), else None)."""
    if isinstance(node, ast.Starred):
        return "*"
    if _bounded_literal(node):
        return "literal"
    dotted = node
    while isinstance(dotted, ast.Attribute):
        dotted = dotted.value
    text = ast.unparse(node) if isinstance(dotted, ast.Name) else None
    return (node.lineno, node.col_offset, node.end_lineno, node.end_col_offset), text


def _passed_bound(index, module, decl, call: tuple, parameter: str, position: int | None,
                  default: ast.expr | None, depth: int, seen: frozenset, written_out: bool) -> str:
    line, args, keywords = call
    if "*" in args or any(value == "*" for _, value in keywords):
        return UNKNOWN
    passed = next((value for arg, value in keywords if arg == parameter), None)
    if passed is None and position is not None and 0 <= position < len(args):
        passed = args[position]
    if passed is None:
        return BOUNDED if default is None or _bounded_literal(default) or _enum_class(index, decl, default) \
            else UNKNOWN
    if passed == "literal":
        return BOUNDED
    span, text = passed
    if text is not None and _enum_class(index, module, ast.parse(text, mode="eval").body):
        return BOUNDED  # an enumeration class: its members are a closed set
    if written_out:
        return UNKNOWN
    found = caller_values(index, module, line)
    if found is None:
        return UNKNOWN
    caller, values = found
    answer = values.get(span, UNKNOWN)
    if isinstance(answer, tuple):  # the caller's own parameter: what its callers pass
        if depth + 1 >= MAX_CALLER_DEPTH or (caller, answer[1]) in seen:
            return UNKNOWN
        return index.parameter_bound(caller, answer[1], depth + 1, seen)
    return answer


def _enum_class(index, module, node: ast.expr) -> bool:
    """`Colour` passed where a collection is expected: a project enumeration, whose members are
    a closed set."""
    if not isinstance(node, (ast.Name, ast.Attribute)):
        return False
    value = index.eval_static(module, node)
    return value.kind is Kind.CLASS and isinstance(value.ref, tuple) and index.is_enum_class(*value.ref)


def caller_values(index, module, line: int) -> tuple[FunctionRef, dict] | None:
    """The function of `module` that holds the call at `line` (a module-level function or a method
    of a top-level class), and the sizes of the arguments of the calls in it, from a walk of it."""
    for stmt in module.tree.body:
        holders = [stmt] if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) else \
            [s for s in stmt.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))] \
            if isinstance(stmt, ast.ClassDef) else []
        for holder in holders:
            if holder.lineno <= line <= (holder.end_lineno or holder.lineno):
                qualname = holder.name if holder is stmt else f"{stmt.name}.{holder.name}"
                ref = FunctionRef(module.path, qualname)
                return ref, index.argument_sizes(ref)
    return None


def argument_sizes(b, call: ast.Call, args: list, kwargs: dict) -> dict:
    """The sizes of what `call` passes: "bounded", "unbounded" (rows of a query not capped, a list
    built from them), "unknown", or ("parameter", name) for a parameter of the function walked (or
    a list made from one item per item of it), whose callers then say."""
    passed = [*zip(call.args, args), *((kw.value, kwargs[kw.arg]) for kw in call.keywords if kw.arg in kwargs)]
    sizes = {}
    for node, value in passed:
        own = b.parameter_values.get(id(value))
        if own is not None and own[0] is value:
            size = ("parameter", own[1]) if own[2] == b.frame.qualname else UNKNOWN
        elif value.capped or value.size is Size.BOUNDED:
            size = BOUNDED
        elif value.size is Size.UNBOUNDED and id(value) not in b.untyped_parameters:
            size = UNBOUNDED
        else:
            size = UNKNOWN
        sizes[(node.lineno, node.col_offset, node.end_lineno, node.end_col_offset)] = size
    return sizes
