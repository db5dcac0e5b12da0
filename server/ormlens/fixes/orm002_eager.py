"""ORM002: eager-load the relationship on the query that loads the rows.

    session.query(Author).all()          -> session.query(Author).options(selectinload(Author.books)).all()
    Author.query.filter(...).all()       -> Author.query.options(selectinload(Author.books)).filter(...).all()
    session.query(A).options(x).all()    -> session.query(A).options(x, selectinload(A.books)).all()
    session.scalars(select(Author))      -> session.scalars(select(Author).options(selectinload(Author.books)))
    session.execute(select(A)).scalars() -> session.execute(select(A).options(selectinload(A.books))).scalars()

The loader names the model as the query does (`models.Author` stays `models.Author`). Rows that
came from a name (`q.all()` with `q` built elsewhere, `session.scalars(stmt)`) are not rewritten:
the query is not in the span the finding points at."""

from __future__ import annotations

import libcst as cst

from ormlens.config import Settings
from ormlens.fixes.base import Edit, Fix, SourceText, UnfixableError, binds_at_top_level, dotted
from ormlens.fixes.plans import EagerLoadPlan

LOADERS = ("selectinload", "joinedload")
LOADER_MODULE = "sqlalchemy.orm"
# Session methods whose first argument is a select() statement that they run.
# Session methods whose first argument is the statement (SQLModel's exec, AsyncSession's stream*,
# Flask-SQLAlchemy 3's db.paginate / db.first_or_404 / db.one_or_404).
STATEMENT_METHODS = ("scalars", "execute", "scalar", "exec", "stream", "stream_scalars", "paginate",
                     "first_or_404", "one_or_404")


def build(source: SourceText, plan: EagerLoadPlan, settings: Settings) -> Fix:
    loader, model, relationship = plan.loader, plan.model, plan.relationship
    if loader not in LOADERS or not relationship.isidentifier():
        raise UnfixableError(f"unexpected fix plan {plan!r}")
    query = source.node_at(plan.query, cst.Call)
    start, entity, options = _query_start(query)
    option = f"{loader}({source.code(entity).strip()}.{relationship})"
    edits = [_add_option(source, options, option) if options is not None
             else _insert_after(source, start, f".options({option})")]
    imported = source.ensure_import(LOADER_MODULE, loader)
    if imported is not None:
        if binds_at_top_level(source.module, loader):
            raise UnfixableError(f"`{loader}` names something else in this module")
        edits.append(imported)
    return Fix(f"Eager-load {model}.{relationship} with {loader}", edits, kind="eager_load")


# --- the query chain ---------------------------------------------------------------------------


def _query_start(query: cst.Call) -> tuple[cst.BaseExpression, cst.BaseExpression, cst.Call | None]:
    """(the node the query starts with, the model expression, its `.options(...)` call closest
    to the start or None) for a 1.x chain (`session.query(M)...`, `M.query...`) or a statement
    run by the session (`session.scalars(select(M)...)`, `session.execute(select(M)...)...`)."""
    options: list[cst.Call] = []
    node: cst.BaseExpression = query
    while True:
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            method = node.func.attr.value
            # (`Result.scalars(0)` takes a column index: the statement is further in.)
            if method in STATEMENT_METHODS and node.args and not isinstance(node.args[0].value, cst.Integer):
                return _select_start(_positional(node, method))
            if method == "query" and node.args:
                return node, _entity(node, "query"), options[-1] if options else None
            if method == "options":
                options.append(node)
            node = node.func.value
        elif isinstance(node, cst.Attribute) and node.attr.value == "query" and \
                isinstance(node.value, (cst.Name, cst.Attribute)):
            return node, node.value, options[-1] if options else None  # Flask-SQLAlchemy `M.query`
        else:
            raise UnfixableError(f"not a query chain: {type(node).__name__} at its start")


def _select_start(statement: cst.BaseExpression) -> tuple[cst.BaseExpression, cst.BaseExpression, cst.Call | None]:
    options: list[cst.Call] = []
    node = statement
    while isinstance(node, cst.Call):
        func = node.func
        if isinstance(func, cst.Name) and func.value == "select" or \
                isinstance(func, cst.Attribute) and func.attr.value == "select" and \
                isinstance(func.value, (cst.Name, cst.Attribute)):  # sa.select, db.select
            return node, _entity(node, "select"), options[-1] if options else None
        if not isinstance(func, cst.Attribute):
            break
        if func.attr.value == "options":
            options.append(node)
        node = func.value
    raise UnfixableError("the statement run is not a visible select(...) chain")


def _positional(call: cst.Call, what: str) -> cst.BaseExpression:
    first = call.args[0]
    if first.keyword is not None or first.star:
        raise UnfixableError(f"{what}() without a plain first argument")
    return first.value


def _entity(call: cst.Call, what: str) -> cst.BaseExpression:
    """The one model a `query(M)` / `select(M)` loads, as a name or dotted name."""
    if len(call.args) != 1:
        raise UnfixableError(f"{what}() of other than one entity")
    entity = _positional(call, what)
    if not dotted(entity):
        raise UnfixableError(f"{what}() of an expression, not a model name")
    return entity


# --- edits -------------------------------------------------------------------------------------


def _offsets(source: SourceText, node: cst.CSTNode) -> tuple[int, int]:
    where = source.position(node)  # without the node's own parentheses
    return (source.offset(where.start.line, where.start.column),
            source.offset(where.end.line, where.end.column))


def _insert_after(source: SourceText, node: cst.CSTNode, text: str) -> Edit:
    end = _offsets(source, node)[1]
    if getattr(node, "rpar", ()):  # `(session.query(M)).all()`: after its own closing parentheses
        code = source.code(node)
        bare = source.code(node.with_changes(lpar=(), rpar=()))
        end += len(code) - code.index(bare) - len(bare)
    return Edit(end, end, text)


def _add_option(source: SourceText, options: cst.Call, option: str) -> Edit:
    """One more argument of an existing `.options(...)` call."""
    if not options.args:
        end = _offsets(source, options)[1] - 1  # before its `)`
        if source.text[end] != ")":
            raise UnfixableError("cannot find the end of .options()")
        return Edit(end, end, option)
    last = options.args[-1]
    if last.star == "**" or last.keyword is not None:
        raise UnfixableError(".options() ends with keyword arguments")
    value_end = _offsets(source, last.value)[1]
    comma = last.comma
    if isinstance(comma, cst.Comma) and isinstance(comma.whitespace_after, cst.ParenthesizedWhitespace):
        # One argument per line with a trailing comma: one more line in the same style.
        indent = source.line_indent(source.position(last).start.line)
        after_comma = value_end + len(cst.Module([]).code_for_node(comma.whitespace_before)) + 1
        if source.text[after_comma - 1] != ",":
            raise UnfixableError("cannot find the trailing comma of .options(...)")
        # After a comment on the comma's line: it stays with the argument it was written for.
        first_line = comma.whitespace_after.first_line
        line_end = after_comma + len(first_line.whitespace.value) + \
            (len(first_line.comment.value) if first_line.comment is not None else 0)
        newline = source.module.default_newline
        return Edit(line_end, line_end, f"{newline}{indent}{option},")
    return Edit(value_end, value_end, f", {option}")


# --- names -------------------------------------------------------------------------------------

