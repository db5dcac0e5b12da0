"""The interpreter's calls: of methods (on the ORM's values through the plugins, on
containers), of project functions (their summaries), of builtins; `map`/`filter`, chunking helpers,
what a container holds once rows are added to it."""

from __future__ import annotations

import ast

from ormlens.analysis import orm as hooks
from ormlens.analysis import queries
from ormlens.analysis.astutil import guarded_attributes, last_name
from ormlens.analysis.declarations import ClassDecl
from ormlens.analysis.callers import argument_sizes
from ormlens.analysis.facts import FunctionRef, InCall, NullableSum
from ormlens.analysis.flow import UNKNOWN, Kind, Size, Value, keyed_rows, merge_deps, unknown
from ormlens.analysis.models import ModelInfo
from ormlens.analysis.returns import summarize_returns
from ormlens.analysis.templates import renders
from ormlens.analysis.shapes import (
    CHUNKER_NAME,
    CONTAINER_KINDS,
    counts_pages,
    divides_by_a_size,
    holding,
    is_constant_scalar,
    looks_like_session,
    run_before,
)
from ormlens.findings import Span


# Functions whose `key=` function runs once per item of their one positional argument.
KEY_FUNCTIONS = frozenset({"builtins.sorted", "builtins.min", "builtins.max"})


