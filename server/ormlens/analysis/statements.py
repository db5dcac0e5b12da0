"""The interpreter's statements: blocks, assignments, imports, `if`, loops (`for`, `while`,
the loops that drain a collection), `with`; the guards and cache reads that make a query run
once instead of once per item."""

from __future__ import annotations

import ast

from ormlens.analysis import guards as branch
from ormlens.analysis import queries
from ormlens.analysis.astutil import and_parts, is_none
from ormlens.analysis.declarations import ImportRef
from ormlens.analysis.facts import LoopScope
from ormlens.analysis.flow import UNKNOWN, Kind, Size, Value, unknown
from ormlens.analysis.shapes import calls_in, is_constant_scalar, is_int_literal, node_handler, unconditional_calls
from ormlens.findings import Span


class Statements:
    """Executing statements (a part of interpreter.FactsBuilder)."""

    # --- statements ------------------------------------------------------------------------------

    def exec_block(self, stmts: list[ast.stmt]) -> None:
        exit_kind = None
        for stmt in stmts:
            if isinstance(stmt, (ast.Return, ast.Raise)):
                exit_kind = "return"
                break
            if isinstance(stmt, ast.Break):
                exit_kind = "break"
                break
        frame = self.frame
        if exit_kind and frame.loops:
            frame.exits.append((exit_kind, len(frame.loops)))
            try:
                self.exec_statements(stmts)
            finally:
                frame.exits.pop()
        else:
            self.exec_statements(stmts)

    def exec_statements(self, stmts: list[ast.stmt]) -> None:
        frame = self.frame
        outer = frame.guards
        try:
            for stmt in stmts:
                self.exec(stmt)
                # `if not p: return`: the rest of the block runs only when p is true.
                if isinstance(stmt, ast.If) and frame.parameters is not None and \
                        branch.exits(stmt.body) != branch.exits(stmt.orelse):
                    when_true, when_false = branch.condition(stmt.test, frame.parameters)
                    frame.guards += when_false if branch.exits(stmt.body) else when_true
        finally:
            frame.guards = outer

    def exec(self, stmt: ast.stmt) -> None:
        handler = node_handler(type(self), "exec_", type(stmt))
        if handler is not None:
            handler(self, stmt)
            return
        # Anything else: evaluate its expressions, run its blocks.
        for name, value in ast.iter_fields(stmt):
            if isinstance(value, ast.expr):
                self.eval(value)
            elif isinstance(value, list) and value:
                if isinstance(value[0], ast.stmt):
                    self.exec_block(value)
                elif isinstance(value[0], ast.expr):
                    for item in value:
                        self.eval(item)
                elif isinstance(value[0], (ast.ExceptHandler, ast.match_case)):
                    with self.branching():
                        for item in value:
                            self.exec_block(item.body)
                elif isinstance(value[0], ast.withitem):
                    for item in value:
                        self.eval(item.context_expr)

    def exec_Try(self, stmt: ast.Try) -> None:
        """As any statement, except that a name the body binds and a handler rebinds to a falsy
        constant (`try: w = Workout.objects.get(...) except ...: w = None`) keeps the body's value
        after the `try`: the handler's is the no-row case, which the code tests for (`if w:`)."""
        self.exec_block(stmt.body)
        fallbacks = {target.id for handler in stmt.handlers for node in handler.body
                     if isinstance(node, ast.Assign) and len(node.targets) == 1
                     for target in node.targets if isinstance(target, ast.Name) and falsy_constant(node.value)}
        kept = {name: self.lookup(name) for name in fallbacks}
        with self.branching():
            self._handling += 1
            try:
                for handler in stmt.handlers:
                    self.exec_block(handler.body)
            finally:
                self._handling -= 1
        for name, value in kept.items():
            if value.kind in (Kind.ROW, Kind.ROWS, Kind.QUERY):
                self.rebind(name, value)
        self.exec_block(stmt.orelse)
        self.exec_block(stmt.finalbody)

    exec_TryStar = exec_Try

    def exec_Match(self, stmt: ast.Match) -> None:
        """As any statement; a `match` on a loop's item whose cases send two or more distinct
        constants their own ways is a dispatch (see guarded_loop): each such case runs once per
        value of its kind."""
        self.eval(stmt.subject)
        cases = [match_constants(case.pattern) for case in stmt.cases]
        constants = [c for listed in cases if listed is not None for c in listed]
        index = None
        if isinstance(stmt.subject, ast.Name) and sum(listed is not None for listed in cases) >= 2 and \
                len(constants) == len(set(constants)):
            index = self.item_loop(stmt.subject.id)
        with self.branching():
            for case, listed in zip(stmt.cases, cases):
                if case.guard is not None:
                    self.eval(case.guard)
                entered = [("once", index + 1)] if index is not None and listed is not None else []
                self.frame.exits.extend(entered)
                try:
                    self.exec_block(case.body)
                finally:
                    del self.frame.exits[len(self.frame.exits) - len(entered):]

    def item_loop(self, name: str) -> int | None:
        """The index (in this frame's loops) of the `for` loop whose item `name` still is."""
        loops = self.frame.loops
        for index in range(len(loops) - 1, -1, -1):
            guard = self._item_guards.get(loops[index].id)
            if guard is not None and guard[0] == name and self.lookup(name) is guard[1]:
                return index
        return None

    def exec_Expr(self, stmt: ast.Expr) -> None:
        self.eval(stmt.value)
        self.routed_by(stmt.value)  # `connection.set_tenant(tenant)`

    def exec_Return(self, stmt: ast.Return) -> None:
        value = self.eval(stmt.value) if stmt.value is not None else Value(kind=Kind.SCALAR)
        if stmt.value is not None and value.kind is Kind.QUERY and not value.statement and \
                self.frame.kind == "function" and self.frame.loops and self.frame.loops[0].kind == "framework":
            # A method a framework calls per row gives it a value to render (a serializer's field,
            # a table's cell, a resolver's result): a query it returns unrun runs there, per row.
            self.evaluate(stmt.value, value, "list", stmt.value)
        if self.frame.kind == "function" and self.frame.function is not None:
            if stmt.value is None or not self.literal_collection(stmt.value):
                self.frame.function.literal_returns = False
            self.frame.function.returns.append(value)

    def literal_collection(self, node: ast.expr) -> bool:
        """`["a", "b"]`, `("a",) + KEYS`, or a name no function binds whose value is a bounded
        collection (a module constant, here or imported)."""
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return not any(isinstance(e, ast.Starred) for e in node.elts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self.literal_collection(node.left) and self.literal_collection(node.right)
        if not isinstance(node, ast.Name):
            return False
        frame = self.frame
        while frame is not None and frame.kind != "module":
            if node.id in frame.env:
                return False  # a local (or enclosing function's) name: it may have grown
            frame = frame.parent
        value = self.values.get(id(node), UNKNOWN)
        return value.kind is Kind.COLLECTION and value.size is Size.BOUNDED and not value.batched

    def exec_Assign(self, stmt: ast.Assign) -> None:
        # `rows = list(<queryset>)`: a statement a rewrite can replace whole (see the plugins' evaluate).
        if len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            self.assignment = stmt
        value = self.eval(stmt.value)
        self.assignment = None
        if len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            reads = self.cache_reads(stmt.value)
            if reads:
                value = value.but()  # its own identity: a later rebinding of the name is told apart
                self._cache_reads[stmt.targets[0].id] = (value, reads)
        for target in stmt.targets:
            self.bind(target, value)
            self.note_emptied(target, stmt.value)
        self.routed_by(stmt.value)  # `session = Session(bind=engine_for(tenant))`

    def exec_AnnAssign(self, stmt: ast.AnnAssign) -> None:
        if stmt.value is not None:
            value = self.eval(stmt.value)
        else:
            value = self.annotation_value(stmt.annotation) or UNKNOWN
        if stmt.simple or stmt.value is not None:
            self.bind(stmt.target, value)
        self.note_emptied(stmt.target, stmt.value)

    # `self.leases = []`, then `for lease in self.leases:` with nothing that could fill it in
    # between (no call that names `self`): the loop never runs, so what it would run is not there.

    def note_emptied(self, target: ast.expr, value: ast.expr | None) -> None:
        if self.frame.kind != "function" or not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)):
            return
        key = f"{target.value.id}.{target.attr}"
        if value is not None and branch.literal(value).value == ():  # `[]`, `()`, `{}`
            self.frame.emptied.add(key)
        else:
            self.frame.emptied.discard(key)

    def forget_emptied(self, node: ast.AST) -> None:
        """A call that names the object (`self.refill()`, `f(self)`, `self.leases.append(x)`) may fill it."""
        self.frame.emptied = {key for key in self.frame.emptied if not self.may_fill(node, key)}

    def may_fill(self, node: ast.AST, key: str) -> bool:
        """May `node` change the attribute `key` (`self.leases`)? Only what names the object can;
        a method of its own class whose code never names the attribute (`self.abort(...)`) cannot."""
        name, _, attr = key.partition(".")
        for call in ast.walk(node):
            if isinstance(call, ast.AugAssign) and name in {n.id for n in ast.walk(call.target) if isinstance(n, ast.Name)}:
                return True
            if not isinstance(call, ast.Call):
                continue
            arguments = [*call.args, *(kw.value for kw in call.keywords)]
            if any(isinstance(n, ast.Name) and n.id == name for a in arguments for n in ast.walk(a)):
                return True
            func = call.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == name:
                owner = self.lookup(name)
                method = self.method_value(owner.ref, func.attr) if owner.kind is Kind.INSTANCE and \
                    isinstance(owner.ref, tuple) else None
                decl = self.project.decl(method.ref.path) if method is not None else None
                function = decl.function_node(method.ref.qualname)[0] if decl is not None else None
                if function is None:
                    return True
                self.project.body(decl, function)  # (released after its module was read: put back)
                if any(isinstance(n, ast.Attribute) and n.attr == attr for n in ast.walk(function)):
                    return True
            elif any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(func)):
                return True  # `self.leases.append(x)`, `self.helper.run()`
        return False

    def never_runs(self, stmt: ast.For | ast.AsyncFor) -> bool:
        """Is the loop over an attribute this function emptied, filled by nothing around the loop
        (an enclosing loop's body may fill it for its next turn)?"""
        it = stmt.iter
        if not (isinstance(it, ast.Attribute) and isinstance(it.value, ast.Name)) or \
                f"{it.value.id}.{it.attr}" not in self.frame.emptied:
            return False
        key = f"{it.value.id}.{it.attr}"
        return not any(self.may_fill(body_stmt, key)
                       for loop in self.frame.loops for body_stmt in self._loop_bodies.get(loop.id, ()))

    def exec_AugAssign(self, stmt: ast.AugAssign) -> None:
        if self.frame.emptied:
            self.forget_emptied(stmt.target)
        value = self.eval(stmt.value)
        if isinstance(stmt.target, ast.Name):
            old = self.lookup(stmt.target.id)
            if isinstance(stmt.op, ast.Add) and value.kind is Kind.ROWS and value.model is not None and \
                    old.kind in (Kind.COLLECTION, Kind.ROWS) and old.model in (None, value.model):
                # `rows += query.all()` (chunked loading): still rows of that model, no longer bounded.
                self.rebind(stmt.target.id, value.but(size=Size.UNBOUNDED, deps=old.deps | value.deps))
                return
            self.rebind(stmt.target.id, unknown(old.deps | value.deps))
        else:
            self.eval(stmt.target)
            self.taint_container(stmt.target, value.deps)

    def exec_Import(self, stmt: ast.Import) -> None:
        for alias in stmt.names:
            name = alias.asname or alias.name.split(".")[0]
            module = alias.name if alias.asname else alias.name.split(".")[0]
            self.assign_name(name, self.project.resolve_import(self.decl, ImportRef(module, None)))

    def exec_ImportFrom(self, stmt: ast.ImportFrom) -> None:
        for alias in stmt.names:
            if alias.name != "*":
                ref = ImportRef(stmt.module or "", alias.name, stmt.level)
                self.assign_name(alias.asname or alias.name, self.project.resolve_import(self.decl, ref))

    def exec_If(self, stmt: ast.If) -> None:
        test = self.eval(stmt.test)
        self.evaluate(stmt.test, test, "bool", stmt.test)  # `if qs:` runs a queryset
        loops = self.frame.loops
        if loops and loops[-1].kind == "for" and loops[-1].id not in self._scanned_loops:
            if self.check_scan(loops[-1], stmt.test, loops[-1].span, "for"):
                self._scanned_loops.add(loops[-1].id)
        parameters = self.frame.parameters
        when_true, when_false = branch.condition(stmt.test, parameters) if parameters is not None else ((), ())
        entered = []
        if stmt not in self._dispatch:  # (an `elif` of a dispatch was marked with its head)
            self._dispatch.update(dispatch_chain(stmt))
        guarded = self.guarded_loop(stmt.test, stmt in self._dispatch)
        if guarded is not None:
            entered.append(("once", guarded + 1))
        owner = state_memo(stmt.test, stmt.body)
        # (A row's own state is no memo across rows: each row is another object.)
        miss = self.cache_miss(stmt.test, stmt.body)
        if miss or (owner is not None and self.lookup(owner).kind is not Kind.ROW):
            entered.append((miss or "memo", len(loops)))
        self.frame.exits.extend(entered)
        arms = self._arms
        unsure = not self.row_state(test, stmt.test) or fills_when_unset(stmt)
        # Names one arm binds and the other leaves: `if not isinstance(xs, list): xs = [xs]`.
        one_armed = assigned_names(stmt.body) ^ assigned_names(stmt.orelse)
        before = {name: self.lookup(name) for name in one_armed}
        self._unsure += unsure
        try:
            self._arms = arms + ((id(stmt), 0),)
            self.under(when_true, stmt.body)
        finally:
            del self.frame.exits[len(self.frame.exits) - len(entered):]
            self._arms = arms
        try:
            self._arms = arms + ((id(stmt), 1),)
            self.under(when_false, stmt.orelse)
        finally:
            self._arms = arms
            self._unsure -= unsure
        capped = branch.length_cap(stmt.test, stmt.body) if not stmt.orelse else None
        for name, other in before.items():
            # Bounded after the `if` only when bounded on both paths (or when only longer lists took it).
            value = self.lookup(name)
            if value.size is Size.BOUNDED and other.size is not Size.BOUNDED and \
                    value.kind in (Kind.COLLECTION, Kind.ROWS) and not value.batched and \
                    (capped is None or capped[0] != name):
                self.rebind(name, value.but(size=other.size))
        if capped is not None and capped[1]:  # `if len(ids) > MAX: raise ...`: past it, at most MAX items
            value = self.lookup(capped[0])  # (for an IN list; a loop over MAX items still repeats)
            if value.size is Size.UNBOUNDED and not value.capped:
                self.rebind(capped[0], value.but(capped=True))

    def guarded_loop(self, test: ast.expr, dispatch: bool = False) -> int | None:
        """The index (in this frame's loops) of a `for` loop whose body this `if` lets in for a
        bounded number of items: the test requires the loop's item to equal a value fixed for the
        loop (`k == "name"`, `k in ("a", "b")`, also in an `elif`). When the items are distinct
        (a mapping's keys, a set) that is at most once (or once per listed constant). When the
        facts know nothing of the iterable (not rows, not a list, not a parameter), the value must
        be a constant: it runs once per item equal to that constant, and nothing says items repeat.
        In a dispatch (`dispatch`: an `if`/`elif` chain or a `match` sending each of several
        constants its own way) the items are kinds, whatever iterates them: each arm runs once per
        value of its kind, not once per row of data."""
        loops = self.frame.loops
        for part in and_parts(test):
            if not (isinstance(part, ast.Compare) and len(part.ops) == 1):
                continue
            left, right = part.left, part.comparators[0]
            if isinstance(part.ops[0], ast.Eq):
                pairs = [(left, [right]), (right, [left])]
            elif isinstance(part.ops[0], ast.In) and isinstance(right, (ast.Tuple, ast.List, ast.Set)):
                pairs = [(left, right.elts)]
            else:
                continue
            for item, others in pairs:
                if not isinstance(item, ast.Name) or not others:
                    continue
                for index in range(len(loops) - 1, -1, -1):
                    guard = self._item_guards.get(loops[index].id)
                    if guard is None or guard[0] != item.id or self.lookup(item.id) is not guard[1] or \
                            (guard[3] and not dispatch):
                        continue
                    inner = {loop.id for loop in loops[index:]}
                    values = [self.values.get(id(other), UNKNOWN) for other in others]
                    if dispatch and all(not value.deps & inner for value in values):
                        return index
                    if all(is_constant_scalar(value) or (
                            guard[2] and isinstance(other, (ast.Name, ast.Attribute)) and not value.deps & inner)
                           for other, value in zip(others, values)):
                        return index
        return None

    def item_guard(self, loop: LoopScope, stmt: ast.For | ast.AsyncFor, it: Value) -> None:
        """Which loop target an equality guard can single out (see guarded_loop)."""
        target, node = stmt.target, stmt.iter
        pairs = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
            node.func.attr == "items" and not node.args and not node.keywords
        if pairs and isinstance(target, ast.Tuple) and len(target.elts) == 2 and isinstance(target.elts[0], ast.Name):
            name = target.elts[0].id  # `for key, value in mapping.items()`: the keys are distinct
            distinct, repeats = True, False
        elif isinstance(target, ast.Name) and not pairs:
            name = target.id
            distinct = self.distinct_items(node, it)
            # a list, rows, a parameter...: the same item may come again
            repeats = not distinct and not (it.kind is Kind.UNKNOWN and it.size is Size.UNKNOWN)
        else:
            return
        self._item_guards[loop.id] = (name, self.frame.env.get(name, UNKNOWN), distinct, repeats)

    def distinct_items(self, node: ast.expr, it: Value) -> bool:
        """Does iterating `node` give distinct items: a dict's or mapping's keys, a set?"""
        if isinstance(node, (ast.Dict, ast.Set, ast.DictComp, ast.SetComp)):
            return True
        if it.kind in (Kind.DICT_OF_ROWS, Kind.DICT_OF_LISTS):
            return True
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute) and node.func.attr == "keys" and not node.args:
                return True  # the Mapping protocol
            callee = self.values.get(id(node.func), UNKNOWN)
            return callee.kind is Kind.EXTERNAL and callee.name in (
                "builtins.set", "builtins.frozenset", "builtins.dict", "builtins.dict.fromkeys")
        return False

    def cache_reads(self, node: ast.expr) -> list[tuple[str, str, str]]:
        """`cache.get(key)`, `getattr(obj, "attr", None)`, or an `or` of them: each read as
        ("get", receiver, key) / ("attr", object, attribute name expression), by source text."""
        parts = node.values if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or) else [node]
        reads = []
        for part in parts:
            if not isinstance(part, ast.Call) or part.keywords:
                return []
            func = part.func
            if isinstance(func, ast.Attribute) and func.attr == "get" and 1 <= len(part.args) <= 2:
                reads.append(("get", ast.dump(func.value), ast.dump(part.args[0])))
            elif isinstance(func, ast.Name) and len(part.args) == 3 and \
                    self.lookup(func.id).name == "builtins.getattr":
                reads.append(("attr", ast.dump(part.args[0]), ast.dump(part.args[1])))
            else:
                return []
        return reads

    def cache_miss(self, test: ast.expr, body: list[ast.stmt]) -> str | None:
        """Is this `if` the miss branch of a cache read-through: it tests that a name assigned a
        cache read is empty (`x is None`, `not x`, `x == None`), or that a key is not in a mapping
        (`key not in memo`), and its block writes the value back where it was read (`cache.set(key,
        ...)`, `cache[key] = ...`, `setattr(obj, attr, ...)`, `obj.attr = ...`)? Then what the block
        runs, runs once per key, not once per call."""
        for part in and_parts(test):
            if isinstance(part, ast.Compare) and len(part.ops) == 1 and isinstance(part.ops[0], ast.NotIn):
                # `if key not in memo: memo[key] = ...`: a memo the block fills, once per key. A
                # mapping this very call made (a local) outlives no call: once per key within the
                # call, but each call runs it again ("local memo": still in the function's summary).
                memo = part.comparators[0]
                if self.writes_back(("get", ast.dump(memo), ast.dump(part.left)), body):
                    local = isinstance(memo, ast.Name) and memo.id in self.frame.env and \
                        id(self.frame.env[memo.id]) not in self.parameter_values
                    return "local memo" if local else "memo"
                continue
            if isinstance(part, ast.UnaryOp) and isinstance(part.op, ast.Not):
                name = part.operand
            elif isinstance(part, ast.Compare) and len(part.ops) == 1 and \
                    isinstance(part.ops[0], (ast.Is, ast.Eq)) and is_none(part.comparators[0]):
                name = part.left
            else:
                continue
            if isinstance(name, ast.NamedExpr):
                name = name.target
            if not isinstance(name, ast.Name) or name.id not in self._cache_reads:
                continue
            value, reads = self._cache_reads[name.id]
            if self.lookup(name.id) is value and any(self.writes_back(read, body) for read in reads):
                return "memo"
        return None

    def writes_back(self, read: tuple[str, str, str], body: list[ast.stmt]) -> bool:
        """Does a statement the block always runs (through `try:` / `with:`) write to `read`?"""
        kind, receiver, key = read
        for stmt in body:
            if isinstance(stmt, ast.Try):
                if self.writes_back(read, stmt.body) or self.writes_back(read, stmt.finalbody):
                    return True
            elif isinstance(stmt, (ast.With, ast.AsyncWith)):
                if self.writes_back(read, stmt.body):
                    return True
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                call = stmt.value
                func = call.func
                if kind == "get" and isinstance(func, ast.Attribute) and func.attr in ("set", "setdefault") and \
                        len(call.args) >= 2 and ast.dump(func.value) == receiver and ast.dump(call.args[0]) == key:
                    return True
                if kind == "attr" and isinstance(func, ast.Name) and len(call.args) == 3 and \
                        self.lookup(func.id).name == "builtins.setattr" and \
                        ast.dump(call.args[0]) == receiver and ast.dump(call.args[1]) == key:
                    return True
            elif isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    if kind == "get" and isinstance(target, ast.Subscript) and \
                            ast.dump(target.value) == receiver and ast.dump(target.slice) == key:
                        return True
                    if kind == "attr" and isinstance(target, ast.Attribute) and \
                            ast.dump(target.value) == receiver and ast.dump(ast.Constant(target.attr)) == key:
                        return True
        return False

    def exec_While(self, stmt: ast.While) -> None:
        drain = self.find_drain(stmt)
        if drain is not None:
            self.exec_draining_while(stmt, *drain)
            return
        # Any other `while` loop's count is not decided by items of a collection (a retry, a
        # polling loop, pages): it is a scope (a `break` in it leaves it, not the enclosing
        # `for`), never a loop that repeats a query (see LoopScope.repeats).
        it = self.eval(stmt.test)
        counter = self.counted_by_data(stmt)
        loop = self.new_loop("while", Span.of(stmt.test), stmt.test, unknown(it.deps) if counter is None
                             else Value(kind=Kind.COLLECTION, size=Size.UNBOUNDED, deps=it.deps))
        if counter is not None:
            loop.counted, loop.label = True, f"while {loop.label}"
        self.frame.loops.append(loop)
        if counter is not None:  # the counter is the loop's item: what uses it depends on the step
            value = self.lookup(counter)
            self.rebind(counter, value.but(deps=value.deps | {loop.id}))
        try:
            self.exec_block(stmt.body)
        finally:
            self.frame.loops.pop()
        self.exec_block(stmt.orelse)

    def counted_by_data(self, stmt: ast.While) -> str | None:
        """The counter of `while day <= routine.end: ...; day += step`: a name compared (<, <=, >,
        >=) to a row's column, that the body steps on every turn (`+=`/`-=` in its own block, not
        under an `if`). A bound written in the code, a setting or a parameter is not the data's."""
        test = stmt.test
        if not isinstance(test, ast.Compare) or len(test.ops) != 1 or \
                not isinstance(test.ops[0], (ast.Lt, ast.LtE, ast.Gt, ast.GtE)) or not isinstance(test.left, ast.Name):
            return None
        name = test.left.id
        if not any(isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id == name
                   and isinstance(node.op, (ast.Add, ast.Sub)) for node in stmt.body):
            return None
        bound = self.values.get(id(test.comparators[0]))
        return name if bound is not None and bound.kind is Kind.COLUMN_VALUE and bound.model is not None else None

    def exec_draining_while(self, stmt: ast.While, collection: ast.Name, takes: list[ast.Call]) -> None:
        """`while todo: x = todo.pop()`, `while (row := next(it, None)) is not None`: a loop over
        the items of `collection`, the calls in `takes` giving each item."""
        it = self.lookup(collection.id)
        worklist = self.grows(collection.id, stmt.body)
        if worklist:
            it = it.but(size=Size.UNBOUNDED)  # a work-list the loop adds to: as long as the data says
        span = Span(stmt.lineno, stmt.col_offset, stmt.test.end_lineno or stmt.test.lineno,
                    stmt.test.end_col_offset or 0)
        loop = self.new_loop("while", span, collection, it)
        loop.drains, loop.worklist = True, worklist
        for call in takes:
            self._drains[id(call)] = (loop, it)
        self.frame.loops.append(loop)
        try:
            self.eval(stmt.test)  # it runs on every turn
            self.exec_block(stmt.body)
        finally:
            self.frame.loops.pop()
        self.exec_block(stmt.orelse)

    def find_drain(self, stmt: ast.While) -> tuple[ast.Name, list[ast.Call]] | None:
        """The collection a `while` loop takes the next item of on every turn, and the calls that
        take it: in the test, or in a statement the body always runs (not under an `if`) when
        the test is about that collection (`while todo:`, `while len(queue) > 0:`) or `while True:`."""
        test = stmt.test
        forever = isinstance(test, ast.Constant) and bool(test.value)
        tested = {node.id for node in ast.walk(test) if isinstance(node, ast.Name)}
        candidates = [(call, True) for call in calls_in(test)]
        candidates += [(call, False) for call in unconditional_calls(stmt.body)]
        found: ast.Name | None = None
        takes: list[ast.Call] = []
        for call, in_test in candidates:
            name = self.drained_name(call)
            if name is None or (found is not None and name.id != found.id):
                continue
            if in_test or forever or name.id in tested:
                found = found or name
                takes.append(call)
        return (found, takes) if found is not None else None

    def drained_name(self, call: ast.Call) -> ast.Name | None:
        """`next(it)`, `todo.pop()`, `queue.popleft()`, `heappop(heap)`, `result.fetchone()`: the
        name of the collection this call takes one item of (`d.pop(key)` takes no next item)."""
        func = call.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and not call.keywords:
            if func.attr in queries.DRAIN_METHODS and (not call.args or (
                    len(call.args) == 1 and is_int_literal(call.args[0]))):
                return func.value
            if func.attr in queries.RESULT_DRAIN_METHODS and not call.args and \
                    self.lookup(func.value.id).kind is Kind.RESULT:
                return func.value
        if call.args and isinstance(call.args[0], ast.Name) and isinstance(func, (ast.Name, ast.Attribute)):
            callee = self.static_value(func)
            if callee.kind is Kind.EXTERNAL and callee.name in queries.DRAIN_FUNCTIONS:
                return call.args[0]
        return None

    def grows(self, name: str, body: list[ast.stmt]) -> bool:
        """Does the loop body add items to `name` (`todo.append(x)`, `todo += children`)?"""
        for stmt in body:
            for node in ast.walk(stmt):
                if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
                    return True
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and \
                        func.value.id == name and func.attr in queries.GROW_METHODS:
                    return True
                if node.args and isinstance(node.args[0], ast.Name) and node.args[0].id == name and \
                        isinstance(func, (ast.Name, ast.Attribute)) and \
                        self.static_value(func).name in queries.GROW_FUNCTIONS:
                    return True
        return False

    def exec_For(self, stmt: ast.For | ast.AsyncFor) -> None:
        if self.frame.emptied and self.never_runs(stmt):
            self.eval(stmt.iter)
            self.exec_block(stmt.orelse)
            return
        it = self.as_query(self.eval(stmt.iter))
        span = Span(stmt.lineno, stmt.col_offset, stmt.iter.end_lineno or stmt.iter.lineno,
                    stmt.iter.end_col_offset or 0)
        it = self.evaluate(stmt.iter, it, "__iter__", stmt.iter, header=span) or it
        if it.kind in (Kind.UNKNOWN, Kind.COLLECTION) and self.in_list_size(it, loop=True) is Size.BOUNDED:
            it = it.but(size=Size.BOUNDED)  # a parameter every caller fills with a list written out
        loop = self.new_loop("for", span, stmt.iter, it)
        loop.statement, loop.iterable = Span.of(stmt), Span.of(stmt.iter)
        loop.asynchronous = isinstance(stmt, ast.AsyncFor)
        loop.target = stmt.target.id if isinstance(stmt.target, ast.Name) else None
        loop.reiterable = it.kind in (Kind.COLLECTION, Kind.ROWS) and not it.batched and not it.iterator
        self.frame.loops.append(loop)
        self._loop_bodies[loop.id] = stmt.body
        reads_before = len(self.facts.relationship_reads)
        try:
            self.bind(stmt.target, self.element_of(it, loop))
            self.item_guard(loop, stmt, it)
            self.exec_block(stmt.body)
        finally:
            self.frame.loops.pop()
        self.loaded_by_loop(stmt.iter, loop, reads_before)
        self.exec_block(stmt.orelse)

    def loaded_by_loop(self, iterable: ast.expr, loop, reads_before: int) -> None:
        """`for cp in positions: cp.voucher` loads each row's voucher once and the ORM keeps it on
        the row: a later loop over the same list reads it from memory. So the list, when a name,
        is rebound with what every turn of the loop loaded (to-one relations read unconditionally)."""
        if not isinstance(iterable, ast.Name):
            return
        rows = self.lookup(iterable.id)
        if rows.kind is not Kind.ROWS or rows.eager is None or rows.iterator:
            return
        loaded = {(*read.rel_path, read.relationship.name)
                  for read in self.facts.relationship_reads[reads_before:]
                  if read.row_loop == loop.id and read.uselist is False and not read.conditional}
        if loaded - rows.eager:
            self.rebind(iterable.id, rows.but(eager=rows.eager | loaded))

    exec_AsyncFor = exec_For

    def exec_With(self, stmt: ast.With | ast.AsyncWith) -> None:
        routed = set()
        for item in stmt.items:
            value = self.eval(item.context_expr)
            if item.optional_vars is not None:
                self.bind(item.optional_vars, value if value.kind is Kind.SESSION else UNKNOWN)
            routed |= self._routing.get(id(item.context_expr), frozenset()) - self._routed
        # `with schema_context(tenant.schema_name):`: the block runs on the item's own schema.
        self._routed |= routed
        try:
            self.exec_block(stmt.body)
        finally:
            self._routed -= routed

    exec_AsyncWith = exec_With


