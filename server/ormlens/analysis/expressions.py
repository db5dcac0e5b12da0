"""The interpreter's expressions: binding names and targets, attributes (of rows, classes,
instances), subscripts, comprehensions and the scans in them (ORM003), `sum()` (ORM005)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from ormlens.analysis import orm as hooks
from ormlens.analysis import queries
from ormlens.analysis.astutil import eq_compares, guarded_attributes, last_name
from ormlens.analysis.declarations import ClassDecl
from ormlens.analysis.facts import FunctionRef, LoopScope, RelationshipRead, Scan
from ormlens.analysis.flow import UNKNOWN, Kind, QueryInfo, Size, Value, eager_below, keyed_rows, merge_deps, unknown
from ormlens.analysis.models import ModelInfo
from ormlens.analysis.shapes import CONSTANT, holding, is_constant_scalar, looks_like_session, node_handler
from ormlens.findings import Span


class Expressions:
    """Evaluating expressions (a part of interpreter.FactsBuilder)."""

    calls_methods = False  # a method read on a row is called (a template engine that calls what it reads)

    # --- binding ---------------------------------------------------------------------------------

    def bind(self, target: ast.expr, value: Value) -> None:
        if isinstance(target, ast.Name):
            self.assign_name(target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = value.items
            for index, element in enumerate(target.elts):
                if isinstance(element, ast.Starred):
                    element = element.value
                    part = unknown(value.deps)
                elif index < len(items):
                    part = items[index]
                else:
                    part = unknown(value.deps)
                self.bind(element, part)
        elif isinstance(target, ast.Subscript):
            container = self.eval(target.value)
            self.eval(target.slice)
            if isinstance(target.value, ast.Name) and isinstance(target.slice, ast.Constant) and \
                    isinstance(target.slice.value, str) and container.kind in (Kind.COLLECTION, Kind.UNKNOWN) and \
                    (container.keyed or value.kind in (Kind.ROWS, Kind.ROW, Kind.QUERY)):
                # `context["orders"] = qs`: what `context["orders"]` gives back (a template's context too)
                self.rebind(target.value.id, container.but(
                    keyed=keyed_rows((*container.keyed, (target.slice.value, value)))))
            # `index[key] = row` makes `index` a dict of rows.
            elif isinstance(target.value, ast.Name) and value.kind is Kind.ROW and value.model is not None and \
                    container.kind in (Kind.COLLECTION, Kind.DICT_OF_ROWS):
                self.rebind(target.value.id, Value(
                    kind=Kind.DICT_OF_ROWS, size=Size.UNBOUNDED if self.in_repeating_loop() else container.size,
                    label=target.value.id, **holding(container, value)))
            self.taint_container(target, value.deps)
        elif isinstance(target, ast.Attribute):
            base = self.eval(target.value)
            if isinstance(target.value, ast.Name) and base.kind is Kind.ROW and base.model is not None and \
                    base.eager is not None and self.project.relationship(base.model, target.attr) is not None:
                # `obj.event = event`: the row holds it now; reading it later loads nothing. One
                # object for every row of the loop (assigned from outside it): what is read on it
                # loads once, not per row.
                shared = {(target.attr, "*")} if not value.deps & self.loop_ids() else set()
                self.rebind(target.value.id, base.but(eager=base.eager | {(target.attr,)} | shared))
        elif isinstance(target, ast.Starred):
            self.bind(target.value, unknown(value.deps))

    def element_of(self, it: Value, loop: LoopScope) -> Value:
        """The value a loop target takes on each item of `it`."""
        deps = it.deps | {loop.id}
        if it.kind in (Kind.ROWS, Kind.QUERY, Kind.PAGE) or (it.kind is Kind.ROW and it.maybe_rows) \
                or (it.kind is Kind.RESULT and it.scalars):
            if it.model is not None and not it.statement:
                eager = it.query.eager if it.kind is Kind.QUERY and it.query is not None else it.eager
                return Value(kind=Kind.ROW, model=it.model, eager=eager, loop=loop.id, deps=deps,
                             **it.provenance())
            return unknown(deps)
        if it.batched:
            return Value(kind=Kind.COLLECTION, size=Size.BOUNDED, deps=deps)
        if it.zipped is not None:
            return Value(kind=Kind.COLLECTION, size=Size.BOUNDED, deps=deps,
                         items=tuple(self.element_of(iterable, loop) for iterable in it.zipped))
        if it.kind is Kind.ENUMERATE and it.inner is not None:
            return Value(kind=Kind.COLLECTION, size=Size.BOUNDED, deps=deps,
                         items=(unknown(deps), self.element_of(it.inner, loop)))
        if it.kind is Kind.COLLECTION and it.inner is not None:
            inner = it.inner
            if inner.items:  # tuples: each part comes with the item too
                return inner.but(deps=inner.deps | deps, items=tuple(i.but(deps=i.deps | deps) for i in inner.items))
            if inner.kind is Kind.QUERY and inner.query is not None:  # each item another query object
                inner = inner.but(query=replace(inner.query, made_in=inner.query.made_in | {loop.id}))
            return inner.but(deps=inner.deps | deps, loop=loop.id if inner.kind is Kind.ROW else inner.loop)
        return unknown(deps)

    # --- expressions -----------------------------------------------------------------------------

    def eval(self, node: ast.expr) -> Value:
        handler = node_handler(type(self), "eval_", type(node))
        value = handler(self, node) if handler is not None else self.eval_children(node)
        self.values[id(node)] = value
        return value

    def eval_children(self, node: ast.AST) -> Value:
        deps: frozenset[int] = frozenset()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                value = self.eval(child)
            elif isinstance(child, ast.keyword):
                value = self.eval(child.value)
            else:
                continue
            if value.deps:
                deps = deps | value.deps
        return unknown(deps)

    def eval_FormattedValue(self, node: ast.FormattedValue) -> Value:
        """`f"{row}"` formats the row with `str()` (no `!r`/`!a`, no format spec): its `__str__` runs."""
        value = self.eval(node.value)
        if node.format_spec is not None:
            self.eval(node.format_spec)
        elif node.conversion in (-1, ord("s")) and value.kind is Kind.ROW and value.model is not None:
            self.calls_dunder_str(node.value, value)  # (found at the expression: before 3.12 the
        return unknown(value.deps)                    # FormattedValue spans the whole f-string)

    def eval_IfExp(self, node: ast.IfExp) -> Value:
        test = self.eval(node.test)
        with self.branching(test, node.test):
            body, orelse = self.eval(node.body), self.eval(node.orelse)
        deps = test.deps | body.deps | orelse.deps
        if body.kind is orelse.kind and body.model is not None and body.model is orelse.model:
            # Both arms the same model's query (`M.query if hasattr(M, "query") else session.query(M)`)
            # or rows: what both load, and no more.
            if body.kind is Kind.QUERY and body.query is not None and orelse.query is not None and \
                    body.query.eager == orelse.query.eager and body.query.limited == orelse.query.limited and \
                    body.statement == orelse.statement and body.tuples == orelse.tuples:
                return body.but(deps=deps)
            if body.kind is Kind.ROWS and body.size is orelse.size:
                eager = None if body.eager is None or orelse.eager is None else body.eager & orelse.eager
                return body.but(deps=deps, eager=eager, source=None)
        return unknown(deps)

    def eval_BoolOp(self, node: ast.BoolOp) -> Value:
        first = self.eval(node.values[0])
        deps = first.deps
        rest = node.values[1:]
        # `row and row.policy`: an item of rows is a model instance, always true, so what follows
        # `and` runs on every path.
        while rest and isinstance(node.op, ast.And) and first.kind is Kind.ROW and first.loop is not None and \
                not first.rel_path:  # (a related row may be None)
            first = self.eval(rest[0])
            deps, rest = deps | first.deps, rest[1:]
        with self.branching(unknown(deps), node.values[0]):  # the other operands run only on some paths
            for value in rest:
                deps = deps | self.eval(value).deps
        return unknown(deps)

    @contextmanager
    def branching(self, test: Value | None = None, node: ast.expr | None = None) -> Iterator[None]:
        """Evaluate what runs on some paths only (see conditional), chosen by `test`'s value (of `node`)."""
        unsure = not self.row_state(test, node)
        self._branching += 1
        self._unsure += unsure
        try:
            yield
        finally:
            self._branching -= 1
            self._unsure -= unsure

    def row_state(self, test: Value | None, node: ast.expr | None = None) -> bool:
        """Is `test` (evaluated from `node`) a value of the rows a caller passed this walk, and of
        nothing else (`self.name or self.owner.email`, `if self.module:`)? The path it chooses is
        taken for every row whose data says so: rows the caller cannot rule out. Not a test of
        whether a key is set: a foreign key (`if not self.account_id:`, a relation read where it is
        unset loads nothing) or the primary key (`if self.pk is None:`, a saved row has one). A
        foreign key that cannot be NULL is set on every saved row: a test that it is set (`if
        self.project_id`, `is not None`) chooses nothing, one that it is not never passes."""
        if test is None or not test.deps or not self.row_state_deps:
            return False
        # ... or of the items of a loop over what those rows hold (`for c in unit.conversions.all():
        # if c.space == space:`): each item's own data too.
        allowed = self.row_state_deps | {loop.id for loop in self.frame.loops if loop.iter_deps & self.row_state_deps}
        if not test.deps <= allowed:
            return False
        parts = list(ast.walk(node)) if node is not None else []
        # A key compared to a value (`c.space_id == space.id`) picks rows by data, as any column.
        compared = {id(side) for part in parts if isinstance(part, ast.Compare) and
                    not all(isinstance(op, (ast.Is, ast.IsNot)) for op in part.ops)
                    for side in (part.left, *part.comparators)}
        # What is tested for being unset: under a `not`, or `is None`.
        negated = {id(inner) for part in parts if isinstance(part, ast.UnaryOp) and isinstance(part.op, ast.Not)
                   for inner in ast.walk(part.operand)}
        negated |= {id(side) for part in parts if isinstance(part, ast.Compare) and
                    any(isinstance(op, ast.Is) for op in part.ops) for side in (part.left, *part.comparators)}
        for part in parts:
            if id(part) in compared:
                continue
            value = self.values.get(id(part))
            if value is not None and value.kind is Kind.COLUMN_VALUE and value.model is not None:
                column = value.model.columns.get(value.name or "")
                if column is not None and (column.primary_key or column.references is not None and (
                        column.nullable or id(part) in negated)):
                    return False
        return True

    def only_row_state(self) -> bool:
        """Is every path condition around what is being walked a test of the walked rows' own
        state (row_state)? Not in a lambda's body, an `except` handler, a `match` case."""
        return self._unsure == 0 and not self.in_lambda()

    def conditional(self) -> bool:
        """Does what is being walked run on some paths of its function only: an `if` arm, a
        conditional expression or short-circuit operand, an `except` handler, a lambda's body?"""
        return bool(self._arms or self._branching) or self.in_lambda()

    def in_lambda(self) -> bool:
        """Is what is being walked a lambda's body (which runs when, and if, it is called)?"""
        frame = self.frame
        while frame is not None and frame.kind in ("lambda", "comprehension"):
            if frame.kind == "lambda":
                return True
            frame = frame.parent
        return False

    def eval_Constant(self, node: ast.Constant) -> Value:
        return CONSTANT

    def eval_BinOp(self, node: ast.BinOp) -> Value:
        left, right = self.eval(node.left), self.eval(node.right)
        if is_constant_scalar(left) and is_constant_scalar(right):
            return Value(kind=Kind.SCALAR, size=Size.BOUNDED)  # MAX_ATTEMPTS + 1
        combined = combine_collections(node.op, left, right)
        if combined is not None:
            return combined
        return unknown(left.deps | right.deps)

    def eval_UnaryOp(self, node: ast.UnaryOp) -> Value:
        operand = self.eval(node.operand)
        if isinstance(node.op, ast.Not) and self.evaluate(node.operand, operand, "bool", node.operand) is not None:
            return unknown(operand.deps)  # `not qs` runs a queryset
        if is_constant_scalar(operand):
            return operand  # -6
        return unknown(operand.deps)

    def eval_Name(self, node: ast.Name) -> Value:
        if not isinstance(node.ctx, ast.Load):
            return UNKNOWN
        return self.lookup(node.id)

    def eval_NamedExpr(self, node: ast.NamedExpr) -> Value:
        value = self.eval(node.value)
        reads = self.cache_reads(node.value)
        if reads:  # `if (x := cache.get(k)) is None:` reads a cache, as `x = cache.get(k)` does
            value = value.but()
            self._cache_reads[node.target.id] = (value, reads)
        frame = self.frame
        while frame.kind == "comprehension" and frame.parent is not None:  # PEP 572: not the comprehension
            frame = frame.parent
        frame.env[node.target.id] = value
        return value

    def eval_Yield(self, node: ast.Yield | ast.YieldFrom) -> Value:
        # The walk reaches every `yield` of the function it is in: that makes it a generator.
        if self.frame.kind == "function" and self.frame.function is not None:
            self.frame.function.generator = True
        return self.eval_children(node)

    eval_YieldFrom = eval_Yield

    def eval_Await(self, node: ast.Await) -> Value:
        value = self.eval(node.value)
        if value.kind in (Kind.RESULT, Kind.ROWS, Kind.ROW) and isinstance(node.value, ast.Call) \
                and value.source == Span.of(node.value):
            # `await session.scalars(...)`: only an AsyncSession's methods are awaited.
            return value.but(asynchronous=True)
        return value

    def eval_List(self, node: ast.List | ast.Tuple | ast.Set) -> Value:
        elements = [self.eval(e) for e in node.elts]
        deps = merge_deps(elements)
        # `(*CHOICES, extra)`: as long as the longest collection spread into it.
        spread = [self.values.get(id(e.value), UNKNOWN).size for e in node.elts if isinstance(e, ast.Starred)]
        size = Size.UNBOUNDED if Size.UNBOUNDED in spread else \
            Size.BOUNDED if all(s is Size.BOUNDED for s in spread) else Size.UNKNOWN
        models = {e.model for e in elements if e.kind is Kind.ROW}
        if elements and len(models) == 1 and all(e.kind is Kind.ROW for e in elements):
            # What every row written into it loaded (`queue = [ingredient]`, then `queue.pop(0)`).
            eager = None if any(e.eager is None for e in elements) else frozenset.intersection(
                *(e.eager for e in elements))
            return Value(kind=Kind.ROWS, model=models.pop(), size=size, deps=deps, eager=eager)
        # A tuple written out gives its parts to a tuple target (`pending, seen = [card], set()`).
        parts = tuple(elements) if isinstance(node, ast.Tuple) and not spread else ()
        return Value(kind=Kind.COLLECTION, size=size, deps=deps, items=parts)

    eval_Tuple = eval_List
    eval_Set = eval_List

    def eval_Dict(self, node: ast.Dict) -> Value:
        deps = self.eval_children(node).deps
        keyed = () if None in node.keys else keyed_rows(
            (key.value, self.values.get(id(value), UNKNOWN)) for key, value in zip(node.keys, node.values)
            if isinstance(key, ast.Constant) and isinstance(key.value, str))
        return Value(kind=Kind.COLLECTION, size=Size.BOUNDED, deps=deps, keyed=keyed)

    def eval_Lambda(self, node: ast.Lambda) -> Value:
        for default in [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]:
            self.eval(default)
        outer = self.frame
        # A lambda's body runs when (and if) it is called, not here: its queries belong to no loop
        # and do not make the defining function one that runs a query.
        self.push_frame("function", None, outer.qualname, outer.cls)
        self.frame.kind = "lambda"
        try:
            for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
                self.assign_name(arg.arg, UNKNOWN)
            self.eval(node.body)
        finally:
            self.frame = outer
        return UNKNOWN

    def eval_Attribute(self, node: ast.Attribute) -> Value:
        base = self.eval(node.value)
        return self.attribute(node, base, node.attr, isinstance(node.ctx, ast.Load))

    def attribute(self, node: ast.Attribute, base: Value, attr: str, load: bool = True) -> Value:
        kind = base.kind
        if kind in (Kind.ROW, Kind.MODEL_CLASS) and is_super_call(node.value) and self.frame.cls is not None:
            method = self.super_member(base, attr)  # `super().save()`: the next class's, self the same
            return self.member(node, base, attr, load, method) if method is not None else unknown(base.deps)
        value = hooks.ask(hooks.ATTRIBUTE, self, node, base, attr)
        if value is not None:
            return value
        if kind is Kind.ROW and base.model is not None:
            return self.row_attribute(node, base, attr, load)
        if base.capped and ((kind is Kind.QUERY and base.statement and attr in ("c", "columns")) or
                            (kind is Kind.COLUMN and base.model is None)):
            return Value(kind=Kind.COLUMN, capped=True, deps=base.deps)  # `sub.c.id` of a capped subquery
        if kind is Kind.PAGE and attr == "items":
            return base.but(kind=Kind.ROWS, size=Size.BOUNDED)
        if kind in (Kind.EXTERNAL, Kind.MODULE, Kind.ORM_NAMESPACE, Kind.MODEL_CLASS):
            value = self.project.attribute(base, attr)
            if value is not UNKNOWN:
                return value
        if kind in (Kind.INSTANCE, Kind.CLASS, Kind.MODEL_CLASS):
            method = self.member(node, base, attr, load)
            if method is not None:
                return method
        if kind in (Kind.CLASS, Kind.MODEL_CLASS) and load:
            # `Ticket.STATUS_CHOICES`: a class attribute its body writes out as a list: bounded.
            cls = base.ref if kind is Kind.CLASS else self.project.class_of(base.model) if base.model else None
            written = cls[1].attr_value(attr) if isinstance(cls, tuple) else None
            # (Not an empty list: a registry the code fills.)
            if isinstance(written, (ast.List, ast.Tuple, ast.Set)) and written.elts and \
                    not any(isinstance(e, ast.Starred) for e in written.elts):
                return Value(kind=Kind.COLLECTION, size=Size.BOUNDED, deps=base.deps)
        if looks_like_session(attr):
            return Value(kind=Kind.SESSION, certain=False, label=self.short(node), deps=base.deps)
        return unknown(base.deps)

    def row_attribute(self, node: ast.Attribute, base: Value, attr: str, load: bool) -> Value:
        model = base.model
        assert model is not None
        rel = self.project.relationship(model, attr)
        if rel is not None:
            target = self.project.find_model(rel.target, model.module_path, rel.app_label)
            if target is not None and model.current is not None:
                target = self.project.historical(target)  # reached from a historical model
            uselist = self.project.uselist(model, rel, target)
            # A relationship the ORM answers without a query (a related manager).
            value = hooks.ask(hooks.RELATIONSHIP, self, node, base, rel, target)
            if value is not None:
                return value
            one_parent = uselist is False and self.one_parent(base, target, rel)
            if load:
                self.facts.relationship_reads.append(RelationshipRead(
                    Span.of(node), self.short(node), model, rel, uselist, base.eager, base.loop,
                    self.effective_loops(), base.source, one_parent, base.asynchronous, base.awaitable,
                    base.rel_path, base.through_many, conditional=self.conditional(),
                    row_state=self.only_row_state(), exceptional=self._handling > 0))
            if target is None:
                return unknown(base.deps)
            eager = eager_below(base.eager, attr)
            if rel.returns_query:
                # A dynamic relationship is a Query (iterating it runs it); a write-only one is run
                # only through the statements its .select() builds. `via`: reached from this model.
                return Value(kind=Kind.QUERY, model=target, deps=base.deps, via=model.name,
                             statement=rel.lazy == "write_only",
                             query=QueryInfo(target, eager=eager or frozenset(), start=node, orm=target.style))
            # Rows reached from here remember their parent model (see one_parent).
            if uselist:  # (one row's collection: an IN list made from it is small, `capped`)
                return Value(kind=Kind.ROWS, model=target, size=Size.UNBOUNDED, eager=eager, deps=base.deps,
                             via=model.name, asynchronous=base.asynchronous, capped=base.kind is Kind.ROW)
            # Every row's parent is one row (`for p in order.payments.all(): p.order`): what is read
            # on it is read once, not per row (loop None).
            return Value(kind=Kind.ROW, model=target, eager=eager, loop=None if one_parent else base.loop,
                         deps=base.deps, maybe_rows=uselist is None, via=model.name, asynchronous=base.asynchronous,
                         rel_path=base.rel_path + (attr,), through_many=base.through_many)
        attr = model.column_name(attr)
        column = model.columns.get(attr)
        if column is not None:
            nullable = column.nullable and attr not in base.not_null
            return Value(kind=Kind.COLUMN_VALUE, model=model, name=attr, deps=base.deps, nullable=nullable)
        if base.awaitable:
            return unknown(base.deps)  # awaitable_attrs has attributes only
        method = self.member(node, base, attr, load)
        return method if method is not None else unknown(base.deps)

    @staticmethod
    def one_parent(row: Value, target: ModelInfo | None, rel=None) -> bool:
        """Do all rows of this loop share the many-to-one `target` row? A many-to-one load looks
        in the identity map first, so then it runs once, not per row: rows reached from that
        parent's collection (`for b in author.books: b.author`), or rows filtered by equality on
        the foreign key to it (`filter_by(user_id=uid)`, then `o.user`)."""
        if row.model is None:
            return False
        if rel is not None and rel.foreign_keys and row.model.identity_map and row.model.local_foreign_keys(rel):
            return all(column in row.fixed for column in rel.foreign_keys)  # (whatever the target)
        if target is None:
            return False
        if not row.model.identity_map:
            # Only rows reached from the parent's collection know it (a reverse foreign key's manager).
            return row.via == target.name
        if row.via == target.name:
            return True
        return any(row.model.references(column, target) for column in row.fixed)

    def class_of(self, value: Value) -> tuple[str, ClassDecl] | None:
        """The project class behind an instance, a class, a model class or a row."""
        if value.kind in (Kind.INSTANCE, Kind.CLASS) or (value.kind is Kind.MODEL_BASE and value.ref):
            return value.ref
        if value.kind in (Kind.ROW, Kind.MODEL_CLASS) and value.model is not None:
            return self.project.class_of(value.model)
        return None

    def method_value(self, start: tuple[str, ClassDecl], attr: str) -> Value | None:
        """`attr` as a method of a project class (or a base class of it); properties are marked,
        since reading one runs its body."""
        pending = [start]
        seen: set[tuple[str, str]] = set()
        for _ in range(64):  # (a model with many mixins reaches its base's methods late)
            if not pending:
                break
            path, cls = pending.pop(0)
            if (path, cls.name) in seen:
                continue
            seen.add((path, cls.name))
            function = cls.methods.get(attr)
            if function is not None:
                decorators = {last_name(d) for d in function.decorator_list}
                return Value(kind=Kind.FUNCTION, ref=FunctionRef(path, f"{cls.name}.{attr}"), name=attr,
                             is_property=bool(decorators & queries.PROPERTY_DECORATORS))
            module = self.project.decl(path)
            if module is None:
                continue
            for base_node in cls.bases:
                if isinstance(base_node, ast.Subscript):  # a generic base: `Rule[Model, Policy]`
                    base_node = base_node.value
                parent = self.class_of(self.project.eval_static(module, base_node))
                if parent is not None:
                    pending.append(parent)
        return None

    def linearized(self, start: tuple[str, ClassDecl]) -> list[tuple[str, ClassDecl]]:
        """The project classes of `start`'s method resolution order (depth first, left to right, a
        class shared by two bases kept at its last place; library bases left out)."""
        # (Depth first with a stack, not a nested recursive function: a closure that refers to
        # itself is a reference cycle, and through `self` it kept every walker alive until a
        # full collection.)
        order: list[tuple[str, ClassDecl]] = []
        stack: list[tuple[tuple[str, ClassDecl], int]] = [(start, 0)]
        while stack:
            entry, depth = stack.pop()
            path, cls = entry
            order.append(entry)
            module = self.project.decl(path)
            if module is None or depth > 16:
                continue
            parents = []
            for base_node in cls.bases:
                if isinstance(base_node, ast.Subscript):
                    base_node = base_node.value
                parent = self.class_of(self.project.eval_static(module, base_node))
                if parent is not None:
                    parents.append((parent, depth + 1))
            stack.extend(reversed(parents))  # the first base is visited first
        keys = [(path, cls.name) for path, cls in order]
        return [entry for i, entry in enumerate(order) if (entry[0], entry[1].name) not in keys[i + 1:]]

    def super_member(self, base: Value, attr: str) -> Value | None:
        """`super().attr` in a method of class C with `self`/`cls` the row or model class `base`:
        `attr` of the first class after C in `base`'s class's resolution order that defines it."""
        start, current = self.class_of(base), self.frame.cls
        if start is None or current is None:
            return None
        order = self.linearized(start)
        place = next((i for i, (path, cls) in enumerate(order)
                      if path == current[0] and cls.name == current[1].name), None)
        if place is None:
            return None
        for path, cls in order[place + 1:]:
            if attr in cls.methods:
                return self.method_value((path, cls), attr)
        return None

    def member(self, node: ast.Attribute, base: Value, attr: str, load: bool,
               method: Value | None = None) -> Value | None:
        """A method (to be called) or a property (read now: its body runs) of a project class."""
        if method is None:
            start = self.class_of(base)
            method = self.method_value(start, attr) if start is not None else None
        if method is None:
            return None
        # (A template engine calls a method it reads: templates/evaluate.py sets calls_methods.)
        if method.is_property or self.calls_methods and base.kind is Kind.ROW:
            if load and base.kind in (Kind.INSTANCE, Kind.ROW):  # on the class it is the descriptor
                self.record_call(node, method)
                self.rows_through_call(node, method, base, [], {})
                returned = self.returned(method.ref)  # (what its body returns, as a method's call gives)
                if returned is not UNKNOWN:
                    return returned.but(deps=returned.deps | base.deps)
                return Value(deps=base.deps, call_of=method.ref)  # it may return a query
            return unknown(base.deps)
        return method

    def eval_Subscript(self, node: ast.Subscript) -> Value:
        base = self.eval(node.value)
        index = self.eval(node.slice)
        deps = base.deps | index.deps
        value = hooks.ask(hooks.SUBSCRIPT_BY_KIND[base.kind], self, node, base, deps)
        if value is not None:
            return value
        if base.keyed and isinstance(node.slice, ast.Constant):  # `{"items": rows}["items"]`: the rows
            held = next((value for key, value in base.keyed if key == node.slice.value), None)
            if held is not None:
                return held.but(deps=held.deps | deps)
        if isinstance(node.slice, ast.Slice):
            if self.constant_width(node.slice):
                if base.kind is Kind.ROWS:
                    return base.but(size=Size.BOUNDED, deps=deps)
                return Value(kind=Kind.COLLECTION, size=Size.BOUNDED, deps=deps)
            if base.kind in (Kind.ROWS, Kind.COLLECTION) and node.slice.upper is not None and node.slice.step is None \
                    and (node.slice.lower is None or isinstance(node.slice.lower, ast.Constant)):
                return base.but(deps=deps, capped=True)  # `rows[:page_size]`: as many as the author chose
            return base.but(deps=deps) if base.kind in (Kind.ROWS, Kind.COLLECTION) else unknown(deps)
        if base.kind is Kind.ROWS and base.model is not None:
            return Value(kind=Kind.ROW, model=base.model, eager=base.eager, deps=deps, **base.provenance())
        if base.kind is Kind.DICT_OF_ROWS:
            return Value(kind=Kind.ROW, model=base.model, eager=base.eager, deps=deps, **base.provenance())
        if base.kind is Kind.DICT_OF_LISTS:
            return Value(kind=Kind.ROWS, model=base.model, eager=base.eager, size=Size.UNBOUNDED, deps=deps,
                         **base.provenance())
        if base.kind is Kind.COLLECTION and base.inner is not None:
            return base.inner.but(deps=deps)
        return unknown(deps)

    def constant_width(self, part: ast.Slice) -> bool:
        lower, upper = part.lower, part.upper
        if upper is None or part.step is not None:
            return False
        if isinstance(upper, ast.BinOp) and isinstance(upper.op, ast.Add) and lower is not None \
                and ast.dump(upper.left) == ast.dump(lower):
            return True  # xs[i:i + K]
        bounded = lambda n: self.values.get(id(n), UNKNOWN).size is Size.BOUNDED  # noqa: E731
        return (lower is None or bounded(lower)) and bounded(upper) and (
            lower is None or isinstance(lower, ast.Constant))

    # --- comprehensions --------------------------------------------------------------------------

    def eval_comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp) -> Value:
        self.push_frame("comprehension", None, "")
        frame = self.frame
        own: list[LoopScope] = []
        first = UNKNOWN
        inner_deps: frozenset[int] = frozenset()
        try:
            for index, generator in enumerate(node.generators):
                it = self.as_query(self.eval(generator.iter))
                if index == 0:
                    first = it
                it = self.evaluate(generator.iter, it, "__iter__", generator.iter) or it
                loop = self.new_loop("comprehension", Span.of(generator.iter), generator.iter, it)
                loop.iterable = Span.of(generator.iter)
                loop.target = generator.target.id if isinstance(generator.target, ast.Name) else None
                loop.yields_target = len(node.generators) == 1 and len(generator.ifs) == 1 and \
                    isinstance(node, (ast.ListComp,)) and isinstance(node.elt, ast.Name) and node.elt.id == loop.target
                frame.loops.append(loop)
                own.append(loop)
                self.bind(generator.target, self.element_of(it, loop))
                for condition in generator.ifs:
                    inner_deps |= self.eval(condition).deps
                    self.check_scan(loop, condition, Span.of(node), "comprehension")
            if isinstance(node, ast.DictComp):
                self.eval(node.key)
                element = self.eval(node.value)
            else:
                element = self.eval(node.elt)
        finally:
            del frame.loops[len(frame.loops) - len(own):]
            self.pop_frame()
        own_ids = {loop.id for loop in own}
        deps = frozenset((first.deps | inner_deps | element.deps) - own_ids)
        size = first.size if first.kind is not Kind.UNKNOWN or first.size is not Size.UNKNOWN else Size.UNKNOWN
        if first.kind in (Kind.ROWS, Kind.QUERY, Kind.RESULT, Kind.PAGE) and size is Size.UNKNOWN:
            size = Size.UNBOUNDED
        if len(own) > 1:
            size = Size.UNBOUNDED if any(loop.size is Size.UNBOUNDED for loop in own) else size
        if isinstance(node, ast.DictComp):
            if element.kind is Kind.ROW and element.model is not None:
                return Value(kind=Kind.DICT_OF_ROWS, model=element.model, eager=element.eager, size=size,
                             deps=deps, **element.provenance())
            if element.kind is Kind.ROWS and element.model is not None:
                return Value(kind=Kind.DICT_OF_LISTS, model=element.model, eager=element.eager, size=size,
                             deps=deps, **element.provenance())
            return Value(kind=Kind.COLLECTION, size=size, deps=deps)
        if element.kind is Kind.ROW and element.model is not None:
            carried = element.provenance()
            carried["not_null"] = frozenset(self.guarded_columns(node) | element.not_null)
            return Value(kind=Kind.ROWS, model=element.model, eager=element.eager, size=size, deps=deps,
                         **carried)
        if self.is_enum_member(node.elt):
            # [Color(v) for v in xs]: its distinct values are members of the enumeration.
            size = Size.BOUNDED
        # Rows per item, or a query built per item (`[c.widgets.order_by("n") for c in cards]`):
        # a loop over the list gets them item by item (iterating each then runs it per item).
        inner = element if element.kind is Kind.ROWS or (
            element.kind is Kind.QUERY and element.model is not None and element.deps & own_ids) else None
        if inner is not None and inner.kind is Kind.QUERY and inner.query is not None and inner.query.origin is None:
            inner = inner.but(query=replace(inner.query, origin=(self.decl.path, Span.of(node.elt))))
        # [xs[i:i + K] for i in range(0, len(xs), K)] is a list of chunks: loops over it are batched.
        return Value(kind=Kind.COLLECTION, size=size, deps=deps, inner=inner,
                     batched=first.batched and len(own) == 1, iterator=isinstance(node, ast.GeneratorExp),
                     capped=first.capped and len(own) == 1)

    def is_enum_member(self, node: ast.expr) -> bool:
        """`Color[name]` / `Color(value)` where Color is a project enumeration."""
        if isinstance(node, ast.Subscript):
            cls = self.values.get(id(node.value), UNKNOWN)
        elif isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords:
            cls = self.values.get(id(node.func), UNKNOWN)
        else:
            return False
        return cls.kind is Kind.CLASS and isinstance(cls.ref, tuple) and self.project.is_enum_class(*cls.ref)

    def eval_collection_comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp) -> Value:
        value = self.eval_comprehension(node)
        # `[c for c, _ in types]` over a parameter is no longer than it: what callers pass bounds
        # both (callers.py, through in_list_size).
        iterated = self.values.get(id(node.generators[0].iter)) if len(node.generators) == 1 else None
        return self.no_longer_than(iterated, value) if iterated is not None else value

    def no_longer_than(self, source: Value, value: Value) -> Value:
        """`value`, made from one item (at most) per item of `source`: when `source` is a
        parameter (or made so from one), so is `value` for what its callers pass (in_list_size)."""
        found = self.parameter_values.get(id(source))
        if found is None or found[0] is not source or value.size is not Size.UNBOUNDED:
            return value
        value = value.but()  # its own identity
        self.parameter_values[id(value)] = (value, *found[1:])
        return value

    eval_ListComp = eval_collection_comprehension
    eval_SetComp = eval_collection_comprehension
    eval_GeneratorExp = eval_collection_comprehension
    eval_DictComp = eval_collection_comprehension

    @staticmethod
    def guarded_columns(node: ast.ListComp | ast.SetComp | ast.GeneratorExp) -> set[str]:
        """`[o for o in rows if o.total is not None]` / `if o.total`: columns the filter keeps set."""
        if len(node.generators) != 1 or not isinstance(node.elt, ast.Name):
            return set()
        return guarded_attributes(node.generators[0].ifs, node.elt.id)

    def check_scan(self, loop: LoopScope, condition: ast.expr, span: Span, kind: str) -> bool:
        """ORM003's fact: inside `loop` (a scan of a collection), an equality between the scanned
        item and the item of an enclosing loop that repeats."""
        loops = self.frame.loops
        position = next((i for i, candidate in enumerate(loops) if candidate is loop), None)
        if not position or loop.size is not Size.UNBOUNDED or not loop.rows_of:
            return False
        # Outer loops that repeat the scan: not those the scan's block leaves (return/break).
        repeating = {candidate.id for candidate in self.effective_loops()}
        outer = {candidate.id: candidate for candidate in loops[:position] if candidate.id in repeating}
        if loop.iter_deps & outer.keys():
            return False  # the collection is rebuilt per outer item: not the same scan repeated
        for compare in eq_compares(condition):
            left = self.values.get(id(compare.left), UNKNOWN)
            right = self.values.get(id(compare.comparators[0]), UNKNOWN)
            for inner, other in ((left, right), (right, left)):
                if loop.id not in inner.deps or loop.id in other.deps:
                    continue
                repeating = [outer[i] for i in other.deps if i in outer and outer[i].repeats]
                if repeating:
                    outer_loop = max(repeating, key=lambda candidate: candidate.id)
                    inner_node, outer_node = (compare.left, compare.comparators[0]) if inner is left \
                        else (compare.comparators[0], compare.left)
                    self.facts.scans.append(Scan(
                        span, self.short_span(span), loop.label, self.short(compare), outer_loop, kind,
                        loop.iterable, loop.target, Span.of(inner_node), Span.of(outer_node),
                        loop.yields_target))
                    return True
        return False

    def short_span(self, span: Span) -> str:
        if span.line != span.end_line or not 0 < span.line <= len(self._lines):
            return ""
        data = self._lines[span.line - 1].encode("utf-8", "surrogatepass")
        text = data[span.col:span.end_col].decode("utf-8", "replace")
        return text if len(text) <= 60 else text[:59] + "…"


