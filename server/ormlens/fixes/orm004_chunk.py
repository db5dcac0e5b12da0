"""ORM004: run an unchunked `.in_(xs)` query once per chunk of distinct values.

    sessions = Session.query.filter(Session.user_id.in_(user_ids)).all()
->
    distinct_user_ids = list(dict.fromkeys(user_ids))
    sessions = []
    for start in range(0, len(distinct_user_ids), 1000):
        sessions += Session.query.filter(Session.user_id.in_(distinct_user_ids[start:start + 1000])).all()

The values are made distinct first (`dict.fromkeys` keeps their order): an id repeated in two
chunks would otherwise fetch its rows twice. Each row matches exactly one value of the column, so
the chunks together return the rows of the one query, each once. Only rewritten when the query is
the whole value of `name = <query>` and its chain holds nothing whose result depends on seeing
every value at once (`limit`, `distinct`, `group_by`, joins, aggregates...)."""

from __future__ import annotations

import ast

import libcst as cst

from ormlens.config import Settings
from ormlens.fixes.base import Edit, Fix, SourceText, UnfixableError, dotted, walk
from ormlens.fixes.plans import ChunkInPlan

# Chain methods that filter, load or order rows one by one: running the query per chunk of the
# IN list and concatenating gives the same rows. Anything else (limit, offset, distinct,
# group_by, having, join, with_entities, union...) can change the result when chunked.
ROW_WISE = frozenset({"filter", "filter_by", "where", "options", "order_by", "execution_options"})
# Session methods whose first argument is a select() statement that they run.
STATEMENT_METHODS = ("scalars", "execute")
BUILTINS_USED = ("list", "dict", "len", "range")


def build(source: SourceText, plan: ChunkInPlan, settings: Settings) -> Fix:
    size = plan.chunk_size or settings.chunk_size  # (the size ORM004's message advises)
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise UnfixableError(f"chunk size {size!r}")
    query = source.node_at(plan.query, cst.Call)
    in_call = source.node_at(plan.in_call, cst.Call)
    argument = source.node_at(plan.argument)
    statement, line = _assignment_of(source, query)
    filters = _row_wise_chain(statement.value)
    if not any(in_call is arg.value for call in filters for arg in call.args if arg.keyword is None and not arg.star):
        raise UnfixableError("the .in_() call is not one of the query's own filters")
    if not (isinstance(in_call.func, cst.Attribute) and in_call.func.attr.value == "in_" and len(in_call.args) == 1
            and in_call.args[0].value is argument and in_call.args[0].keyword is None and not in_call.args[0].star):
        raise UnfixableError("not `<column>.in_(<values>)`")

    target = statement.target if isinstance(statement, cst.AnnAssign) else statement.targets[0].target
    name = target.value
    if name in _names_used(statement.value, skip=argument):
        raise UnfixableError(f"the query reads `{name}`, which the rewrite empties first")
    shadowed = [b for b in BUILTINS_USED if b in _bound_names(source.text)]
    if shadowed:
        raise UnfixableError(f"`{shadowed[0]}` is not the builtin in this module")

    distinct = source.free_name(f"distinct_{_stem(argument)}")
    start = source.free_name("start", {distinct})
    where = source.position(statement)
    begin, end = source.offset(where.start.line, where.start.column), source.offset(where.end.line, where.end.column)
    # The value as written (with its parentheses), the argument replaced by the chunk.
    before = statement.annotation if isinstance(statement, cst.AnnAssign) else target
    equal = source.text.index("=", _end(source, before), end)
    arg_start, arg_end = source.range_of(plan.argument)
    value = source.text[equal + 1:arg_start].lstrip() + f"{distinct}[{start}:{start} + {size}]" + \
        source.text[arg_end:end]
    indent, unit = source.line_indent(line), source.module.default_indent
    newline = source.module.default_newline
    if "\n" in value and not _has_multiline_string(statement.value):
        value = value.replace("\n", "\n" + unit)  # continuation lines move in with the statement
    empty = f"{name}: {source.code(statement.annotation.annotation)} = []" \
        if isinstance(statement, cst.AnnAssign) else f"{name} = []"
    text = newline.join([
        f"{distinct} = list(dict.fromkeys({source.segment(plan.argument)}))",
        f"{indent}{empty}",
        f"{indent}for {start} in range(0, len({distinct}), {size}):",
        f"{indent}{unit}{name} += {value}",
    ])
    edit = Edit(begin, end, text)
    ordered = plan.ordered
    why = ("rows are sorted within each chunk, not across chunks: the order_by no longer holds for the whole list"
           if ordered else "row order across chunks may differ: the query has no order_by")
    return Fix(f"Query in chunks of {size:,} distinct values", [edit], safe=False, why_unsafe=why,
               kind="chunk_in")


# --- the query ---------------------------------------------------------------------------------