# Methods that add to a collection (what a membership memo's block does to its collection).
ADDING_METHODS = frozenset({"add", "append", "update", "setdefault", "extend"})


def state_memo(test: ast.expr, body: list[ast.stmt]) -> str | None:
    """Is this `if` a memo on the object's own state: it tests an attribute of `self` (`not
    self.loaded`, `self.plugins is None`, `key not in self.loaded_keys`) that its block sets or
    adds to (`self.loaded = True`, `self.loaded_keys.add(key)`)? Then the block runs once per
    object (per key), not once per call: the object's name (`self`), else None."""
    for part in and_parts(test):
        target = None
        if isinstance(part, ast.UnaryOp) and isinstance(part.op, ast.Not):
            target = part.operand
        elif isinstance(part, ast.Compare) and len(part.ops) == 1:
            if isinstance(part.ops[0], (ast.Is, ast.Eq)) and is_none(part.comparators[0]):
                target = part.left
            elif isinstance(part.ops[0], ast.NotIn):
                target = part.comparators[0]
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and \
                target.value.id in ("self", "cls") and sets_attribute(ast.unparse(target), body):
            return target.value.id
    return None


def sets_attribute(target: str, body: list[ast.stmt]) -> bool:
    """Does the block assign the attribute written `target`, or add to it, anywhere inside?"""
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    if ast.unparse(t) == target or (isinstance(t, ast.Subscript) and ast.unparse(t.value) == target):
                        return True
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    node.func.attr in ADDING_METHODS and ast.unparse(node.func.value) == target:
                return True
    return False


