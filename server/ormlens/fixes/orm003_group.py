"""ORM003: group the scanned collection once before the loop, then look the key up.

    for uid in user_ids:
        user_sessions = [s for s in sessions_by_user.values() if s.user_id == uid]
->
    sessions_by_user_id = defaultdict(list)
    for s in sessions_by_user.values():
        sessions_by_user_id[s.user_id].append(s)
    for uid in user_ids:
        user_sessions = list(sessions_by_user_id.get(uid, ()))

A new list each time, like the comprehension, with the items of a group in the order the scan
met them. Rewritten only when the collection can be iterated twice and nothing in the loop can
change it or the key: the loop neither rebinds, deletes, assigns into nor calls a method (other
than a read-only one) on the collection's root name, passes it nowhere but to read-only builtins,
and assigns no attribute the key reads.

Several scans in one scope are named together (in source order), so that fixes built one by one
from the same text never give two different indexes one name: scans of the same collection by the
same key share an index, built by identical text (edits applied together keep one copy)."""

from __future__ import annotations

import ast

import libcst as cst

from ormlens.config import Settings
from ormlens.fixes.base import Edit, Fix, SourceText, UnfixableError, inside, walk
from ormlens.fixes.plans import GroupOncePlan

# Methods that read a collection without changing it.
READ_ONLY_METHODS = frozenset({"values", "keys", "items", "get", "copy", "count", "index", "__contains__",
                               "__len__", "__iter__"})
# Builtins that read an argument without changing it.
READ_ONLY_FUNCTIONS = frozenset({"len", "list", "tuple", "set", "frozenset", "sorted", "dict", "sum", "min", "max",
                                 "any", "all", "enumerate", "zip", "iter", "reversed", "print", "repr", "str",
                                 "bool", "isinstance", "id", "hash"})
# Annotations of parameters that can be iterated more than once.
REITERABLE_TYPES = frozenset({"list", "List", "tuple", "Tuple", "set", "Set", "frozenset", "FrozenSet", "dict",
                              "Dict", "Sequence", "MutableSequence", "Mapping", "MutableMapping", "AbstractSet",
                              "MutableSet", "Collection"})
# Calls whose result can be iterated more than once.
REITERABLE_CALLS = frozenset({"list", "sorted", "tuple", "set", "frozenset", "dict", "defaultdict", "OrderedDict",
                              "Counter"})
REITERABLE_METHODS = frozenset({"all", "fetchall"})
VIEW_METHODS = ("values", "keys")


