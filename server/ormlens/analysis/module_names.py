"""What a module-level name stands for in the text: the expression it is assigned, found through
the module's own assignments, `from x import name` and `module.name` (no flow facts needed: what
plugins read from declarations, such as a mapping call or a schema instance)."""

from __future__ import annotations

import ast
from typing import Any

from ormlens.analysis.declarations import ModuleDecl
from ormlens.analysis.flow import Kind

MAX_HOPS = 8  # assignments and imports followed


def global_expr(index: Any, decl: ModuleDecl, node: ast.expr, depth: int = 0) -> tuple[ModuleDecl, ast.expr] | None:
    """The expression a module-level name (`name`, `module.name`) is assigned, with its module,
    following imports."""
    if depth > MAX_HOPS:
        return None
    if isinstance(node, ast.Attribute):
        base = index.eval_static(decl, node.value)
        target = index.decl(base.ref) if base.kind is Kind.MODULE and isinstance(base.ref, str) else None
        return global_expr(index, target, ast.Name(id=node.attr), depth + 1) if target is not None else None
    if not isinstance(node, ast.Name):
        return None
    if node.id in decl.assigns:
        return decl, decl.assigns[node.id]
    ref = decl.imports.get(node.id)
    if ref is not None and ref.name is not None:
        module = index.module_file(decl.path, ref)
        target = index.decl(module) if module is not None else None
        if target is not None:
            return global_expr(index, target, ast.Name(id=ref.name), depth + 1)
    return None