class Calls:
    """Evaluating calls (a part of interpreter.FactsBuilder)."""

    # --- calls -----------------------------------------------------------------------------------

    def eval_Call(self, node: ast.Call) -> Value:
        if self.frame.emptied:
            self.forget_emptied(node)
        drained = self._drains.get(id(node))
        if drained is not None:  # `todo.pop()` in the loop that drains `todo`: its next item
            self.eval_children(node)
            return self.element_of(drained[1], drained[0])
        func = node.func
        done: dict[int, Value] = {}  # arguments already evaluated here (not twice: a query there runs once)
        if isinstance(func, ast.Attribute):
            base = self.eval(func.value)
            callee = None
            if func.attr == "sort" and base.kind in (Kind.ROWS, Kind.COLLECTION):
                done = self.eval_key_lambda(node, func.value, base)  # `rows.sort(key=lambda r: ...)`
        else:
            base = None
            callee = self.eval(func)
            if callee.kind is Kind.EXTERNAL and callee.name in KEY_FUNCTIONS and len(node.args) == 1:
                first = self.eval(node.args[0])
                done = {id(node.args[0]): first, **self.eval_key_lambda(node, node.args[0], first)}
            if callee.kind is Kind.EXTERNAL and callee.name == "builtins.filter" and len(node.args) == 2 \
                    and isinstance(node.args[0], ast.Lambda):
                return self.eval_filter_lambda(node)
            if callee.kind is Kind.EXTERNAL and callee.name in ("builtins.map", "builtins.filter") and \
                    len(node.args) == 2 and not node.keywords:
                return self.eval_map(node)
        args = [done[id(arg)] if id(arg) in done else self.eval(arg) for arg in node.args]
        kwargs = {kw.arg: done[id(kw.value)] if id(kw.value) in done else self.eval(kw.value) for kw in node.keywords}
        deps = merge_deps([*args, *kwargs.values()] + ([base] if base is not None else []))
        if self.argument_sizes is not None:  # a walk that reads what a caller passes (callers.py)
            self.argument_sizes.update(argument_sizes(self, node, args, kwargs))
        if base is not None:
            result = self.call_method(node, base, func.attr, args, kwargs)
        else:
            result = self.call_value(node, callee, args, kwargs)
        if deps - result.deps:
            result = result.but(deps=result.deps | deps)
        if base is not None and base.write and result.kind is Kind.UNKNOWN and not result.write:
            # `insert(M).values(...).on_conflict_do_nothing()`: still that write statement.
            result = result.but(write=base.write, model=base.model)
        if base is not None and func.attr in queries.GROW_METHODS:
            # `rows.extend(f(e))` in a loop: `rows` now depends on the item (for the rest of the body).
            self.taint_container(func.value, merge_deps([*args, *kwargs.values()]))
            self.grow_container(func.value)
        return result

    def grow_container(self, target: ast.expr) -> None:
        """`ids = []`, then `ids.append(u.id)` once per item of a loop that repeats: `ids` is as
        long as that loop, no longer the bounded literal it started as."""
        loops = self.effective_loops()
        # The innermost loop decides, and only when it is known to be as long as the data (query
        # rows, a parameter): `for n in (1, 2)`, a registry of unknown size, `range(min(n, 500))`
        # leave the list as it was.
        if not isinstance(target, ast.Name) or not loops or not loops[-1].repeats or \
                loops[-1].size is not Size.UNBOUNDED:
            return
        container = self.lookup(target.id)
        if container.kind in (Kind.COLLECTION, Kind.ROWS) and container.size is Size.BOUNDED and \
                not container.batched:
            self.rebind(target.id, container.but(size=Size.UNBOUNDED))

    def taint_container(self, target: ast.expr, deps: frozenset[int]) -> None:
        """A container (`rows`, `index[key]`) changed by a value that depends on loop items:
        what is built from it later depends on those items too."""
        while isinstance(target, ast.Subscript):
            deps = deps | self.values.get(id(target.slice), UNKNOWN).deps
            target = target.value
        if not deps or not isinstance(target, ast.Name):
            return
        container = self.lookup(target.id)
        if container.kind not in CONTAINER_KINDS or not deps - container.deps:
            return
        self.rebind(target.id, container.but(deps=container.deps | deps))

    def eval_filter_lambda(self, node: ast.Call) -> Value:
        """`filter(lambda s: s.key == k, rows)`: a scan, like a comprehension."""
        function, collection_node = node.args
        collection = self.eval(collection_node)
        self.push_frame("comprehension", None, "")
        loop = self.new_loop("filter", Span.of(node), collection_node, collection)
        self.frame.loops.append(loop)
        try:
            params = function.args.args
            if params:
                self.assign_name(params[0].arg, self.element_of(collection, loop))
            self.eval(function.body)
            self.check_scan(loop, function.body, Span.of(node), "filter")
        finally:
            self.frame.loops.pop()
            self.pop_frame()
        return collection.but(deps=collection.deps)

    def eval_key_lambda(self, node: ast.Call, collection_node: ast.expr, collection: Value) -> dict[int, Value]:
        """`sorted(rows, key=lambda r: r.author.name)`: the key function runs once per item (a
        loop over the collection, as `map` is); what the call gives is read as usual after. The
        lambda walked here, by id (the call's own evaluation does not walk it again)."""
        function = next((kw.value for kw in node.keywords if kw.arg == "key"), None)
        params = [*function.args.posonlyargs, *function.args.args] if isinstance(function, ast.Lambda) else []
        if not params:
            return {}
        for default in [*function.args.defaults, *(d for d in function.args.kw_defaults if d is not None)]:
            self.eval(default)  # (run once, when the lambda is made)
        reads_before = len(self.facts.relationship_reads)
        self.push_frame("comprehension", None, "")
        loop = self.new_loop("map", Span.of(node), collection_node, collection)
        loop.iterable = Span.of(collection_node)
        self.frame.loops.append(loop)
        try:
            self.assign_name(params[0].arg, self.element_of(collection, loop))
            self.eval(function.body)
        finally:
            self.frame.loops.pop()
            self.pop_frame()
        self.loaded_by_loop(collection_node, loop, reads_before)  # (the rows keep what it loaded)
        self.values[id(function)] = UNKNOWN
        return {id(function): UNKNOWN}

    def eval_map(self, node: ast.Call) -> Value:
        """`map(f, xs)` / `filter(f, xs)`: a loop over xs calling f on each item, whether f is a
        lambda, a project function (`map(load_user, ids)`) or a query's terminal (`map(User.query.get, ids)`)."""
        function, collection_node = node.args
        collection = self.iterated(collection_node, self.eval(collection_node))  # map() iterates it: a query runs
        terminal = None
        if isinstance(function, ast.Attribute) and function.attr in queries.QUERY_TERMINALS:
            base = self.eval(function.value)
            if base.kind is Kind.QUERY and not base.statement:
                terminal = base
        callee = UNKNOWN if terminal is not None or isinstance(function, ast.Lambda) else self.eval(function)
        if isinstance(function, ast.Lambda):  # defaults run once, when the lambda is made
            for default in [*function.args.defaults, *(d for d in function.args.kw_defaults if d is not None)]:
                self.eval(default)
        self.push_frame("comprehension", None, "")
        loop = self.new_loop("map", Span.of(node), collection_node, collection)
        loop.iterable = Span.of(collection_node)
        self.frame.loops.append(loop)
        element = UNKNOWN
        try:
            item = self.element_of(collection, loop)
            if isinstance(function, ast.Lambda):
                params = [*function.args.posonlyargs, *function.args.args]
                for index, arg in enumerate(params):
                    self.assign_name(arg.arg, item if index == 0 else UNKNOWN)
                if function.args.vararg is not None:  # `lambda *xs:` gets the item in xs
                    self.assign_name(function.args.vararg.arg, Value(kind=Kind.COLLECTION, size=Size.BOUNDED,
                                                                     deps=item.deps))
                element = self.eval(function.body)
                self.values[id(function)] = UNKNOWN
            elif terminal is not None:  # `map(User.query.get, ids)`: the terminal called with each item
                assert isinstance(function, ast.Attribute)
                element = self.call_method(node, terminal, function.attr, [item], {})
            elif callee.kind is Kind.FUNCTION and not callee.is_property:
                self.record_call(node, callee, named=function)
        finally:
            self.frame.loops.pop()
            self.pop_frame()
        if last_name(node.func) == "filter":
            return collection.but(deps=collection.deps, iterator=True)
        deps = collection.deps | frozenset(element.deps - {loop.id})
        if element.kind is Kind.ROW and element.model is not None:
            return Value(kind=Kind.ROWS, model=element.model, eager=element.eager, size=collection.size,
                         deps=deps, iterator=True, **element.provenance())
        return Value(kind=Kind.COLLECTION, size=collection.size, deps=deps, iterator=True)

    # In a walk made to read what a caller passes (callers.argument_sizes): the size of each
    # argument of its calls, by position; and its own IN lists are not asked about.
    argument_sizes: dict | None = None

    def in_list_size(self, argument: Value, loop: bool = False) -> Size:
        """How long an IN list is: its size; but for a parameter of this function (or a list made
        from one item per item of it), what the project's callers pass it (callers.parameter_bound):
        bounded when every caller passes a bounded list, not known when no caller is found or what
        one passes cannot be sized (nothing is reported then). `loop`: how many turns a loop over
        it takes, bounded only by what the code writes out (every caller passes a literal or an
        enumeration): a page or one row's collection is still N items, each running its query."""
        if argument.capped and not loop:  # a page of a `.limit(n)`, `xs[:n]`, one row's collection
            return Size.BOUNDED
        found = self.parameter_values.get(id(argument))
        if argument.size is not Size.UNBOUNDED or found is None or found[0] is not argument:
            return argument.size
        if self.argument_sizes is not None:
            return Size.UNKNOWN
        ref = FunctionRef(self.decl.path, found[2])
        bound = self.project.parameter_bound(ref, found[1], written_out=loop)
        return Size.BOUNDED if bound == "bounded" else Size.UNBOUNDED if bound == "unbounded" else Size.UNKNOWN

    def as_query(self, value: Value) -> Value:
        """The result of a project function, used as a query here (`active(uid).all()`,
        `session.scalars(stmt_for(uid))`, `for x in active(uid)`): the unexecuted query the
        function returns, when it returns one; else the value as it is."""
        if value.call_of is None or value.kind is not Kind.UNKNOWN:
            return value
        ref = value.call_of
        own = self.facts.function(ref.qualname, self.project) if ref.path == self.decl.path else None
        query = self.project.returned_query(ref, own if own is not None and own.done else None)
        return query.but(deps=query.deps | value.deps) if query is not None else value

    def call_method(self, node: ast.Call, base: Value, method: str, args: list[Value],
                    kwargs: dict[str | None, Value]) -> Value:
        base = self.as_query(base)
        kind = base.kind
        # `.in_()` of a project's own class (a query DSL of its own, a predicate builder) is not SQL.
        if method in queries.IN_METHODS and len(node.args) == 1 and \
                kind not in (Kind.INSTANCE, Kind.CLASS, Kind.FUNCTION, Kind.MODULE):
            argument = args[0]
            size = self.in_list_size(argument)
            self.facts.in_calls.append(InCall(Span.of(node), self.short(node), self.short(node.args[0]),
                                              size, argument.kind, method, Span.of(node.args[0])))
            return UNKNOWN
        value = hooks.ask(hooks.METHOD_CALL_BY_KIND[base.kind], self, node, base, method, args, kwargs)
        if value is not None:
            return value
        if kind is Kind.ROWS and method in ("all", "unique", "copy"):
            return base
        if kind is Kind.ROWS and method in ("first", "one", "one_or_none", "pop"):
            return base.but(kind=Kind.ROW)
        if kind in (Kind.DICT_OF_ROWS, Kind.DICT_OF_LISTS):
            return self.dict_method(node, base, method, args)
        if method in ("append", "add") and len(args) == 1:
            self.collect_rows(node, args[0])
            self.grows_per_row(node, args[0])
            return UNKNOWN
        if kind is Kind.COLLECTION and method in ("values", "keys", "items"):
            if base.inner is not None and base.inner.kind is Kind.SCHEMA and method != "keys":
                # metadata.tables.values() / .items(): Tables (keyed by name).
                values = Value(kind=Kind.COLLECTION, size=base.size, deps=base.deps, inner=base.inner)
                return values if method == "values" else Value(kind=Kind.ENUMERATE, size=base.size,
                                                                 deps=base.deps, inner=values)
            return self.no_longer_than(base, Value(kind=Kind.COLLECTION, size=base.size, deps=base.deps))
        if kind in (Kind.EXTERNAL, Kind.MODULE, Kind.MODEL_CLASS, Kind.CLASS, Kind.INSTANCE, Kind.ORM_NAMESPACE,
                    Kind.ROW):
            callee = self.attribute(node.func, base, method)
            return self.call_value(node, callee, args, kwargs)
        if kind is Kind.UNKNOWN and looks_like_session(method):
            return UNKNOWN
        return unknown(base.deps)

    def grows_per_row(self, node: ast.Call, item: Value) -> None:
        """`ids.append(x.id)` once per row of an unbounded loop: the list is as long as the rows
        (its IN list then grows with the data)."""
        target = node.func.value  # type: ignore[attr-defined]
        if item.kind is Kind.ROW or not isinstance(target, ast.Name):
            return  # (rows: collect_rows)
        container = self.values.get(id(target), UNKNOWN)
        # (The innermost loop appends: an outer loop may start a new list each turn.)
        loops = self.effective_loops()
        innermost = loops[-1] if loops else None
        if container.kind is Kind.COLLECTION and container.size is not Size.UNBOUNDED and \
                innermost is not None and innermost.repeats and innermost.size is Size.UNBOUNDED:
            self.rebind(target.id, container.but(size=Size.UNBOUNDED))

    def collect_rows(self, node: ast.Call, row: Value) -> None:
        """`rows.append(row)` / `index[key].append(row)`: the container now holds rows."""
        if row.kind is not Kind.ROW or row.model is None:
            return
        if row.eager is not None and row.loop is not None:
            # Relationships the loop read on this row before appending it are loaded on it.
            row = row.but(eager=row.eager | self.loaded_before(row.loop, row.model, node))
        target = node.func.value  # type: ignore[attr-defined]
        repeated = self.in_repeating_loop()
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            container = self.values.get(id(target.value), UNKNOWN)
            if container.kind is Kind.DICT_OF_LISTS:
                self.rebind(target.value.id, container.but(size=Size.UNBOUNDED if repeated else container.size,
                                                           **holding(container, row)))
        elif isinstance(target, ast.Name):
            container = self.values.get(id(target), UNKNOWN)
            if container.kind in (Kind.COLLECTION, Kind.ROWS):
                self.rebind(target.id, Value(kind=Kind.ROWS, size=Size.UNBOUNDED if repeated else container.size,
                                             label=target.id, **holding(container, row)))

    def loaded_before(self, loop_id: int, model: ModelInfo, node: ast.AST) -> frozenset[tuple[str, ...]]:
        """Relationships read on the item of `for` loop `loop_id` by what every turn that reaches
        `node` has run before it: the plain statements (no branch, no short-circuit, no nested
        scope) before it in the blocks that hold it, `with` headers, and a `try` body before its
        `else`. They are loaded on that item."""
        body = self._loop_bodies.get(loop_id)
        if not body:
            return frozenset()
        spans = [Span.of(part) for part in run_before(body, node)]
        if not spans:
            return frozenset()
        covers = lambda read, s: (s.line, s.col) <= (read.line, read.col) and \
            (read.end_line, read.end_col) <= (s.end_line, s.end_col)  # noqa: E731
        return frozenset((read.relationship.name,) for read in self.facts.relationship_reads
                         if read.row_loop == loop_id and read.model is model and not read.rel_path and
                         any(covers(read.span, s) for s in spans))

    def dict_method(self, node: ast.Call, base: Value, method: str, args: list[Value]) -> Value:
        grouped = base.kind is Kind.DICT_OF_LISTS
        rows = Value(kind=Kind.ROWS, model=base.model, eager=base.eager, size=Size.UNBOUNDED, deps=base.deps,
                     **base.provenance())
        if method == "values":
            if grouped:
                return Value(kind=Kind.COLLECTION, size=base.size, deps=base.deps, inner=rows)
            return rows.but(size=base.size if base.size is not Size.UNKNOWN else Size.UNBOUNDED)
        if method in ("get", "pop", "setdefault"):
            if grouped:
                return rows
            return Value(kind=Kind.ROW, model=base.model, eager=base.eager, deps=base.deps, **base.provenance())
        if method == "items":
            value = Value(kind=Kind.COLLECTION, size=base.size, deps=base.deps, inner=rows) if grouped else rows
            return Value(kind=Kind.ENUMERATE, size=base.size, deps=base.deps, inner=value)
        if method == "keys":
            return Value(kind=Kind.COLLECTION, size=base.size, deps=base.deps)
        return unknown(base.deps)

    def call_value(self, node: ast.Call, callee: Value, args: list[Value], kwargs: dict[str | None, Value]) -> Value:
        kind = callee.kind
        first = args[0] if args else UNKNOWN
        if kind is Kind.EXTERNAL:
            full = callee.name
            short = full.rsplit(".", 1)[-1]
            if full.startswith("builtins."):
                return self.call_builtin(node, short, args)
            package = full.partition(".")[0]
            if full in renders.RENDER_CALLS:
                renders.record_call(self, node, full, args, kwargs)  # a view renders a template
            value = hooks.ask(hooks.FUNCTION_CALL_BY_PACKAGE.get(package, hooks.FUNCTION_CALL_ANY_PACKAGE),
                              self, node, full, args)
            if value is not None:
                return value
            if full in ("collections.defaultdict",) and node.args and isinstance(node.args[0], ast.Name) \
                    and node.args[0].id == "list":
                return Value(kind=Kind.DICT_OF_LISTS, size=Size.BOUNDED)
            if self.is_chunker(short, len(node.args)):
                return Value(kind=Kind.COLLECTION, size=first.size, batched=True)
            if full == "itertools.islice" and len(args) >= 2:
                stop = args[2] if len(args) >= 3 else args[1]
                return Value(kind=Kind.COLLECTION, size=Size.BOUNDED if is_constant_scalar(stop) else first.size)
            if full == queries.GROUPBY and args:
                # (key, group) pairs, the groups a partition of the iterable (rows stay rows of it;
                # a loop over them is `partitioned`, see new_loop).
                group = first.but(source=None) if first.kind is Kind.ROWS else Value(kind=Kind.COLLECTION, size=first.size)
                return Value(kind=Kind.COLLECTION, size=first.size, deps=first.deps,
                             inner=Value(kind=Kind.COLLECTION, size=Size.BOUNDED, deps=first.deps,
                                         items=(unknown(first.deps), group)))
            if full in queries.RETRY_ITERATORS:
                return Value(kind=Kind.COLLECTION, size=Size.BOUNDED)
            value = self.project.construct(callee, args, kwargs)
            if value.kind in (Kind.SESSION, Kind.SESSION_FACTORY):
                # `Session(bind=engine_for(tenant))`: bound to what the item chose, one per item
                # (its connection: the first argument or `bind(s)=`, not any option that names the item).
                deps = merge_deps([*args[:1], *(kwargs[k] for k in ("bind", "binds") if k in kwargs)])
                self.route(node, deps)
                value = value.but(deps=value.deps | deps)
            return value
        if kind is Kind.SESSION_FACTORY:
            self.route(node, callee.deps)  # `sessionmaker(bind=engine_for(tenant))()`
            return Value(kind=Kind.SESSION, asynchronous=callee.asynchronous)
        if kind is Kind.FUNCTION:
            if self.is_chunker(callee.name.rsplit(".", 1)[-1], len(node.args)) or (
                    node.args and self.project.yields_chunks(callee.ref)):
                return Value(kind=Kind.COLLECTION, size=first.size, batched=True)
            self.record_call(node, callee)
            if node.args or node.keywords:
                renders.record_helper_call(self, node, callee)  # the project's own render helper
            receiver = self.values.get(id(node.func.value)) if isinstance(node.func, ast.Attribute) else None
            self.rows_through_call(node, callee, receiver, args, kwargs)
            returned = self.returned(callee.ref)
            if receiver is not None and receiver.kind is Kind.MODEL_CLASS and (
                    returned is UNKNOWN or (returned.model is not None and returned.model is not receiver.model)):
                # `Order.all(db)` from a base class (its own walk bound `cls` to the base, itself
                # mapped when it declares columns): what it returns with `cls` the receiver.
                in_context = self.returned_in_context(callee, receiver, node,
                                                      own_queries=self.project.query_summary(callee.ref) is not None)
                returned = in_context if in_context is not UNKNOWN or returned is UNKNOWN else returned
            if returned.kind is Kind.UNKNOWN and returned.call_of is None and \
                    (receiver is None or receiver.kind is Kind.MODULE):
                for_models = self.returned_for_models(callee, args, kwargs)
                returned = for_models if for_models is not UNKNOWN else returned
            return Value(call_of=callee.ref) if returned is UNKNOWN else returned
        if kind is Kind.CLASS:
            return Value(kind=Kind.INSTANCE, ref=callee.ref, label=callee.label)
        if kind is Kind.UNKNOWN and self.is_chunker(last_name(node.func), len(node.args)):
            return Value(kind=Kind.COLLECTION, size=first.size, batched=True)
        return UNKNOWN

    def is_chunker(self, name: str, arity: int) -> bool:
        """A helper that splits an iterable into chunks: by the settings' list, or by its name
        when it takes the iterable and a size (`chunk_list(xs, 500)`), since projects write their
        own. `pending_batches()` or `batch_status(b)` are not chunkers."""
        return name in self.chunk_names or (arity >= 2 and CHUNKER_NAME.search(name) is not None)

    def calls_dunder_str(self, node: ast.expr, row: Value) -> None:
        """`str(row)` / `f"{row}"` runs the model's `__str__` on it (what it reads is read per row of a
        loop)."""
        start = self.class_of(row)
        method = self.method_value(start, "__str__") if start is not None else None
        if method is not None and not method.is_property:
            self.record_call(node, method, named=node.func if isinstance(node, ast.Call) else node)
            self.rows_through_call(node, method, row, [], {})

    def call_builtin(self, node: ast.Call, name: str, args: list[Value]) -> Value:
        first = args[0] if args else UNKNOWN
        if name in queries.SIZE_PRESERVING_CALLS and first.call_of is not None:
            first = self.as_query(first)  # list(active(uid)) runs it
        if name == "super" and self.frame.cls is not None:
            value = self.plugin_self(self.frame.cls)
            if value is not None:
                return value
            bound = self.super_receiver(args)
            if bound is not None:
                return bound  # (its attributes are looked up after the class: expressions.super_member)
        if name == "str" and len(args) == 1 and first.kind is Kind.ROW and first.model is not None:
            self.calls_dunder_str(node, first)
        if name in ("len", "bool") and len(args) == 1 and self.evaluate(node, first, name, node.args[0]) is not None:
            return Value(kind=Kind.SCALAR, deps=first.deps)
        if name in queries.SIZE_PRESERVING_CALLS:
            if not args:
                return Value(kind=Kind.COLLECTION, size=Size.BOUNDED)
            rows = self.evaluate(node, first, "iter" if name in ("iter", "reversed") else "list", node.args[0])
            if rows is not None:
                return rows
            if first.kind is Kind.ROWS or (first.kind is Kind.ROW and first.maybe_rows):
                return first.but(kind=Kind.ROWS)
            if first.kind is Kind.RESULT and first.scalars:
                return first.but(kind=Kind.ROWS)
            if first.kind in (Kind.DICT_OF_ROWS, Kind.DICT_OF_LISTS):
                return Value(kind=Kind.COLLECTION, size=first.size, deps=first.deps)
            size = first.size
            if first.kind in (Kind.RESULT, Kind.PAGE) and size is Size.UNKNOWN:
                size = Size.UNBOUNDED
            # list()/sorted()/... give a list; iter()/reversed() an iterator.
            return self.no_longer_than(first, Value(
                kind=Kind.COLLECTION, size=size, deps=first.deps, inner=first.inner, capped=first.capped,
                batched=first.batched, zipped=first.zipped, iterator=name in ("iter", "reversed")))
        if name == "enumerate" and args:
            first = self.iterated(node.args[0], first)
            return Value(kind=Kind.ENUMERATE, size=first.size, deps=first.deps, inner=first)
        if name == "zip" and args:
            args = [self.iterated(arg_node, arg) for arg_node, arg in zip(node.args, args)]
            sizes = {a.size for a in args}
            size = Size.BOUNDED if Size.BOUNDED in sizes else (
                Size.UNBOUNDED if sizes == {Size.UNBOUNDED} else Size.UNKNOWN)
            return Value(kind=Kind.COLLECTION, size=size, deps=merge_deps(args), zipped=tuple(args), iterator=True)
        if name == "range":
            return self.range_value(node, args)
        if name == "sum" and node.args:
            self.check_sum(node)
            return UNKNOWN
        if name == "next" and args:
            if first.kind is Kind.ROWS and first.model is not None:
                return Value(kind=Kind.ROW, model=first.model, eager=first.eager, deps=first.deps)
            return unknown(first.deps)
        if name in ("filter", "map") and len(args) == 2:
            return Value(kind=Kind.COLLECTION, size=args[1].size, deps=merge_deps(args), iterator=True)
        if name == "dict" and not args:  # (`dict(items=rows)`: its keys' rows, as a display's)
            keyed = () if any(kw.arg is None for kw in node.keywords) else \
                keyed_rows((kw.arg, self.values.get(id(kw.value), UNKNOWN)) for kw in node.keywords)
            return Value(kind=Kind.COLLECTION, size=Size.BOUNDED, keyed=keyed)
        if name == "fromkeys" and args:  # dict.fromkeys(xs): the distinct items of xs
            return Value(kind=Kind.COLLECTION, size=first.size, deps=first.deps)
        return UNKNOWN

    def super_receiver(self, args: list[Value]) -> Value | None:
        """`super(C, cls)` / `super()` in a method of a project class, when `self`/`cls` is a row or
        a model class (a model's method, or a base's method walked for a model): that row or class."""
        if len(args) == 2:
            receiver = args[1]
        elif not args and self.frame.kind == "function" and self.frame.parameters is not None:
            function = self.frame.parameters.function
            positional = [*function.args.posonlyargs, *function.args.args]
            receiver = self.frame.env.get(positional[0].arg, UNKNOWN) if positional else UNKNOWN
        else:
            return None
        if receiver.kind in (Kind.ROW, Kind.MODEL_CLASS) and receiver.model is not None:
            return receiver
        return None

    def evaluate(self, node: ast.AST, value: Value, how: str, expression: ast.AST,
                 header: Span | None = None) -> Value | None:
        """Python evaluates `value` whole (orm.api.EVALUATIONS): what the ORM it belongs to says that
        runs and gives; None when it is no ORM's (a list, a row...)."""
        return hooks.ask(hooks.EVALUATE_BY_KIND[value.kind], self, node, value, how, expression, header)

    def plugin_parameter(self, function: ast.FunctionDef | ast.AsyncFunctionDef, index: int,
                         arg: ast.arg) -> Value | None:
        """What a library passes a module-level function's parameter, when a plugin knows."""
        return hooks.ask(hooks.PARAMETER, self, function, index, arg)

    def plugin_self(self, cls: tuple[str, ClassDecl]) -> Value | None:
        """`self` / `super()` in a method of `cls`, when an ORM gives the class a meaning."""
        return hooks.ask(hooks.SELF_VALUE, self, cls)

    def iterated(self, node: ast.expr, value: Value) -> Value:
        """`enumerate(x)` / `zip(x, y)`: iterating the wrapper iterates `x`, which runs a query
        (a queryset, a related manager a prefetch may answer, a Query) and yields its rows."""
        if isinstance(node, ast.Starred):
            return value
        value = self.as_query(value)
        return self.evaluate(node, value, "__iter__", node) or value

    def range_value(self, node: ast.Call, args: list[Value]) -> Value:
        if all(a.size is Size.BOUNDED and a.kind is Kind.SCALAR for a in args):
            return Value(kind=Kind.COLLECTION, size=Size.BOUNDED)
        # range(0, len(xs), size) / range(0, total, batch_size): a loop over chunks or pages.
        if len(node.args) == 3 and self.is_batch_step(node.args[2]):
            return Value(kind=Kind.COLLECTION, size=Size.UNBOUNDED, deps=merge_deps(args),
                         batched=True)
        # range(ceil(len(xs) / K)), range(n // K + 1), range(1, pages + 1): counting chunks or pages.
        if node.args and (divides_by_a_size(node.args[-1] if len(node.args) <= 2 else node.args[1])
                          or counts_pages(node.args[-1] if len(node.args) <= 2 else node.args[1])):
            return Value(kind=Kind.COLLECTION, size=Size.UNBOUNDED, deps=merge_deps(args),
                         batched=True)
        if len(node.args) == 1 and isinstance(node.args[0], ast.Call) and last_name(node.args[0].func) == "len" \
                and node.args[0].args:
            sized = self.values.get(id(node.args[0].args[0]), UNKNOWN)
            return Value(kind=Kind.COLLECTION, size=sized.size, deps=merge_deps(args))
        return Value(kind=Kind.COLLECTION, size=Size.UNKNOWN, deps=merge_deps(args))

    def is_batch_step(self, step: ast.expr) -> bool:
        if isinstance(step, ast.Constant):
            return isinstance(step.value, int) and step.value >= 50  # a step of 2 is not a chunk
        if isinstance(step, ast.UnaryOp):
            return False
        return True  # a named size: BATCH_SIZE, chunk_size, self.page_size

    def check_sum(self, node: ast.Call) -> None:
        """ORM005's fact: sum() over a nullable column of rows, with no `or 0` / `is not None`."""
        generator = node.args[0]
        if not isinstance(generator, (ast.GeneratorExp, ast.ListComp)) or len(generator.generators) != 1:
            return
        element = self.values.get(id(generator.elt), UNKNOWN)
        if element.kind is not Kind.COLUMN_VALUE or not element.nullable or element.model is None:
            return
        elt, target = generator.elt, generator.generators[0].target
        if isinstance(elt, ast.Attribute) and isinstance(target, ast.Name) and \
                elt.attr in guarded_attributes(generator.generators[0].ifs, target.id):
            return  # `if p.amount` / `if p.amount is not None`
        self.facts.sums.append(NullableSum(Span.of(node), self.short(node), element.model, element.name,
                                           self.short(generator.elt), Span.of(generator.elt)))

    def loop_ids(self) -> frozenset[int]:
        return frozenset(loop.id for loop in self.frame.loops)

    def returned(self, ref: FunctionRef) -> Value:
        """What calling a project function gives, when it is a lazy query object or rows: what
        its `return`s give (a function of this module only once its body has been walked)."""
        if ref.path != self.decl.path:
            return self.project.returns(ref)
        function = self.facts.function(ref.qualname, self.project)
        return summarize_returns(function) if function is not None and function.done else UNKNOWN
