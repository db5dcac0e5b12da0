"""A view's templates, evaluated with the values it passes: the facts of each template it renders
(ModuleFacts of the template's path), for the rules to read as they read a module's.

For each TemplateRender of a module (renders.py): the template file (lookup.py), read (django_syntax,
jinja_syntax), turned into a Python function (translate.py), and walked by the interpreter with its
parameters bound to the view's values. A row the view passes keeps what its queryset eager-loads;
the expression the view gives it by (`{"orders": qs}`) becomes the reads' source, in the view's file
(RelationshipRead.source_path): the quick fix adds the loader there."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ormlens.analysis.contexts import context_key
from ormlens.analysis.declarations import ModuleDecl
from ormlens.analysis.facts import ModuleFacts
from ormlens.analysis.flow import Kind
from ormlens.analysis.interpreter import FactsBuilder
from ormlens.analysis.templates import files
from ormlens.analysis.templates.renders import ClassView, TemplateRender, resolve_class_view
from ormlens.analysis.templates.translate import LINE_BLOCK, Translator, position
from ormlens.positions import shared_lines
from ormlens.spans import Span

log = logging.getLogger("ormlens")
MAX_EVALUATIONS_KEPT = 1_000


@dataclass(eq=False)
class TemplateFacts:
    """One render of one template: its facts, the files inlined into it (index k: lines shifted by
    k·LINE_BLOCK), the view that renders it."""

    facts: ModuleFacts
    files: list[tuple[str, str]]
    render: TemplateRender
    view: str  # the view module's path

    def place(self, span: Span) -> tuple[str, Span]:
        """(file, span in it) of a span of the template's facts."""
        k, line = position(span.line)
        _, end_line = position(span.end_line)
        path = self.files[k][0] if 0 <= k < len(self.files) else self.files[0][0]
        return path, Span(line, span.col, end_line, span.end_col)


class TemplateBuilder(FactsBuilder):
    """The interpreter over a template's function (translate.py). Django calls what a step of a
    variable finds callable: a model's method read in a Django template runs (calls_methods)."""

    def __init__(self, decl: ModuleDecl, project, files: list[tuple[str, str]] | None = None,
                 language: str | None = None):
        # (Without files: a walk of a Python function the template calls, contexts.context_walker.)
        super().__init__(decl, project)
        self.defers = False
        self.calls_methods = language == "django"
        self._file_lines = [shared_lines(text) for _, text in files or ()]

    def row_attribute(self, node, base, attr: str, load: bool):
        """As the interpreter's; a Django row reached through a foreign key from rows the view passed
        keeps their source (the view's queryset): `select_related("customer__address")` goes there."""
        value = super().row_attribute(node, base, attr, load)
        if value.kind is Kind.ROW and value.source is None and value.rel_path and \
                base.source is not None and base.source.line < 0 and base.model is not None and \
                base.model.style == "django" and not value.through_many:
            return value.but(source=base.source)
        return value

    def line_bytes(self, line: int) -> bytes | None:
        """A line of the template or of a file inlined into it (translate.position)."""
        if not self._file_lines:  # (a walk of a Python function the template calls)
            return super().line_bytes(line)
        k, own = position(line)
        lines = self._file_lines[k] if 0 <= k < len(self._file_lines) else []
        return lines[own - 1].encode("utf-8", "surrogatepass") if 0 < own <= len(lines) else None


def template_facts(project, facts: ModuleFacts) -> list[TemplateFacts]:
    """The facts of every template `facts`' module renders (one per render found and read)."""
    out = []
    for render in facts.template_renders:
        try:
            if isinstance(render, ClassView):
                render = resolve_class_view(project, facts.functions, render)
            if render is None or not render.context:
                continue  # no rows of a known query given: nothing it reads can be judged
            found = _evaluate(project, facts.path, render)
        except RecursionError:
            found = None
        except Exception:  # noqa: BLE001 - a template costs its own findings, never the view's
            log.exception("ormlens: evaluating templates of %s failed", facts.path)
            found = None
        if found is not None:
            out.append(found)
    return out


def _evaluate(project, view: str, render: TemplateRender) -> TemplateFacts | None:
    cache = project.plugin_caches.setdefault("templates", {})
    path = next((found for name in render.names if (found := files.find(project, name, view)) is not None), None)
    loaded = files.load(project, path, render.language, cache) if path is not None else None
    if loaded is None:
        return None
    text, template = loaded

    bound, sources = {}, {}
    for i, entry in enumerate(render.context):
        value = entry.value.but(deps=frozenset(), loop=None)  # (the view's loops mean nothing here)
        # Where a loader goes: the query that loaded the rows (in the view), else the expression the
        # view gives them by (a queryset a name holds).
        where = value.source if value.source is not None and value.kind is not Kind.QUERY else entry.span
        if where is not None:
            # A mark no template span has: rows whose source it is came from this expression of the view.
            mark = Span(-1 - i, 0, -1 - i, 0)
            sources[mark] = where
            value = value.but(source=mark)
        bound[entry.name] = value
    # The same template with the same values gives the same facts: an editor's keystroke in a view
    # with many renders walks them again only when what a walk read changed (a model, a template).
    key = ("evaluated", view, path, template.language, files.digest(text),
           tuple((name, context_key(value), sources.get(value.source)) for name, value in bound.items()))
    node = f"template-eval:{files.digest(repr(key))}"
    project.dependencies.read(node)  # (the view's findings read it)
    held = cache.get(key)
    if held is not None and project.dependencies.recorded(node):
        return TemplateFacts(held[0], held[1], render, view)
    with project.dependencies.computing(node):
        project.dependencies.read(path)
        translation = Translator(path, text, template, files.loader(project, template.language), set(bound)).translate()
        decl = ModuleDecl(path, translation.module, text)
        builder = TemplateBuilder(decl, project, translation.files, template.language)
        builder.bound_arguments = {name: value for name, value in bound.items() if name in translation.names}
        builder.exec_FunctionDef(translation.function)
    result = builder.facts
    for read in result.relationship_reads:
        if read.source in sources:
            read.source, read.source_path = sources[read.source], view
        elif read.source is not None and (read.source.line < 0 or read.source.line >= LINE_BLOCK):
            read.source = None  # (a mark lost its meaning, or a span in an inlined file)
    cache[key] = (result, translation.files)
    evaluated = cache.setdefault("evaluated keys", [])
    evaluated.append(key)
    while len(evaluated) > MAX_EVALUATIONS_KEPT:  # (a long editing session moves a view's spans: new keys)
        cache.pop(evaluated.pop(0), None)
    return TemplateFacts(result, translation.files, render, view)