def _row_wise_chain(query: cst.Call) -> list[cst.Call]:
    """The filter/where calls of a `... .all()` chain whose every step is row-wise, or raise."""
    if not (isinstance(query.func, cst.Attribute) and query.func.attr.value == "all" and not query.args):
        raise UnfixableError("the query does not end in .all()")
    filters: list[cst.Call] = []
    node: cst.BaseExpression = query.func.value
    while True:
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            method = node.func.attr.value
            if method in STATEMENT_METHODS and node.args:
                first = node.args[0]
                if len(node.args) != 1 or first.keyword is not None or first.star:
                    raise UnfixableError(f"{method}() with other than one statement")
                return filters + _select_chain(first.value)
            if method == "scalars" and not node.args:  # Result.scalars()
                node = node.func.value
                continue
            if method == "query":
                _check_entities(node, "query")
                return filters
            if method not in ROW_WISE:
                raise UnfixableError(f"`.{method}()` in the query: run per chunk it can give other rows")
            if method in ("filter", "where"):
                filters.append(node)
            node = node.func.value
        elif isinstance(node, cst.Attribute) and node.attr.value == "query" and \
                isinstance(node.value, (cst.Name, cst.Attribute)):
            return filters  # Flask-SQLAlchemy `Model.query`
        else:
            raise UnfixableError(f"not a query chain: {type(node).__name__} at its start")


def _select_chain(statement: cst.BaseExpression) -> list[cst.Call]:
    filters: list[cst.Call] = []
    node = statement
    while isinstance(node, cst.Call):
        func = node.func
        if isinstance(func, cst.Name) and func.value == "select" or \
                isinstance(func, cst.Attribute) and func.attr.value == "select" and \
                isinstance(func.value, (cst.Name, cst.Attribute)):
            _check_entities(node, "select")
            return filters
        if not isinstance(func, cst.Attribute):
            break
        if func.attr.value not in ROW_WISE:
            raise UnfixableError(f"`.{func.attr.value}()` in the statement: run per chunk it can give other rows")
        if func.attr.value in ("filter", "where"):
            filters.append(node)
        node = func.value
    raise UnfixableError("the statement run is not a visible select(...) chain")


def _check_entities(call: cst.Call, what: str) -> None:
    """Models and columns only: an aggregate (`func.count(...)`) would be computed per chunk."""
    if not call.args or any(arg.keyword is not None or arg.star or not dotted(arg.value) for arg in call.args):
        raise UnfixableError(f"{what}() of other than models and columns")


def _assignment_of(source: SourceText, query: cst.Call) -> tuple[cst.Assign | cst.AnnAssign, int]:
    """`name = <query>` (or `name: T = <query>`; `<query>.all()` for `session.scalars(...)`),
    alone on its line(s), and its first line."""
    for node in walk(source.module):
        if isinstance(node, cst.SimpleStatementLine) and len(node.body) == 1:
            small = node.body[0]
            if not isinstance(small, (cst.Assign, cst.AnnAssign)) or small.value is None:
                continue
            value = small.value
            if value is not query and not (
                    isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and
                    value.func.attr.value == "all" and value.func.value is query):
                continue
            target = small.target if isinstance(small, cst.AnnAssign) else \
                small.targets[0].target if len(small.targets) == 1 else None
            if isinstance(target, cst.Name):
                return small, source.position(small).start.line
            break
    raise UnfixableError("the query is not the whole value of `name = <query>` on its own line")


# --- helpers -----------------------------------------------------------------------------------


def _end(source: SourceText, node: cst.CSTNode) -> int:
    where = source.position(node).end
    return source.offset(where.line, where.column)


def _stem(argument: cst.BaseExpression) -> str:
    if isinstance(argument, cst.Name):
        return argument.value.lstrip("_") or "values"
    if isinstance(argument, cst.Attribute):
        return argument.attr.value.lstrip("_") or "values"
    return "values"


def _names_used(node: cst.CSTNode, skip: cst.CSTNode) -> set[str]:
    """Variable names read in `node` outside `skip` (not attribute or keyword names)."""
    names: set[str] = set()
    stack: list[cst.CSTNode] = [node]
    while stack:
        current = stack.pop()
        if current is skip:
            continue
        if isinstance(current, cst.Name):
            names.add(current.value)
        elif isinstance(current, cst.Attribute):
            stack.append(current.value)
            continue
        elif isinstance(current, cst.Arg):
            stack.append(current.value)
            continue
        stack.extend(current.children)
    return names


def _has_multiline_string(node: cst.CSTNode) -> bool:
    return any(isinstance(n, (cst.SimpleString, cst.FormattedString)) and "\n" in cst.Module([]).code_for_node(n)
               for n in walk(node))


def _bound_names(text: str) -> set[str]:
    """Every name the module binds anywhere (assignment, def, import, parameter...)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.alias):
            names.add(node.asname or node.name.split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
    return names