def dispatch_chain(stmt: ast.If) -> list[ast.If]:
    """`if kind == "a": ... elif kind in ("b", "c"): ...`: the `if` and its `elif`s when each
    tests one name against constants (literals, dotted names such as enum members) and together
    they send two or more distinct constants their own ways; else nothing."""
    chain: list[ast.If] = []
    names: set[str] = set()
    constants: list[str] = []
    node = stmt
    while True:
        tested = constant_test(node.test)
        if tested is None:
            break
        chain.append(node)
        names.add(tested[0])
        constants += tested[1]
        if len(node.orelse) != 1 or not isinstance(node.orelse[0], ast.If):
            break
        node = node.orelse[0]
    distinct = len(constants) == len(set(constants))
    return chain if len(chain) >= 2 and len(names) == 1 and distinct else []


def constant_test(test: ast.expr) -> tuple[str, list[str]] | None:
    """`x == "a"`, `"a" == x`, `x in ("a", "b")`: the name tested and the constants (as text)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return None
    left, right = test.left, test.comparators[0]
    if isinstance(test.ops[0], ast.Eq):
        if isinstance(right, ast.Name) and is_constant_node(left):
            left, right = right, left
        return (left.id, [ast.dump(right)]) if isinstance(left, ast.Name) and is_constant_node(right) else None
    if isinstance(test.ops[0], ast.In) and isinstance(left, ast.Name) and \
            isinstance(right, (ast.Tuple, ast.List, ast.Set)) and right.elts and all(map(is_constant_node, right.elts)):
        return left.id, [ast.dump(e) for e in right.elts]
    return None


def is_constant_node(node: ast.expr) -> bool:
    """A literal, or a dotted name (`Kind.A`, `settings.MODE`): a value the loop does not change."""
    if isinstance(node, ast.Constant):
        return True
    if not isinstance(node, ast.Attribute):
        return False
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def match_constants(pattern: ast.pattern) -> list[str] | None:
    """`case "a":`, `case Kind.A | Kind.B:`, `case None:`: the constants (as text); None for
    any other pattern (a capture, a wildcard, a class pattern)."""
    if isinstance(pattern, ast.MatchValue) and is_constant_node(pattern.value):
        return [ast.dump(pattern.value)]
    if isinstance(pattern, ast.MatchSingleton):
        return [repr(pattern.value)]
    if isinstance(pattern, ast.MatchOr):
        parts = [match_constants(p) for p in pattern.patterns]
        return None if any(p is None for p in parts) else [c for p in parts for c in p]
    return None


def falsy_constant(node: ast.expr) -> bool:
    """`None`, `False`, `0`, `""`, `[]`, `{}`: what a handler binds for "nothing"."""
    if isinstance(node, ast.Constant):
        return not node.value
    if isinstance(node, (ast.List, ast.Tuple)):
        return not node.elts
    return isinstance(node, ast.Dict) and not node.keys


def assigned_names(block: list[ast.stmt]) -> set[str]:
    """Names a block binds by a plain assignment at its own level."""
    return {target.id for stmt in block if isinstance(stmt, ast.Assign)
            for target in stmt.targets if isinstance(target, ast.Name)}


def fills_when_unset(stmt: ast.If) -> bool:
    """`if not self.local_id: self.local_id = ...`: an attribute set the first time the object is
    saved. A row read from the database has it: the arm is for new objects, not for rows."""
    test = stmt.test
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        tested = test.operand
    elif isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Is) and \
            isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None:
        tested = test.left
    else:
        return False
    if not isinstance(tested, ast.Attribute):
        return False
    text = ast.unparse(tested)
    return any(isinstance(node, (ast.Assign, ast.AnnAssign)) and
               any(ast.unparse(target) == text for target in (node.targets if isinstance(node, ast.Assign)
                                                              else [node.target]))
               for part in stmt.body for node in ast.walk(part))