def build(source: SourceText, plan: GroupOncePlan, settings: Settings) -> Fix:
    scan = source.node_at(plan.scan, cst.ListComp)
    loop = source.node_at(plan.loop, cst.For)
    shape = _shape(scan)
    if shape is None or shape.item != plan.item:
        raise UnfixableError("not `[x for x in xs if <key of x> == <value>]`")
    item_side, outer_side = source.node_at(plan.item_side), source.node_at(plan.outer_side)
    if item_side is not shape.key or outer_side is not shape.other or \
            source.node_at(plan.collection) is not scan.for_in.iter:
        raise UnfixableError("the fix plan does not match the comprehension")
    if not _is_pure(outer_side):
        raise UnfixableError("the value compared is not a plain name or attribute: the rewrite evaluates it once")

    parents = source.parents
    between = _ancestors(scan, loop, parents)
    if between is None:
        raise UnfixableError("the scan is not inside the loop")
    if any(isinstance(node, (cst.FunctionDef, cst.Lambda, cst.GeneratorExp)) for node in between):
        raise UnfixableError("the scan runs later (in a function or generator), maybe after the collection changed")
    scope = _scope_of(loop, parents)
    collection = scan.for_in.iter
    base = _view_base(collection)
    if base is None:
        if not isinstance(collection, cst.Name) or not _reiterable(collection.value, scope, source.module):
            raise UnfixableError(f"cannot tell that `{source.code(collection).strip()}` can be iterated more than once")
        base = collection
    root = _root(base)
    if root is None:
        raise UnfixableError("the collection is not a name, an attribute or its .values()")
    _check_unchanged(loop, root.value, shape.key_attrs, parents)
    if "list" in _bound_names(source.text):
        raise UnfixableError("`list` names something else in this module")
    if _binds_other_defaultdict(source.text):
        raise UnfixableError("`defaultdict` names something else in this module")

    # Name every scan of the scope in source order: the same names whichever fix is built first.
    groups: dict[tuple[str, str], tuple[str, _Shape]] = {}
    taken: set[str] = set()
    for other in _scans_in(scope, source):
        group = _group_key(source, other)
        if group not in groups:
            groups[group] = (source.free_name(_wanted_name(other), taken), other)
            taken.add(groups[group][0])
    index, first = groups[_group_key(source, shape)]
    variable = first.item if _item_name_free(first.item, scope, parents) else source.free_name(first.item, taken)

    indent, unit = source.line_indent(plan.loop.line), source.module.default_indent
    newline = source.module.default_newline
    key = _raw(source, first.key)
    if variable != first.item:
        key = variable + key[len(first.item):] if key.startswith(first.item) else \
            cst.Module([]).code_for_node(first.key.deep_replace(_root(first.key), cst.Name(variable)))
    iterable = _raw(source, first.node.for_in.iter)
    iterable, key = (f"({code})" if "\n" in code else code for code in (iterable, key))
    insert = newline.join([
        f"{indent}{index} = defaultdict(list)",
        f"{indent}for {variable} in {iterable}:",
        f"{indent}{unit}{index}[{key}].append({variable})",
        "",
    ])
    at = source.offset(plan.loop.line, 0)
    edits = [Edit(at, at, insert),
             source.replace(plan.scan, f"list({index}.get({source.segment(plan.outer_side).strip()}, ()))")]
    imported = source.ensure_import("collections", "defaultdict")
    if imported is not None:
        edits.append(imported)
    title = f"Group `{_one_line(source.segment(plan.collection))}` once by " \
        f"`{_one_line(source.segment(plan.item_side))}` before the loop"
    return Fix(title, edits, kind="group_once")


# --- the comprehension -------------------------------------------------------------------------


class _Shape:
    """`[item for item in collection if key == other]` (or `other == key`), key a chain on item."""

    def __init__(self, node: cst.ListComp, item: str, key: cst.BaseExpression, other: cst.BaseExpression):
        self.node, self.item, self.key, self.other = node, item, key, other
        self.key_attrs = _attrs(key)


def _shape(node: cst.CSTNode) -> _Shape | None:
    if not isinstance(node, cst.ListComp):
        return None
    comp = node.for_in
    if comp.inner_for_in is not None or comp.asynchronous is not None or len(comp.ifs) != 1 or \
            not isinstance(comp.target, cst.Name) or not isinstance(node.elt, cst.Name) or \
            node.elt.value != comp.target.value:
        return None
    test = comp.ifs[0].test
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1 or \
            not isinstance(test.comparisons[0].operator, cst.Equal):
        return None
    item = comp.target.value
    left, right = test.left, test.comparisons[0].comparator
    on_left, on_right = _is_key_of(left, item), _is_key_of(right, item)
    if on_left == on_right or _mentions(right if on_left else left, item):
        return None
    return _Shape(node, item, left, right) if on_left else _Shape(node, item, right, left)


def _is_key_of(node: cst.BaseExpression, item: str) -> bool:
    """`item` or `item.a.b`: hashable-looking and computed from the item alone."""
    root = _root(node)
    return root is not None and root.value == item and not isinstance(node, cst.Subscript) and \
        all(not isinstance(n, cst.Subscript) for n in _chain(node))


def _scans_in(scope: cst.CSTNode, source: SourceText) -> list[_Shape]:
    shapes = [shape for node in walk(scope) if (shape := _shape(node)) is not None]
    return sorted(shapes, key=lambda shape: (source.position(shape.node).start.line,
                                              source.position(shape.node).start.column))


