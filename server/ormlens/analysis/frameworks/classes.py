"""Walking a project class's bases, as framework plugins do to find what a class derives from
(a DRF serializer, a `ModelAdmin`) or inherits (a view's `queryset`, a serializer's `Meta`)."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from typing import TypeVar

from ormlens.analysis.declarations import ClassDecl, ModuleDecl
from ormlens.analysis.flow import Kind, Value
from ormlens.analysis.orm.api import Index

MAX_DEPTH = 6  # project classes followed up a hierarchy
T = TypeVar("T")


def project_bases(index: Index, decl: ModuleDecl, cls: ClassDecl) -> Iterator[tuple[ModuleDecl, ClassDecl]]:
    """The project classes `cls` derives from directly, each with its module."""
    for base in cls.bases:
        value = index.eval_static(decl, base)
        if value.kind is Kind.CLASS and isinstance(value.ref, tuple):
            base_decl = index.decl(value.ref[0])
            if base_decl is not None:
                yield base_decl, value.ref[1]


def derives_from(index: Index, decl: ModuleDecl, cls: ClassDecl, accept: Callable[[Value], bool],
                 depth: int = 0) -> bool:
    """Does `cls` derive (through project classes too) from a base `accept` says yes to?"""
    if any(accept(index.eval_static(decl, base)) for base in cls.bases):
        return True
    return depth < MAX_DEPTH and any(derives_from(index, base_decl, base, accept, depth + 1)
                                     for base_decl, base in project_bases(index, decl, cls))


def first_in_hierarchy(index: Index, decl: ModuleDecl, cls: ClassDecl,
                       pick: Callable[[ModuleDecl, ClassDecl], T | None], depth: int = 0) -> T | None:
    """What `pick` finds on `cls`, else on its project bases (depth first, as Python looks a class
    attribute up for single inheritance and the first base of several)."""
    found = pick(decl, cls)
    if found is not None:
        return found
    for base_decl, base in project_bases(index, decl, cls) if depth < MAX_DEPTH else ():
        found = first_in_hierarchy(index, base_decl, base, pick, depth + 1)
        if found is not None:
            return found
    return None


def class_attribute(index: Index, decl: ModuleDecl, cls: ClassDecl, name: str) -> tuple[ModuleDecl, ast.expr] | None:
    """(module, value) of a class attribute as Python finds it: `cls`'s own, else a project base's."""
    return first_in_hierarchy(index, decl, cls, lambda d, c: (d, value) if (value := c.attr_value(name)) is not None
                              else None)


def method_owner(index: Index, decl: ModuleDecl, cls: ClassDecl, name: str) -> tuple[ModuleDecl, ClassDecl] | None:
    """The class (`cls` or a project base of it) that defines method `name`."""
    return first_in_hierarchy(index, decl, cls, lambda d, c: (d, c) if name in c.methods else None)


def meta_class(index: Index, decl: ModuleDecl, cls: ClassDecl) -> tuple[ModuleDecl, ast.ClassDef] | None:
    """(module, the `Meta` class) of `cls` as Python finds it: its own, else a project base's."""
    return first_in_hierarchy(index, decl, cls, lambda d, c: next(
        ((d, stmt) for stmt in c.node.body if isinstance(stmt, ast.ClassDef) and stmt.name == "Meta"), None))
