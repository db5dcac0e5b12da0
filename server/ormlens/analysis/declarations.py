"""The top-level declarations of a module: imports, module-level assignments, classes, functions.
Read from module.body and class bodies only (no walk), so other modules can resolve names in this
one without waiting for its full facts pass; this is what breaks import cycles."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ImportRef:
    module: str           # "a.b" (may be "" for `from . import x`)
    name: str | None      # `from a.b import name`; None for `import a.b`
    level: int = 0        # leading dots of a relative import


@dataclass(eq=False)
class ClassDecl:
    name: str
    node: ast.ClassDef
    # (attribute, annotation, value, line) in body order.
    attrs: list[tuple[str, ast.expr | None, ast.expr | None, int]] = field(default_factory=list)
    methods: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict)

    @property
    def bases(self) -> list[ast.expr]:
        return self.node.bases

    def keyword(self, name: str) -> ast.expr | None:
        return next((kw.value for kw in self.node.keywords if kw.arg == name), None)

    def attr_value(self, name: str) -> ast.expr | None:
        return next((value for attr, _, value, _ in self.attrs if attr == name), None)

    def meta_option(self, option: str) -> object:
        """A literal option of the class's inner `class Meta` (Django's and Peewee's models), or None."""
        for stmt in self.node.body:
            if isinstance(stmt, ast.ClassDef) and stmt.name == "Meta":
                for inner in stmt.body:
                    if isinstance(inner, ast.Assign) and any(
                            isinstance(t, ast.Name) and t.id == option for t in inner.targets):
                        return inner.value.value if isinstance(inner.value, ast.Constant) else None
        return None


@dataclass(eq=False)
class ModuleDecl:
    path: str
    tree: ast.Module
    source: str
    imports: dict[str, ImportRef] = field(default_factory=dict)
    assigns: dict[str, ast.expr] = field(default_factory=dict)
    annotations: dict[str, ast.expr] = field(default_factory=dict)
    classes: dict[str, ClassDecl] = field(default_factory=dict)
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict)
    star_imports: list[ImportRef] = field(default_factory=list)
    # Set by sources.outline when parsed: a hash of the text outside the function bodies (what
    # the declarations come from), and the lines of each body (residency.declared_functions'
    # order; None: the body starts on a line of its header).
    outline: int = 0
    bodies: list[tuple[int, int] | None] = field(default_factory=list)
    words: tuple[str, frozenset[str]] | None = None  # (its text, the identifiers in it), when asked (callers.py)
    # What plugins derive from this text alone, once (a changed text is a new ModuleDecl).
    derived: dict = field(default_factory=dict)

    def function_node(self, qualname: str) -> tuple[ast.FunctionDef | ast.AsyncFunctionDef | None, ClassDecl | None]:
        """A module-level function (`name`) or a method (`Class.name`), and its class."""
        parts = qualname.split(".")
        cls = self.classes.get(parts[0]) if len(parts) == 2 else None
        node = self.functions.get(parts[0]) if len(parts) == 1 else cls.methods.get(parts[1]) if cls else None
        return node, cls


def collect(path: str, source: str, tree: ast.Module) -> ModuleDecl:
    decl = ModuleDecl(path, tree, source)
    _collect_block(decl, tree.body)
    return decl


def _collect_block(decl: ModuleDecl, body: list[ast.stmt]) -> None:
    for stmt in body:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    decl.imports[alias.asname] = ImportRef(alias.name, None)
                else:  # `import a.b` binds `a`
                    top = alias.name.split(".")[0]
                    decl.imports[top] = ImportRef(top, None)
        elif isinstance(stmt, ast.ImportFrom):
            for alias in stmt.names:
                ref = ImportRef(stmt.module or "", alias.name, stmt.level)
                if alias.name == "*":
                    decl.star_imports.append(ref)
                else:
                    decl.imports[alias.asname or alias.name] = ref
        elif isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    decl.assigns[target.id] = stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            decl.annotations[stmt.target.id] = stmt.annotation
            if stmt.value is not None:
                decl.assigns[stmt.target.id] = stmt.value
        elif isinstance(stmt, ast.ClassDef):
            decl.classes[stmt.name] = read_class(stmt)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            decl.functions[stmt.name] = stmt
        elif isinstance(stmt, ast.If):  # `if TYPE_CHECKING:` and version switches
            _collect_block(decl, stmt.body)
            _collect_block(decl, stmt.orelse)
        elif isinstance(stmt, ast.Try):  # `try: import x except ImportError: ...`
            _collect_block(decl, stmt.body)
            for handler in stmt.handlers:
                _collect_block(decl, handler.body)


def read_class(node: ast.ClassDef) -> ClassDecl:
    cls = ClassDecl(node.name, node)
    for stmt in node.body:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    cls.attrs.append((target.id, None, stmt.value, stmt.lineno))
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            cls.attrs.append((stmt.target.id, stmt.annotation, stmt.value, stmt.lineno))
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            accessor = any(isinstance(d, ast.Attribute) and d.attr in ("setter", "deleter")
                           for d in stmt.decorator_list)
            if not (accessor and stmt.name in cls.methods):  # a property's setter keeps its getter
                cls.methods[stmt.name] = stmt
    return cls