def _group_key(source: SourceText, shape: _Shape) -> tuple[str, str]:
    path = ".".join(_attrs(shape.key))
    return source.code(shape.node.for_in.iter).strip(), path


def _wanted_name(shape: _Shape) -> str:
    base = shape.node.for_in.iter
    view = _view_base(base)
    base = view if view is not None else base
    stem = base.value if isinstance(base, cst.Name) else base.attr.value if isinstance(base, cst.Attribute) else "rows"
    if "_by_" in stem:
        stem = stem[:stem.rindex("_by_")]
    stem = stem.strip("_") or "rows"
    attrs = _attrs(shape.key)
    return f"{stem}_by_{attrs[-1] if attrs else 'value'}"


# --- what the loop may not do ------------------------------------------------------------------


def _check_unchanged(loop: cst.For, root: str, key_attrs: list[str], parents: dict) -> None:
    for node in walk(loop):
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in ("setattr", "delattr"):
            raise UnfixableError(f"`{node.func.value}()` in the loop could change the key")
        for target in _targets(node):
            for name in _flatten(target):
                if isinstance(name, cst.Attribute) and name.attr.value in key_attrs:
                    raise UnfixableError(f"the loop assigns `.{name.attr.value}`, which the key reads")
        if isinstance(node, cst.Name) and node.value == root and _is_variable(node, parents) and \
                not _read_only_use(node, parents):
            raise UnfixableError(f"the loop may change `{root}` (assigned, deleted, passed on or called)")


def _read_only_use(name: cst.Name, parents: dict) -> bool:
    """Does this use of the collection's root name only read it?"""
    top: cst.CSTNode = name
    element = False  # through a subscript: an item of it is read, the collection is not changed
    while True:
        parent = parents.get(top)
        if isinstance(parent, (cst.Attribute, cst.Subscript)) and parent.value is top:
            element = element or isinstance(parent, cst.Subscript)
            top = parent
        else:
            break
    parent = parents.get(top)
    if isinstance(parent, cst.Call) and parent.func is top:
        return isinstance(top, cst.Attribute) and top.attr.value in READ_ONLY_METHODS
    if _is_target(top, parents):
        return False
    if element:
        return True
    if isinstance(parent, cst.Arg) and parent.value is top:
        call = parents.get(parent)
        return isinstance(call, cst.Call) and isinstance(call.func, cst.Name) and \
            call.func.value in READ_ONLY_FUNCTIONS
    if isinstance(parent, (cst.CompFor, cst.For)):
        return parent.iter is top
    if isinstance(parent, (cst.If, cst.While, cst.IfExp, cst.Assert)):
        return parent.test is top
    if isinstance(parent, (cst.Comparison, cst.ComparisonTarget)):
        return True
    if isinstance(parent, cst.UnaryOperation):
        return isinstance(parent.operator, cst.Not)
    return isinstance(parent, cst.Expr)


def _is_target(node: cst.CSTNode, parents: dict) -> bool:
    """Is `node` (part of) what an assignment, `del`, `for`, `with ... as` or `:=` binds?"""
    parent = parents.get(node)
    while isinstance(parent, (cst.Element, cst.StarredElement, cst.Tuple, cst.List)):
        node, parent = parent, parents.get(parent)
    if isinstance(parent, (cst.AssignTarget, cst.AsName)):
        return True
    return isinstance(parent, (cst.AnnAssign, cst.AugAssign, cst.Del, cst.For, cst.CompFor, cst.NamedExpr)) and \
        parent.target is node


def _targets(node: cst.CSTNode) -> list[cst.CSTNode]:
    if isinstance(node, cst.Assign):
        return [t.target for t in node.targets]
    if isinstance(node, (cst.AnnAssign, cst.AugAssign, cst.Del, cst.For, cst.NamedExpr)):
        return [node.target]
    if isinstance(node, cst.WithItem) and node.asname is not None:
        return [node.asname.name]
    return []


