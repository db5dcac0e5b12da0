"""Function summaries of the project index: what calling a project function gives and whether it
runs a query (directly or through calls, to any depth), each answered once per function and
recorded in the dependency graph under the function's module (dependencies.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ormlens.analysis.chunking import yields_chunks
from ormlens.analysis.dependencies import facts_node
from ormlens.analysis.facts import FunctionFacts, FunctionRef, QueryCall
from ormlens.analysis.flow import UNKNOWN, Kind, Value
from ormlens.analysis.guards import CallArguments, Guard, Signature, bind, translate
from ormlens.analysis.interpreter import function_alone, returns_always
from ormlens.analysis.returns import one_query, summarize_returns
from ormlens.analysis.units import YIELD, note_alone, text_matches
from ormlens.findings import Span
from ormlens.positions import shared_lines


@dataclass
class QueryTrace:
    """How a function ends up running a query: the call chain and the query at its end."""

    chain: list[str]          # qualified names of the functions, caller first
    query: QueryCall
    path: str
    # The function at the end of the chain only writes (every query it runs, directly or through
    # calls, is an INSERT/UPDATE/DELETE): calling it per item is a write per item.
    writes_only: bool = False
    expiring: bool = False   # (QueryPath.expiring)


@dataclass(frozen=True)
class QueryPath:
    """One way calling a function reaches a query, and the tests on the function's own
    parameters that must hold for it to (guards.py)."""

    guards: tuple[Guard, ...]
    chain: tuple[str, ...]   # qualified names of the functions, caller first
    query: QueryCall
    path: str
    expiring: bool = False   # a function on the chain is behind a cache that expires


@dataclass(frozen=True)
class QuerySummary:
    """What calling a function may run, computed once per function: its query paths in the order
    a message names them (its own queries, then those of its calls), cut after the first one no
    argument can switch off. `writes_only`: every query it may reach writes."""

    paths: tuple[QueryPath, ...]
    writes_only: bool
    signature: Signature | None


# Guarded paths kept per function; past it, one more is kept with its guards dropped (it may run).
MAX_GUARDED_PATHS = 16


class FunctionSummaries:
    """The function-summary half of ProjectIndex (which it is mixed into: it uses the index's
    facts, declarations and caches)."""

    # While a module's facts pass runs with units (units.py): (its path, the qualified names of its
    # own functions whose facts were read), for the unit being walked.
    own_reads: tuple[str, set[str]] | None = None
    # The facts of the modules whose pass is running and records units, by path.
    passes: dict

    def read_function(self, ref: FunctionRef) -> None:
        """What is being computed reads what is derived from function `ref`."""
        self.dependencies.read(facts_node(ref.path))
        if self.own_reads is not None and self.own_reads[0] == ref.path:
            self.own_reads[1].add(ref.qualname)

    def returns(self, ref: FunctionRef) -> Value:
        """What calling `ref` gives, when it is a Django queryset or rows (returns.summarize_returns).
        While its module's facts pass is running (an import cycle), from a walk of that function
        alone: the answer must not depend on which module was analysed first."""
        self.read_function(ref)
        if ref in self._returns:
            return self._returns[ref]
        self._returns[ref] = UNKNOWN  # in progress: a cycle of such walks answers unknown
        with self.dependencies.computing(facts_node(ref.path)):
            function = self.function_facts(ref)
            value = summarize_returns(function) if function is not None else UNKNOWN
        built = function.returns[0].query if value.kind is Kind.QUERY and function.returns else None
        if built is not None and value.query is not None and value.query.origin is None:
            # Where the chain starts, for findings at a caller: in its own callee when it came from one.
            origin = built.origin or ((ref.path, Span.of(built.start)) if built.start is not None else None)
            if origin is not None:
                value = value.but(query=replace(value.query, origin=origin))
        self._returns[ref] = value
        return value

    def function_facts(self, ref: FunctionRef) -> FunctionFacts | None:
        """The facts of a module-level function or method: from its module's one pass (cached);
        while that pass is running (an import cycle, a function defined further down), from a
        walk of that function alone, so answers do not depend on which module came first."""
        self.read_function(ref)
        if ref.path in self._building:
            decl = self.decl(ref.path)
            function = function_alone(decl, ref.qualname, self) if decl is not None else None
            running = self.passes.get(ref.path)  # its pass records units: what this walk gave
            if running is not None and function is not None:
                note_alone(running, ref.qualname, function)
            return function
        facts = self.facts(ref.path)
        return facts.function(ref.qualname, self) if facts is not None else None

    def yields_chunks(self, ref: FunctionRef) -> bool:
        """Is `ref` a generator that splits its iterable parameter into chunks (chunking.py)?"""
        self.read_function(ref)
        if ref in self._chunkers:
            return self._chunkers[ref]
        decl = self.decl(ref.path)
        node = decl.function_node(ref.qualname)[0] if decl is not None else None
        # Only a generator can: most functions have no `yield` in their text (nor a body to walk).
        if node is not None and text_matches(shared_lines(decl.source), node, YIELD):
            self.body(decl, node)
        else:
            node = None
        self._chunkers[ref] = answer = node is not None and yields_chunks(node)
        self._release_over_budget()
        return answer

    def query_trace(self, ref: FunctionRef, arguments: CallArguments | None = None) -> QueryTrace | None:
        """Does calling `ref` with `arguments` (None: unknown) run a query (directly or through
        calls, to any depth)? How? The first of its query paths whose guards the literal
        arguments (or omitted ones' defaults) do not switch off."""
        summary = self.query_summary(ref)
        if summary is None:
            return None
        bound = bind(summary.signature, arguments) if arguments is not None and summary.signature else None
        for path in summary.paths:
            if translate(path.guards, bound) is not None:
                return QueryTrace(list(path.chain), path.query, path.path, summary.writes_only, path.expiring)
        return None

    def query_summary(self, ref: FunctionRef) -> QuerySummary | None:
        """The query paths of `ref` (None: it runs none). Each function is answered once; a call
        back into one still being answered (recursion) counts as no query on that path."""
        self.read_function(ref)
        if ref in self._traces:
            return self._traces[ref]
        self._traces[ref] = None  # in progress
        with self.dependencies.computing(facts_node(ref.path)):
            summary = self._summarize_queries(ref)
        self._traces[ref] = summary
        return summary

    def _summarize_queries(self, ref: FunctionRef) -> QuerySummary | None:
        facts = self.facts(ref.path)
        function = facts.function(ref.qualname, self) if facts else None
        summary = None
        if function is not None and not function.cached:
            inner = [self.query_summary(call.callee) for call in function.calls]
            writes_only = all(query.write for query in function.query_calls) and \
                all(s is None or s.writes_only for s in inner)
            paths: list[QueryPath] = []

            def add(path: QueryPath) -> bool:
                """Keep a path; False once one that always runs is kept (later ones are not named)."""
                if len(paths) >= MAX_GUARDED_PATHS:
                    path = QueryPath((), path.chain, path.query, path.path, path.expiring)
                paths.append(path)
                return bool(path.guards)

            def collect() -> None:
                for query in function.query_calls:
                    if query.exceptional:
                        continue  # (runs after a failure: not what a call of it costs)
                    if not add(QueryPath(query.guards, (ref.qualname,), query, ref.path, function.expiring_cache)):
                        return
                for call, callee in zip(function.calls, inner):
                    if callee is None or call.exceptional:
                        continue
                    bound = bind(callee.signature, call.arguments) \
                        if call.arguments is not None and callee.signature is not None else None
                    for path in callee.paths:
                        guards = translate(path.guards, bound)
                        if guards is not None and not add(QueryPath(
                                call.guards + guards, (ref.qualname, *path.chain), path.query, path.path,
                                function.expiring_cache or path.expiring)):
                            return

            collect()
            if paths:
                summary = QuerySummary(tuple(paths), writes_only, function.signature)
        return summary

    def returned_query(self, ref: FunctionRef, function: FunctionFacts | None = None) -> Value | None:
        """The unexecuted query (a Query, a select()) that calling `ref` returns, when every
        `return` of it gives one of the same model; the caller decides when it runs. Only what
        stays true outside the function is kept: the model, whether it is a statement, yields
        tuples, is limited or ordered, and what every `return`'s loader options load (options the
        walk cannot read, `.options(*opts)`, already count as loading anything)."""
        self.read_function(ref)
        if ref in self._returned_queries:
            return self._returned_queries[ref]
        self._returned_queries[ref] = None  # in progress: a recursive call returns nothing known
        with self.dependencies.computing(facts_node(ref.path)):
            result = self._returned_query(ref, function)
        self._returned_queries[ref] = result
        return result

    def _returned_query(self, ref: FunctionRef, function: FunctionFacts | None) -> Value | None:
        decl = self.decl(ref.path)
        values = None
        if decl is not None and returns_always(decl, ref.qualname):
            if function is None or not function.done:
                function = self.function_facts(ref)
            if function is not None and not function.generator:
                values = function.returns
        return one_query(values) if values else None