def combine_collections(op: ast.operator, left: Value, right: Value) -> Value | None:
    """How long `a - b` (a part of `a`), `a & b` (no longer than the shorter), `a | b` and `a + b`
    (as long as both) are, for collections (sets, lists, rows). Only "no bound" is concluded: a
    collection counted as bounded may have grown since (`s = set()`, then `s.add(x)` in a loop)."""
    kinds = (Kind.COLLECTION, Kind.ROWS)
    if left.kind not in kinds or left.batched:
        return None
    deps = left.deps | right.deps
    if isinstance(op, ast.Sub):  # whatever is taken away
        size = Size.UNBOUNDED if left.size is Size.UNBOUNDED else Size.UNKNOWN
        return left.but(deps=deps, size=size) if left.kind is Kind.ROWS else \
            Value(kind=Kind.COLLECTION, size=size, deps=deps)
    if right.kind not in kinds or right.batched:
        return None
    sizes = {left.size, right.size}
    if isinstance(op, ast.BitAnd):
        size = Size.UNBOUNDED if sizes == {Size.UNBOUNDED} else Size.UNKNOWN
    elif isinstance(op, (ast.BitOr, ast.Add)):
        size = Size.UNBOUNDED if Size.UNBOUNDED in sizes else Size.UNKNOWN
    else:
        return None
    if left.kind is Kind.ROWS and right.kind is Kind.ROWS and left.model is right.model and not isinstance(op, ast.BitAnd):
        return left.but(size=size, deps=deps, eager=None if left.eager is None or right.eager is None
                        else left.eager & right.eager, source=None)
    return Value(kind=Kind.COLLECTION, size=size, deps=deps)


def is_super_call(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"