def _flatten(target: cst.CSTNode) -> list[cst.CSTNode]:
    if isinstance(target, (cst.Tuple, cst.List)):
        return [leaf for element in target.elements for leaf in _flatten(element.value)]
    if isinstance(target, cst.StarredElement):
        return _flatten(target.value)
    return [target]


# --- names and scopes --------------------------------------------------------------------------


def _reiterable(name: str, scope: cst.CSTNode, module: cst.Module) -> bool:
    """Whether every binding of `name` (in the function, else at module level) is a list, dict,
    set, tuple, comprehension, `list(...)`-like call, `.all()`, or a parameter annotated so."""
    places = [walk(scope)] if scope is module else [walk(scope), _walk_top_level(module)]
    for nodes in places:
        verdicts = [v for v in (_reiterable_binding(node, name) for node in nodes) if v is not None]
        if verdicts:
            return all(verdicts)
    return False


def _walk_top_level(module: cst.Module):
    """The module's nodes outside function and class bodies."""
    stack: list[cst.CSTNode] = [module]
    while stack:
        current = stack.pop()
        yield current
        if not isinstance(current, (cst.FunctionDef, cst.ClassDef)):
            stack.extend(reversed(current.children))


def _reiterable_binding(node: cst.CSTNode, name: str) -> bool | None:
    """None: `node` does not bind `name`."""
    if isinstance(node, cst.Param):
        if node.name.value != name:
            return None
        annotation = node.annotation.annotation if node.annotation is not None else None
        if isinstance(annotation, cst.Subscript):
            annotation = annotation.value
        tail = annotation.value if isinstance(annotation, cst.Name) else \
            annotation.attr.value if isinstance(annotation, cst.Attribute) else None
        return tail in REITERABLE_TYPES
    if isinstance(node, (cst.Assign, cst.AnnAssign)):
        targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
        if not any(isinstance(leaf, cst.Name) and leaf.value == name for t in targets for leaf in _flatten(t)):
            return None
        value = node.value
        if not all(isinstance(t, cst.Name) for t in targets) or value is None:
            return False
        if isinstance(value, (cst.List, cst.Set, cst.Dict, cst.Tuple, cst.ListComp, cst.SetComp, cst.DictComp)):
            return True
        if isinstance(value, cst.Call):
            func = value.func
            return isinstance(func, cst.Name) and func.value in REITERABLE_CALLS or \
                isinstance(func, cst.Attribute) and func.attr.value in REITERABLE_METHODS
        return False
    if isinstance(node, cst.AugAssign):
        return None  # `rows += more` keeps a list a list
    if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
        bound: cst.CSTNode | None = node.name
    elif isinstance(node, (cst.For, cst.CompFor, cst.NamedExpr)):
        bound = node.target
    elif isinstance(node, (cst.WithItem, cst.ImportAlias, cst.ExceptHandler)):
        bound = node.asname.name if node.asname is not None else node.name if isinstance(node, cst.ImportAlias) \
            else None
    elif isinstance(node, (cst.Global, cst.Nonlocal)):
        bound = node
    else:
        return None
    if isinstance(node, cst.ExceptHandler) and node.name is not None:
        bound = node.name.name
    names = [n for n in walk(bound)] if bound is not None else []
    return False if any(isinstance(n, cst.Name) and n.value == name for n in names) else None


def _item_name_free(item: str, scope: cst.CSTNode, parents: dict) -> bool:
    """Can a loop in `scope` bind `item`? Only if every use of the name in the scope is inside a
    comprehension that binds it itself (and not in that comprehension's first iterable)."""
    for node in walk(scope):
        if isinstance(node, cst.Name) and node.value == item and _is_variable(node, parents) and \
                not _bound_by_comprehension(node, item, parents):
            return False
    return True


