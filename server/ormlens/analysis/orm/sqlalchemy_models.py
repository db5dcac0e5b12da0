"""SQLAlchemy, Flask-SQLAlchemy and SQLModel, what their declarations mean: declarative bases,
mapped classes and their columns and relationships, sessions and session factories."""

from __future__ import annotations

import ast

from ormlens.analysis import queries
from ormlens.analysis.declarations import ClassDecl, ModuleDecl
from ormlens.analysis.flow import Kind
from ormlens.analysis.models import (
    ModelInfo, RelationshipInfo, default_table_name, is_mapping_call, read_attribute, read_sqlmodel_attribute)
from ormlens.analysis.orm.api import Index


def _cache(index: Index) -> dict:
    return index.plugin_caches.setdefault("sqlalchemy.model_bases", {})


def forget(index: Index, nodes: set[str] | None) -> None:
    """Drop what was derived from `nodes` (module paths; None: everything)."""
    bases = _cache(index)
    if nodes is None:
        bases.clear()
        return
    for key in [key for key in bases if key[0] in nodes]:
        del bases[key]


def is_model_base(index: Index, decl: ModuleDecl, cls: ClassDecl) -> bool:
    key = (decl.path, cls.name)
    index.dependencies.read(decl.path)
    if key not in _cache(index):
        _cache(index)[key] = False
        with index.dependencies.computing(decl.path):
            _cache(index)[key] = any(
                index.eval_static(decl, base).name in queries.DECLARATIVE_BASE_CLASSES for base in cls.bases
            ) or (is_abstract(decl, cls) and has_model_base(index, decl, cls))
    return _cache(index)[key]


def is_abstract(decl: ModuleDecl, cls: ClassDecl) -> bool:
    value = cls.attr_value("__abstract__")
    return isinstance(value, ast.Constant) and value.value is True


def has_model_base(index: Index, decl: ModuleDecl, cls: ClassDecl) -> bool:
    return any(index.eval_static(decl, b).kind in (Kind.MODEL_BASE, Kind.MODEL_CLASS) for b in cls.bases)


def is_sqlmodel(index: Index, decl: ModuleDecl, cls: ClassDecl, depth: int = 0) -> bool:
    """A subclass of sqlmodel.SQLModel (directly, or through project classes such as `HeroBase`)."""
    if depth > 8:
        return False
    for base in cls.bases:
        value = index.eval_static(decl, base)
        if value.kind is Kind.EXTERNAL and value.name in queries.SQLMODEL_BASES:
            return True
        if value.kind is Kind.CLASS and value.ref is not None:
            base_decl = index.decl(value.ref[0])
            if base_decl is not None and is_sqlmodel(index, base_decl, value.ref[1], depth + 1):
                return True
    return False


def build_model(index: Index, decl: ModuleDecl, cls: ClassDecl) -> ModelInfo | None:
    parents: list[ModelInfo] = []
    mixins: list[tuple[ModuleDecl, ClassDecl]] = []
    mapped_base = False
    sqlmodel = is_sqlmodel(index, decl, cls)
    if sqlmodel:
        # Only `class Hero(SQLModel, table=True)` is mapped; the other SQLModel classes are
        # pydantic models (HeroCreate, HeroPublic), whose fields are plain values.
        table = cls.keyword("table")
        if not (isinstance(table, ast.Constant) and table.value is True):
            return None
        mapped_base = True
    for base in cls.bases:
        value = index.eval_static(decl, base)
        if value.kind is Kind.MODEL_CLASS and value.model is not None:
            parents.append(value.model)
        elif value.kind is Kind.MODEL_BASE:
            mapped_base = True
        elif value.kind is Kind.EXTERNAL and value.name in queries.DECLARATIVE_BASE_CLASSES:
            return None  # a declarative base itself is not mapped
        elif value.kind is Kind.CLASS and value.ref is not None:
            mixins.append(value.ref)
    resolve = lambda node: index.eval_static(decl, node)  # noqa: E731
    declares = cls.attr_value("__tablename__") is not None or any(
        is_mapping_call(value, resolve) for _, _, value, _ in cls.attrs
    )
    if is_abstract(decl, cls) or not (parents or mapped_base or declares):
        return None
    table = cls.attr_value("__tablename__")
    model = ModelInfo(cls.name, decl.path, cls.node.lineno,
                      table.value if isinstance(table, ast.Constant) and isinstance(table.value, str)
                      else cls.name.lower() if sqlmodel  # SQLModel's default: the class name, lower-cased
                      else default_table_name(cls.name))
    read = read_sqlmodel_attribute if sqlmodel else read_attribute
    for parent in parents:
        model.columns.update(parent.columns)
        model.relationships.update(parent.relationships)
    backrefs: list[tuple[str, RelationshipInfo]] = []
    for mixin_path, mixin in mixins:
        mixin_decl = index.decl(mixin_path)
        if mixin_decl is not None:
            mixin_resolve = lambda node, d=mixin_decl: index.eval_static(d, node)  # noqa: E731
            for attr, annotation, value, line in mixin.attrs:
                read(model, attr, annotation, value, line, mixin_resolve, backrefs)
    for attr, annotation, value, line in cls.attrs:
        read(model, attr, annotation, value, line, resolve, backrefs)
    model.extra_backrefs = backrefs
    return model
