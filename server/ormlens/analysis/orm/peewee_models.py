"""Peewee, what its declarations mean: models (subclasses of `peewee.Model`, directly or through
the project's base model), their fields and the foreign keys between them, each with the
accessor it gives the other side (`backref=`)."""

from __future__ import annotations

import ast

from ormlens.analysis.declarations import ClassDecl, ModuleDecl
from ormlens.analysis.flow import Kind, Resolver, external_name
from ormlens.analysis.models import NOT_LITERAL, ColumnInfo, ModelInfo, RelationshipInfo, class_name_of, const_kw
from ormlens.analysis.orm.api import Index

STYLE = "peewee"
MODEL_CLASSES = frozenset({"peewee.Model"})
LIBRARY_PREFIXES = ("peewee.", "playhouse.")
FOREIGN_KEYS = frozenset({"ForeignKeyField", "DeferredForeignKey"})
AUTO_FIELDS = frozenset({"AutoField", "BigAutoField", "PrimaryKeyField", "IdentityField"})


def build_model(index: Index, decl: ModuleDecl, cls: ClassDecl) -> ModelInfo | None:
    """The model `cls` declares when it derives from `peewee.Model` (directly or through the
    project's Peewee models, whose fields it inherits); else None."""
    parents: list[ModelInfo] = []
    rooted = False
    for base in cls.bases:
        value = index.eval_static(decl, base)
        if value.kind is Kind.EXTERNAL and value.name in MODEL_CLASSES:
            rooted = True
        elif value.kind is Kind.MODEL_CLASS and value.model is not None and value.model.style == STYLE:
            parents.append(value.model)
    if not (rooted or parents):
        return None
    table = cls.meta_option("table_name")  # else the class name in lower case (Peewee's legacy default)
    model = ModelInfo(cls.name, decl.path, cls.node.lineno, table if isinstance(table, str) else cls.name.lower(),
                      style=STYLE)
    for parent in parents:
        model.columns.update(parent.columns)
        model.relationships.update(parent.relationships)
    resolve = lambda node: index.eval_static(decl, node)  # noqa: E731
    backrefs: list[tuple[str, RelationshipInfo]] = []
    for attr, _, value, line in cls.attrs:
        if isinstance(value, ast.Call):
            read_field(model, attr, value, line, resolve, backrefs)
    own_keys = {attr for attr, _, _, _ in cls.attrs if attr in model.columns and model.columns[attr].primary_key}
    if own_keys:  # its own primary key replaces the one it inherits (the base model's implicit `id`)
        model.columns = {name: column for name, column in model.columns.items()
                         if not column.primary_key or name in own_keys}
    if not any(column.primary_key for column in model.columns.values()):
        model.columns["id"] = ColumnInfo("id", False, cls.node.lineno, primary_key=True)  # Peewee's implicit AutoField
    model.extra_backrefs = backrefs
    return model


def read_field(model: ModelInfo, attr: str, call: ast.Call, line: int, resolve: Resolver,
               backrefs: list[tuple[str, RelationshipInfo]]) -> None:
    """`name = CharField(null=True)`, `user = ForeignKeyField(User, backref="tweets")`."""
    full = external_name(resolve(call.func))
    kind = full.rsplit(".", 1)[-1]
    if not full.startswith(LIBRARY_PREFIXES) or (not kind.endswith("Field") and kind not in FOREIGN_KEYS):
        return
    nullable = const_kw(call, "null", False) is True
    primary = const_kw(call, "primary_key", False) is True or kind in AUTO_FIELDS
    if kind not in FOREIGN_KEYS:
        model.columns[attr] = ColumnInfo(attr, nullable and not primary, line, primary_key=primary)
        return
    target_node = call.args[0] if call.args else next((kw.value for kw in call.keywords if kw.arg == "model"), None)
    target = model.name if isinstance(target_node, ast.Constant) and target_node.value == "self" \
        else class_name_of(target_node)
    if not target:
        return
    # The row's foreign key value is `<name>_id` (object_id_name=): reading it runs nothing.
    id_name = const_kw(call, "object_id_name", f"{attr}_id")
    if isinstance(id_name, str):
        model.columns[id_name] = ColumnInfo(id_name, nullable, line, references=target, primary_key=primary)
    # `lazy_load=False`: reading the accessor gives the id, not the row.
    lazy = "select" if const_kw(call, "lazy_load", True) is not False else "noload"
    model.relationships[attr] = RelationshipInfo(attr, target, lazy, False, line)
    backref = const_kw(call, "backref", NOT_LITERAL if any(kw.arg == "backref" for kw in call.keywords)
                       else f"{model.name.lower()}_set")
    if isinstance(backref, str) and backref != "+" and not backref.endswith("+"):
        # The other side's accessor: a query of this model's rows, run when read.
        backrefs.append((target, RelationshipInfo(backref, model.name, "select", True, line)))