def _bound_by_comprehension(node: cst.CSTNode, item: str, parents: dict) -> bool:
    parent = parents.get(node)
    while parent is not None:
        if isinstance(parent, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
            comp, binds = parent.for_in, False
            while comp is not None:
                binds = binds or any(isinstance(n, cst.Name) and n.value == item for n in walk(comp.target))
                comp = comp.inner_for_in
            # (the first iterable is evaluated outside the comprehension)
            if binds and not inside(node, parent.for_in.iter, parents):
                return True
        parent = parents.get(parent)
    return False


def _scope_of(loop: cst.For, parents: dict) -> cst.CSTNode:
    node = parents.get(loop)
    while node is not None:
        if isinstance(node, cst.ClassDef):
            raise UnfixableError("the loop is in a class body")
        if isinstance(node, (cst.FunctionDef, cst.Module)):
            return node
        node = parents.get(node)
    raise UnfixableError("the loop has no scope")


def _binds_other_defaultdict(text: str) -> bool:
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and node.module == "collections" and any(
                alias.name == "defaultdict" and alias.asname is None for alias in node.names):
            continue
        if "defaultdict" in _binds(node):
            return True
    return False


def _bound_names(text: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(text)):
        names |= _binds(node)
    return names


def _binds(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
        return {node.id}
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, ast.arg):
        return {node.arg}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {alias.asname or alias.name.split(".")[0] for alias in node.names}
    if isinstance(node, ast.ExceptHandler) and node.name:
        return {node.name}
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        return set(node.names)
    if isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
        return {node.name}
    if isinstance(node, ast.MatchMapping) and node.rest:
        return {node.rest}
    return set()


def _raw(source: SourceText, node: cst.CSTNode) -> str:
    """The node's text as written (without its own parentheses)."""
    where = source.position(node)
    return source.text[source.offset(where.start.line, where.start.column):
                       source.offset(where.end.line, where.end.column)]


def _one_line(code: str) -> str:
    return " ".join(code.split())


# --- trees -------------------------------------------------------------------------------------


def _ancestors(node: cst.CSTNode, outer: cst.CSTNode, parents: dict) -> list[cst.CSTNode] | None:
    """The nodes strictly between `node` and its ancestor `outer`; None if `outer` is not one."""
    found, current = [], parents.get(node)
    while current is not None and current is not outer:
        found.append(current)
        current = parents.get(current)
    return found if current is outer else None


def _is_variable(name: cst.Name, parents: dict) -> bool:
    """A variable, not an attribute's or a keyword argument's name."""
    parent = parents.get(name)
    if isinstance(parent, cst.Attribute) and parent.attr is name:
        return False
    return not (isinstance(parent, cst.Arg) and parent.keyword is name)


def _view_base(node: cst.BaseExpression) -> cst.BaseExpression | None:
    """`x` of `x.values()` / `x.keys()` when x is a name or attribute chain."""
    if isinstance(node, cst.Call) and not node.args and isinstance(node.func, cst.Attribute) and \
            node.func.attr.value in VIEW_METHODS and _root(node.func.value) is not None and \
            not any(isinstance(n, cst.Subscript) for n in _chain(node.func.value)):
        return node.func.value
    return None


def _chain(node: cst.BaseExpression) -> list[cst.BaseExpression]:
    chain = [node]
    while isinstance(node, (cst.Attribute, cst.Subscript)):
        node = node.value
        chain.append(node)
    return chain


def _root(node: cst.BaseExpression) -> cst.Name | None:
    last = _chain(node)[-1]
    return last if isinstance(last, cst.Name) else None


def _attrs(node: cst.BaseExpression) -> list[str]:
    return [n.attr.value for n in reversed(_chain(node)) if isinstance(n, cst.Attribute)]


def _is_pure(node: cst.BaseExpression) -> bool:
    """A name, attribute chain or constant subscript of one: reading it twice gives the same."""
    for part in _chain(node):
        if isinstance(part, cst.Subscript):
            if len(part.slice) != 1 or not isinstance(part.slice[0].slice, cst.Index) or \
                    not isinstance(part.slice[0].slice.value, (cst.Integer, cst.SimpleString)):
                return False
    return _root(node) is not None


def _mentions(node: cst.CSTNode, name: str) -> bool:
    return any(isinstance(n, cst.Name) and n.value == name for n in walk(node))
