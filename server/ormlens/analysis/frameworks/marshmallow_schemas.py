"""What marshmallow.py reads of a project's marshmallow schemas, from declarations and the text of
the functions that dump them: which classes are schemas (through project bases, and the
`ma.Schema` of a Flask-Marshmallow `ma = Marshmallow()`), their declared fields (a `Method`, a
`Nested`/`Pluck`/`List(Nested(...))` of another schema, a field reading an attribute of the
object), their `class Meta` options, their `pre_dump`/`post_dump` hooks, and every place the
project dumps one (`S(many=True).dump(rows)`, `schema.dump(rows, many=True)`, `.jsonify(...)`),
nests one in another, lists one in a `OneOfSchema`'s `type_schemas`, or derives from one."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ormlens.analysis.astutil import last_name
from ormlens.analysis.declarations import ClassDecl, ModuleDecl
from ormlens.analysis.dependencies import ALL_MODELS
from ormlens.analysis.flow import Kind
from ormlens.analysis.module_names import global_expr
from ormlens.analysis.frameworks.classes import MAX_DEPTH, project_bases
from ormlens.findings import Span
from ormlens.positions import shared_lines

FLASK_MARSHMALLOW = "flask_marshmallow"
# marshmallow-sqlalchemy's schemas, whose `class Meta: model = M` names the objects' model.
MODEL_SCHEMAS = frozenset({"SQLAlchemySchema", "SQLAlchemyAutoSchema", "ModelSchema"})
ONE_OF = "OneOfSchema"  # marshmallow-oneofschema: dumps each object with one of its `type_schemas`
DUMP_METHODS = frozenset({"dump", "dumps", "jsonify"})  # (`jsonify`: Flask-Marshmallow's Schema)
DUMPS = re.compile(r"\.(?:dumps?|jsonify)\(")
# A decorator call that names a schema (`@marshal_with(things_schema)`): the module may hand a
# view's result to a project decorator that dumps it (what marshmallow.affected_by looks for).
DECORATED = re.compile(r"^[ \t]*@[\w.]+\([^\n]*chema", re.MULTILINE)
NO_READ_FIELDS = frozenset({"Method", "Function", "Constant"})  # read nothing of the object by name
HOOKS = frozenset({"pre_dump", "post_dump"})

Key = tuple[str, str]  # a schema class: (module path, class name)


# --- names -------------------------------------------------------------------------------------------


def library_name(index: Any, decl: ModuleDecl, node: ast.expr) -> str:
    """The dotted name of a marshmallow library value (`marshmallow.fields.Nested`,
    `marshmallow_sqlalchemy.SQLAlchemyAutoSchema`, `flask_marshmallow.Schema` for `ma.Schema`),
    or ""."""
    value = index.eval_static(decl, node)
    if value.kind is Kind.EXTERNAL:
        name = value.name
    elif isinstance(node, ast.Attribute) and flask_marshmallow_instance(index, decl, node.value):
        name = f"{FLASK_MARSHMALLOW}.{node.attr}"  # `ma.Schema`, `ma.Nested`: what the extension re-exports
    else:
        return ""
    top = name.split(".", 1)[0]
    return name if top.startswith("marshmallow") or top == FLASK_MARSHMALLOW else ""


def short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def flask_marshmallow_instance(index: Any, decl: ModuleDecl, node: ast.expr) -> bool:
    """Is `node` a module-level `ma = Marshmallow(...)` (of this module or imported)?"""
    found = global_expr(index, decl, node)
    if found is None or not isinstance(found[1], ast.Call):
        return False
    value = index.eval_static(found[0], found[1].func)
    return value.kind is Kind.EXTERNAL and value.name.startswith(FLASK_MARSHMALLOW) and \
        short(value.name) == "Marshmallow"



def literal_names(node: ast.expr | None) -> frozenset[str] | None:
    """A literal list/tuple/set of strings; None for anything else."""
    if not isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return None
    names = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return frozenset(names) if len(names) == len(node.elts) else None


def flag(node: ast.expr | None) -> bool | None:
    """A keyword's literal True/False; False when absent, None when not a literal."""
    if node is None:
        return False
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, bool) else None


# --- which fields are dumped -------------------------------------------------------------------------


@dataclass(frozen=True)
class Restriction:
    """Which fields a dump includes: `only` (None: every one) and `exclude`, as marshmallow reads
    them (dotted names restrict a nested schema's fields); `known` False when one was not a
    literal (then nothing is taken to be dumped)."""

    only: frozenset[str] | None = None
    exclude: frozenset[str] = frozenset()
    known: bool = True

    def allows(self, name: str) -> bool:
        if not self.known:
            return False
        if self.only is not None and name not in {o.split(".", 1)[0] for o in self.only}:
            return False
        return name not in self.exclude

    def below(self, name: str) -> Restriction:
        """What a nested field `name` dumps of its schema."""
        if not self.known:
            return self
        prefix = name + "."
        only = None if self.only is None else frozenset(o[len(prefix):] for o in self.only if o.startswith(prefix))
        return Restriction(only or None, frozenset(e[len(prefix):] for e in self.exclude if e.startswith(prefix)))

    def __and__(self, other: Restriction) -> Restriction:
        if not (self.known and other.known):
            return UNKNOWN_FIELDS
        only = other.only if self.only is None else self.only if other.only is None else self.only & other.only
        return Restriction(only, self.exclude | other.exclude)


ALL_FIELDS = Restriction()
UNKNOWN_FIELDS = Restriction(known=False)


# Keywords of marshmallow's Schema(): any other is read by a project `__init__`, which may set
# `only`/`exclude` from it (a "view" name).
SCHEMA_KEYWORDS = frozenset({"many", "context", "only", "exclude", "load_only", "dump_only", "partial", "unknown",
                             "ordered", "prefix", "strict"})


def instance_restriction(index: Any, schemas: dict, key: Key, call: ast.Call) -> Restriction:
    """What an instantiation `S(...)` dumps: its `only=`/`exclude=`, not known when it passes what a
    project `__init__` of the schema reads."""
    if any(kw.arg not in SCHEMA_KEYWORDS for kw in call.keywords) and own_init(index, schemas, key):
        return UNKNOWN_FIELDS
    return call_restriction(call)


def own_init(index: Any, schemas: dict, key: Key, depth: int = 0) -> bool:
    """Does the schema or a project base of it define `__init__`?"""
    schema = schemas.get(key)
    if schema is None:
        return False
    if "__init__" in schema.cls.methods:
        return True
    return depth < MAX_DEPTH and any(own_init(index, schemas, (base_decl.path, base.name), depth + 1)
                                     for base_decl, base in project_bases(index, schema.decl, schema.cls))


def call_restriction(call: ast.Call) -> Restriction:
    """`only=` / `exclude=` (and `load_only=`: not dumped) of a schema instance or a Nested field."""
    keywords = {kw.arg: kw.value for kw in call.keywords if kw.arg}
    if any(kw.arg is None for kw in call.keywords):
        return UNKNOWN_FIELDS  # `**options`
    return restriction([(name == "only", keywords[name]) for name in ("only", "exclude", "load_only")
                        if name in keywords])


def restriction(options: list[tuple[bool, ast.expr | None]]) -> Restriction:
    """What is dumped, from (names the only ones dumped?, the literal listing them) pairs: the
    others leave theirs out; one that is not a literal leaves it unknown."""
    only: frozenset[str] | None = None
    exclude: frozenset[str] = frozenset()
    for is_only, value in options:
        names = literal_names(value)
        if names is None:
            return UNKNOWN_FIELDS
        if is_only:
            only = names
        else:
            exclude |= names
    return Restriction(only, exclude)


# --- declared fields -----------------------------------------------------------------------------------


@dataclass
class Field:
    """A declared field: `kind` "method" (a `Method` field: `method` is called with the object),
    "read" (it reads `path` on the object: `attribute="a.b"` or its own name; a list when `many`),
    or "none" (reads nothing by name: `Function`, `Constant`, an attribute not known). A nested
    schema (`target`) is dumped with what it reads, each item of it when `many`."""

    name: str
    kind: str
    node: ast.Call
    at: ast.expr                    # where a read is reported: the `attribute=` keyword, or the field
    path: tuple[str, ...] = ()
    many: bool = False
    method: str | None = None
    target: Key | None = None
    target_fields: Restriction = ALL_FIELDS
    load_only: bool = False


def parse_field(index: Any, decl: ModuleDecl, cls: ClassDecl, attr: str, value: ast.expr, schemas: dict,
                by_name: dict) -> Field | None:
    if not isinstance(value, ast.Call):
        return None
    name = short(library_name(index, decl, value.func))
    if not name or name.endswith("Schema"):
        return None
    keywords = {kw.arg: kw.value for kw in value.keywords if kw.arg}
    load_only = flag(keywords.get("load_only")) is not False
    if name == "Method":
        given = value.args[0] if value.args else keywords.get("serialize", keywords.get("method_name"))
        method = given.value if isinstance(given, ast.Constant) and isinstance(given.value, str) else None
        return Field(attr, "method" if method else "none", value, value, method=method, load_only=load_only)
    if name in NO_READ_FIELDS:
        return Field(attr, "none", value, value)
    source = keywords.get("attribute")
    if name == "auto_field":  # marshmallow-sqlalchemy: the column (or relationship) it is generated from
        source = value.args[0] if value.args else keywords.get("column_name", source)
    if source is not None and not (isinstance(source, ast.Constant) and isinstance(source.value, str)):
        return Field(attr, "none", value, value)
    path = tuple(source.value.split(".")) if source is not None else (attr,)
    at = next((kw for kw in value.keywords if kw.arg == "attribute" and kw.value is source), value)
    if not all(part.isidentifier() for part in path):
        return Field(attr, "none", value, value)
    found = Field(attr, "read", value, at, path, load_only=load_only)
    if name in ("Nested", "Pluck"):
        target = value.args[0] if value.args else keywords.get("nested")
        ref = schema_ref(index, decl, cls, target, schemas, by_name) if target is not None else None
        if ref is None:
            return found  # (still a read of the attribute)
        found.target, found.target_fields, many = ref
        found.many = flag(keywords.get("many")) is True or many
        if name == "Pluck":
            plucked = value.args[1] if len(value.args) > 1 else keywords.get("field_name")
            if not (isinstance(plucked, ast.Constant) and isinstance(plucked.value, str)):
                found.target = None
            else:
                found.target_fields = found.target_fields & Restriction(frozenset({plucked.value}))
        found.target_fields = found.target_fields & call_restriction(value)
    elif name == "List":
        inner = value.args[0] if value.args else keywords.get("cls_or_instance")
        item = parse_field(index, decl, cls, attr, inner, schemas, by_name) if inner is not None else None
        found.many = True
        if item is not None and item.target is not None:
            found.target, found.target_fields = item.target, item.target_fields
    return found


def schema_ref(index: Any, decl: ModuleDecl, owner: ClassDecl, node: ast.expr, schemas: dict,
               by_name: dict) -> tuple[Key, Restriction, bool] | None:
    """The schema class a Nested field names (a class, an instance, "Name" of marshmallow's class
    registry, "self", a lambda returning one), what of it is dumped, and whether an instance is
    `many=True`."""
    if isinstance(node, ast.Lambda) and not node.args.args:
        return schema_ref(index, decl, owner, node.body, schemas, by_name)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        if node.value == "self":
            return (decl.path, owner.name), ALL_FIELDS, False
        named = by_name.get(node.value.rsplit(".", 1)[-1], [])
        return (named[0], ALL_FIELDS, False) if len(named) == 1 else None  # (the registry: one of that name)
    if isinstance(node, ast.Call):
        found = schema_ref(index, decl, owner, node.func, schemas, by_name) if not node.args else None
        if found is None:
            return None
        many = flag(next((kw.value for kw in node.keywords if kw.arg == "many"), None)) is True
        return found[0], instance_restriction(index, schemas, found[0], node), many
    if isinstance(node, (ast.Name, ast.Attribute)):
        value = index.eval_static(decl, node)
        if value.kind is Kind.CLASS and isinstance(value.ref, tuple):
            key = (value.ref[0], value.ref[1].name)
            if key in schemas:
                return key, ALL_FIELDS, False
    return None


def hook_index(index: Any, decl: ModuleDecl, function: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[str, int] | None:
    """A `pre_dump`/`post_dump` hook called once per object ("pre_dump"/"post_dump"), with the
    index of the parameter that gets the object (`pass_original=True`: the original object)."""
    for decorator in function.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        name = last_name(call.func if call is not None else decorator)
        if name not in HOOKS:
            continue
        keywords = {kw.arg: kw.value for kw in call.keywords} if call is not None else {}
        if flag(keywords.get("pass_many")) is not False or (call is not None and call.args):
            return None  # (called once with the whole list, or not known)
        original = flag(keywords.get("pass_original"))
        if original is None:
            return None
        return name, 2 if original else 1
    return None


# --- schema classes --------------------------------------------------------------------------------------


@dataclass
class Schema:
    key: Key
    decl: ModuleDecl
    cls: ClassDecl
    bases: list[Key] = field(default_factory=list)  # project schema bases, in order
    fields: dict[str, Field] = field(default_factory=dict)
    hooks: dict[str, tuple[str, int]] = field(default_factory=dict)
    model_schema: bool = False   # derives from marshmallow-sqlalchemy's (Meta.model names the model)
    one_of: bool = False
    type_schemas: list[Key] = field(default_factory=list)


def schema_bases(index: Any, decl: ModuleDecl, cls: ClassDecl, depth: int = 0) -> set[str] | None:
    """The marshmallow schema classes `cls` derives from (short names), through project classes;
    None when it is not a schema."""
    found: set[str] = set()
    for base in cls.bases:
        name = short(library_name(index, decl, base))
        if name.endswith("Schema"):
            found.add(name)
    for base_decl, base in project_bases(index, decl, cls) if depth < MAX_DEPTH else ():
        found |= schema_bases(index, base_decl, base, depth + 1) or set()
    return found or None


def meta_option(index: Any, schemas: dict, key: Key, option: str, depth: int = 0) -> tuple[bool, ModuleDecl | None,
                                                                                             ast.expr | None]:
    """`class Meta: option = ...` as Python finds it: the `Meta` of the first class of the
    schema's hierarchy that has one, then that Meta's own bases. (found, module, value)."""
    found = next(((schemas[k], stmt) for k in mro(schemas, key) if k in schemas for stmt in schemas[k].cls.node.body
                  if isinstance(stmt, ast.ClassDef) and stmt.name == "Meta"), None)
    if found is None or depth > MAX_DEPTH:
        return False, None, None
    schema, meta = found
    for stmt in meta.body:
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == option for t in stmt.targets):
            return True, schema.decl, stmt.value
    for base in meta.bases:  # `class Meta(BaseSchema.Meta)`
        if isinstance(base, ast.Attribute) and base.attr == "Meta":
            owner = index.eval_static(schema.decl, base.value)
            if owner.kind is Kind.CLASS and isinstance(owner.ref, tuple):
                return meta_option(index, schemas, (owner.ref[0], owner.ref[1].name), option, depth + 1)
    return False, None, None


def meta_restriction(index: Any, schemas: dict, key: Key) -> Restriction:
    """What `Meta.fields` / `Meta.exclude` / `Meta.load_only` leave dumped."""
    options = []
    for option in ("fields", "exclude", "load_only"):
        found, _, value = meta_option(index, schemas, key, option)
        if found:
            options.append((option == "fields", value))
    return restriction(options)


def meta_model(index: Any, schemas: dict, key: Key):
    """marshmallow-sqlalchemy's `class Meta: model = M` (of the schema or a base)."""
    schema = schemas.get(key)
    if schema is None or not schema.model_schema:
        return None
    found, decl, value = meta_option(index, schemas, key, "model")
    if not found or decl is None or value is None:
        return None
    model = index.eval_static(decl, value)
    return model.model if model.kind is Kind.MODEL_CLASS else None


def mro(schemas: dict, key: Key, depth: int = 0) -> list[Key]:
    """The schema and its project schema bases, in Python's lookup order (depth first, left to
    right, each once: what a single-inheritance hierarchy gives)."""
    order = [key]
    schema = schemas.get(key)  # (a key not in `schemas` is not a schema: its order is itself)
    for base in schema.bases if schema is not None and depth < MAX_DEPTH else ():
        order += [k for k in mro(schemas, base, depth + 1) if k not in order]
    return order


# --- uses ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dump:
    """A dump of a schema: `many` (True: each object of a list; None: not known), the fields it
    dumps, the label and place of the call, and where its objects come from: the function it is
    in and the expressions that may be the query run for them, outermost first, each with what
    it must be ("value": the rows or row; "items": a page's; "scalars": a result's scalars)."""

    path: str
    span: Span
    label: str
    many: bool | None
    fields: Restriction
    function: str | None
    candidates: tuple[tuple[Span, str], ...] = ()
    # Candidates in other functions (module, qualname, candidates): the project functions whose
    # returned value the dumped one is (a view returning a service function's rows).
    sources: tuple[tuple[str, str, tuple[tuple[Span, str], ...]], ...] = ()
    # A decorator's dump of what `function` returns (`returned`), or of its `key` item: the rows
    # its returned values hold then say what is dumped when no candidate does.
    returned: bool = False
    key: str | None = None


@dataclass
class Usages:
    schemas: dict[Key, Schema] = field(default_factory=dict)
    nested: dict[Key, list[tuple[Key, Field]]] = field(default_factory=dict)  # target -> (parent, field)
    one_of: dict[Key, list[Key]] = field(default_factory=dict)  # a type schema -> the OneOfSchemas
    subclasses: dict[Key, list[Key]] = field(default_factory=dict)
    # The modules that may dump a schema: those that declare it, or an instance of it, or import one.
    dumpers: dict[Key, list[str]] = field(default_factory=dict)


def usages(index: Any) -> Usages:
    """Every schema class of the modules read, and every nesting and subclass of one, and the
    modules that may dump each (from declarations: what the functions dump is read per pass)."""
    # (As the list of every model: it depends on every module read; see marshmallow.affected_by.)
    index.dependencies.read(ALL_MODELS)
    cache = index.plugin_caches.setdefault("marshmallow.usages", {})
    loaded = len(index.loaded())
    if cache.get("loaded") == loaded:  # (a module read since may declare or dump schemas: scanned again)
        return cache["all"]
    found = Usages()
    with index.dependencies.computing(ALL_MODELS):
        scan(index, found)
    cache["all"], cache["loaded"] = found, loaded
    return found


def scan(index: Any, found: Usages) -> None:
    paths = sorted(index.loaded())
    for path in paths:
        decl = index.decl(path)
        if decl is None or "chema" not in decl.source:
            continue
        for cls in decl.classes.values():
            bases = schema_bases(index, decl, cls)
            if bases is not None:
                found.schemas[(path, cls.name)] = Schema((path, cls.name), decl, cls, model_schema=bool(bases & MODEL_SCHEMAS),
                                                         one_of=ONE_OF in bases)
    by_name: dict[str, list[Key]] = {}
    for key in found.schemas:
        by_name.setdefault(key[1], []).append(key)
    for key, schema in found.schemas.items():
        read_schema(index, schema, found, by_name)
    held: dict[str, set[Key]] = {}  # module -> the schemas it declares, or declares an instance of
    for key in found.schemas:
        held.setdefault(key[0], set()).add(key)
    for path in paths:
        decl = index.decl(path)
        for name, value in decl.assigns.items() if decl is not None and "chema" in decl.source else ():
            instance = schema_instance(index, decl, found, None, ast.Name(id=name)) if isinstance(value, ast.Call) else None
            if instance is not None:
                held.setdefault(path, set()).add(instance[0])
    for path in paths:
        decl = index.decl(path)
        if decl is not None and "chema" in decl.source:
            for key in sorted(held.get(path, set()) | imported_schemas(index, decl, found, held)):
                found.dumpers.setdefault(key, []).append(path)


def imported_schemas(index: Any, decl: ModuleDecl, found: Usages, held: dict[str, set[Key]]) -> set[Key]:
    """The schemas a module imports: a class, an instance of one, a module that holds them."""
    keys: set[Key] = set()
    for name in decl.imports:
        value = index.eval_static(decl, ast.Name(id=name))
        if value.kind is Kind.CLASS and isinstance(value.ref, tuple) and (value.ref[0], value.ref[1].name) in found.schemas:
            keys.add((value.ref[0], value.ref[1].name))
        elif value.kind is Kind.MODULE and isinstance(value.ref, str):
            keys |= held.get(value.ref, set())
        else:
            instance = schema_instance(index, decl, found, None, ast.Name(id=name))
            if instance is not None:
                keys.add(instance[0])
    for star in decl.star_imports:
        module = index.module_file(decl.path, star)
        keys |= held.get(module, set()) if module is not None else set()
    return keys


def read_schema(index: Any, schema: Schema, found: Usages, by_name: dict) -> None:
    decl, cls = schema.decl, schema.cls
    for base_decl, base in project_bases(index, decl, cls):
        base_key = (base_decl.path, base.name)
        if base_key in found.schemas:
            schema.bases.append(base_key)
            found.subclasses.setdefault(base_key, []).append(schema.key)
    for attr, _, value, _ in cls.attrs:
        if attr == "type_schemas" and schema.one_of and isinstance(value, ast.Dict):
            for node in value.values:
                ref = schema_ref(index, decl, cls, node, found.schemas, by_name)
                if ref is not None:
                    schema.type_schemas.append(ref[0])
                    found.one_of.setdefault(ref[0], []).append(schema.key)
            continue
        parsed = parse_field(index, decl, cls, attr, value, found.schemas, by_name) if value is not None else None
        if parsed is None:
            continue
        schema.fields[attr] = parsed
        if parsed.target is not None:
            found.nested.setdefault(parsed.target, []).append((schema.key, parsed))
    for name, function in cls.methods.items():
        hook = hook_index(index, decl, function)
        if hook is not None:
            schema.hooks[name] = hook


def module_dumps(index: Any, decl: ModuleDecl, found: Usages) -> list[tuple[Key, Dump]]:
    """The dumps of schemas in a module's code (read again when its text changes)."""
    cache = index.plugin_caches.setdefault("marshmallow.dumps", {})
    known = cache.get(decl.path)
    if known is not None and known[0] is decl.source:
        return known[1]
    dumps: list[tuple[Key, Dump]] = []
    decorated = "@" in decl.source
    if DUMPS.search(decl.source) or decorated:
        lines = shared_lines(decl.source)
        functions: list[tuple[str | None, Any]] = [(None, None)]
        functions += list(decl.functions.items())
        functions += [(f"{cls.name}.{name}", method) for cls in decl.classes.values()
                      for name, method in cls.methods.items()]
        for qualname, function in functions:
            if function is not None and qualname is not None and decorated:
                dumps += decorator_dumps(index, decl, found, qualname, function, lines)
            if function is not None:
                if not DUMPS.search("\n".join(lines[function.lineno - 1:function.end_lineno])):
                    continue
                index.body(decl, function)
                nodes = function.body
            else:
                nodes = [stmt for stmt in decl.tree.body
                         if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
            for call, direct in dump_calls(nodes):
                dump = read_dump(index, decl, found, function, qualname if direct else None, call, lines)
                if dump is not None:
                    dumps.append(dump)
    cache[decl.path] = (decl.source, dumps)
    return dumps


def dump_calls(nodes: list[ast.stmt]) -> Iterator[tuple[ast.Call, bool]]:
    """`x.dump(...)`-like calls in `nodes`, and whether each is directly in them (not in a nested
    function or lambda, whose objects the enclosing function's facts do not say)."""
    pending: list[tuple[ast.AST, bool]] = [(node, True) for node in nodes]
    while pending:
        node, direct = pending.pop()
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in DUMP_METHODS:
            yield node, direct
        inner = direct and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef))
        pending.extend((child, inner) for child in ast.iter_child_nodes(node))


def read_dump(index: Any, decl: ModuleDecl, found: Usages, function: Any, qualname: str | None, call: ast.Call,
              lines: list[str]) -> tuple[Key, Dump] | None:
    instance = schema_instance(index, decl, found, function, call.func.value)
    if instance is None:
        return None
    key, many, fields = instance
    given = next((kw.value for kw in call.keywords if kw.arg == "many"), None)
    if given is not None:
        many = flag(given)
    arg = call.args[0] if call.args else next((kw.value for kw in call.keywords if kw.arg in ("obj", "data")), None)
    candidates, page = row_candidates(function, arg) if function is not None and arg is not None else ((), False)
    if many and arg is not None and (page or literal_items(function, arg)):
        many = False  # a page of rows, or a few objects written out: a bounded number
    if qualname is None:
        candidates = ()  # (in a nested function: its facts are not the enclosing one's)
    return key, Dump(decl.path, Span.of(call), text(lines, call), many, fields, qualname, candidates)


def schema_instance(index: Any, decl: ModuleDecl, found: Usages, function: Any,
                    node: ast.expr) -> tuple[Key, bool | None, Restriction] | None:
    """The schema an expression is an instance of (`S(...)`, a local or module-level name assigned
    one), with its `many` and what it dumps."""
    if isinstance(node, ast.Name) and function is not None and node.id in local_names(function):
        value = single_assignment(function, node.id)
        if value is None:
            return None
        node = value
    elif isinstance(node, (ast.Name, ast.Attribute)) and not isinstance(node, ast.Call):
        target = global_expr(index, decl, node)
        if target is None:
            return None
        decl, node = target
    if not isinstance(node, ast.Call) or node.args:
        return None
    ref = index.eval_static(decl, node.func)
    if ref.kind is not Kind.CLASS or not isinstance(ref.ref, tuple) or (ref.ref[0], ref.ref[1].name) not in found.schemas:
        return None
    many = flag(next((kw.value for kw in node.keywords if kw.arg == "many"), None))
    key = (ref.ref[0], ref.ref[1].name)
    return key, many, instance_restriction(index, found.schemas, key, node)


def local_names(function: Any) -> set[str]:
    """The names a function binds (parameters, assignments, loop targets...)."""
    args = function.args
    names = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
    names |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    names |= {node.id for node in ast.walk(function) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    return names


def single_assignment(function: Any, name: str) -> ast.expr | None:
    """The value of the one `name = value` of a function that binds `name` nowhere else."""
    stores = [node for node in ast.walk(function) if isinstance(node, ast.Name) and node.id == name
              and isinstance(node.ctx, ast.Store)]
    args = function.args
    if len(stores) != 1 or name in {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}:
        return None
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and node.targets[0] is stores[0]:
            return node.value
    return None


def row_candidates(function: Any, arg: ast.expr) -> tuple[tuple[tuple[Span, str], ...], bool]:
    """The expressions the dumped objects may be the result of a query at, outermost first, each
    with what it must give ("value": the rows or row; "items": a page's; "scalars": a result's):
    through local names assigned once, `list(...)`/`sorted(...)`, a page's `.items`, `.all()`,
    `.unique()`, `.scalars()`. And whether they are a page's items (`.paginate(...).items`: a
    bounded number, as a loop over a page is)."""
    found: list[tuple[Span, str]] = []
    shape = "value"
    node: ast.expr = arg
    for _ in range(12):
        if isinstance(node, ast.Name):
            value = single_assignment(function, node.id)
            if value is None:
                break
            node = value
            continue
        if isinstance(node, ast.Call):  # (a query runs at a call)
            found.append((Span.of(node), shape))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("list", "tuple", "sorted") \
                and len(node.args) == 1:
            node = node.args[0]
        elif isinstance(node, ast.Attribute) and node.attr == "items" and shape == "value":
            node, shape = node.value, "items"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.args and \
                node.func.attr in ("all", "unique", "scalars") and shape in ("value", "scalars"):
            shape = "scalars" if node.func.attr == "scalars" else shape
            node = node.func.value
        else:
            break
    if not isinstance(node, ast.Call):
        return (), False  # (a parameter, an attribute...: no query here)
    return tuple(found), shape == "items" and last_name(node.func) == "paginate"


def literal_items(function: Any, arg: ast.expr) -> bool:
    """Is what is dumped a literal list (`[a, b]`, or a local name assigned one once): a bounded
    number of objects, not a loop worth reporting?"""
    if isinstance(arg, ast.Name) and function is not None:
        arg = single_assignment(function, arg.id) or arg
    return isinstance(arg, (ast.List, ast.Tuple, ast.Set)) and not any(isinstance(e, ast.Starred) for e in arg.elts)


# --- dumping decorators ------------------------------------------------------------------------------
#
# `@marshal_with(things_schema)` on a view, where the project's factory
#     def marshal_with(schema):
#         def decorator(f):
#             @wraps(f)
#             def wrapper(*args, **kwargs):
#                 result = f(*args, **kwargs)
#                 return render(result, schema)      # a project helper: `schema.dump(data["items"], many=True)`
#             return wrapper
#         return decorator
# dumps what the view returns with the schema the decorator is given: the view is then the
# dumping function, its returned value (followed into the project functions it returns the
# result of) what is dumped.

SCHEMA, WRAPPED = "schema", "wrapped"  # what a name of a decorator's code holds (else ("result", key))
MAX_HELPERS = 2   # how many project calls deep a decorator's wrapper is followed to its dump
MAX_RETURNS = 3   # how many project calls deep a view's returned value is followed


@dataclass(frozen=True)
class DecoratorDump:
    """A dump a decorator factory's wrapper makes of the wrapped function's returned value: with
    the schema its parameter (`position`, -1 for keyword-only, and `name`) is given, of the value
    itself (`key` None) or of its `key` item (`result["items"]`); `many` as the call says it, None
    when it leaves it to the schema instance."""

    position: int
    name: str
    key: str | None
    many: bool | None


def factory_dumps(index: Any, ref: Any) -> tuple[DecoratorDump, ...]:
    """The dumps of a module-level decorator factory `ref` (cached until any module changes)."""
    cache = index.plugin_caches.setdefault("marshmallow.decorators", {})
    if ref in cache:
        return cache[ref]
    cache[ref] = ()  # (a factory that calls itself)
    decl = index.decl(ref.path)
    factory = decl.functions.get(ref.qualname) if decl is not None and "." not in ref.qualname else None
    found: tuple[DecoratorDump, ...] = ()
    if factory is not None:
        index.body(decl, factory)
        found = tuple(read_factory(index, decl, factory))
    cache[ref] = found
    return found


def read_factory(index: Any, decl: ModuleDecl, factory: Any) -> Iterator[DecoratorDump]:
    """A factory returns a decorator (a nested function of one parameter, the wrapped function)
    that returns a wrapper (nested in it) calling the wrapped function."""
    args = factory.args
    params = [(i, a.arg) for i, a in enumerate([*args.posonlyargs, *args.args])]
    params += [(-1, a.arg) for a in args.kwonlyargs]
    rebound = stored_names(factory)
    params = [(position, name) for position, name in params if name not in rebound]  # (`schema = schema or S()`)
    for decorator in nested_functions(factory):
        inner = [*decorator.args.posonlyargs, *decorator.args.args]
        if decorator.name not in returned_names(factory) or len(inner) != 1 or inner[0].arg in stored_names(decorator):
            continue
        for wrapper in nested_functions(decorator):
            if wrapper.name not in returned_names(decorator):
                continue
            for position, name in params:
                closure = {name: SCHEMA, inner[0].arg: WRAPPED}
                for key, many in dumps_in(index, decl, wrapper, closure, {}, 0):
                    yield DecoratorDump(position, name, key, many)


def nested_functions(function: Any) -> list[Any]:
    return [stmt for stmt in function.body if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef))]


def own_nodes(function: Any) -> Iterator[ast.AST]:
    """The nodes of a function's body, not those of functions, lambdas or classes nested in it."""
    pending: list[ast.AST] = list(function.body)
    while pending:
        node = pending.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            pending.extend(ast.iter_child_nodes(node))


def stored_names(function: Any) -> set[str]:
    """The names a function's own code assigns (not its nested functions')."""
    return {node.id for node in own_nodes(function) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}


def returned_names(function: Any) -> set[str]:
    return {node.value.id for node in own_nodes(function)
            if isinstance(node, ast.Return) and isinstance(node.value, ast.Name)}


def parameter_names(function: Any) -> set[str]:
    args = function.args
    names = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
    return names | {a.arg for a in (args.vararg, args.kwarg) if a is not None}


def local_env(function: Any, closure: dict[str, Any], bound: dict[str, Any]) -> dict[str, Any]:
    """What each name of a function holds (SCHEMA, WRAPPED, ("result", key)): the closure's names
    it does not bind, its parameters as the call binds them, and the names it assigns only values
    that all hold the same thing."""
    params = parameter_names(function)
    stores: dict[str, int] = {}
    values: dict[str, list[ast.expr]] = {}
    for node in own_nodes(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            stores[node.id] = stores.get(node.id, 0) + 1
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    values.setdefault(target.id, []).append(node.value)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            values.setdefault(node.target.id, []).append(node.value)
    env = {name: held for name, held in closure.items() if name not in params and name not in stores}
    env.update((name, held) for name, held in bound.items() if name not in stores)
    assigned = {name for name, count in stores.items() if len(values.get(name, ())) == count and name not in params}
    for _ in range(3):  # (a name assigned from another assigned name)
        for name in assigned:
            held = {holds(env, value) for value in values[name]}
            if len(held) == 1 and None not in held:
                env[name] = held.pop()
    return env


def holds(env: dict[str, Any], node: ast.expr) -> Any:
    """What an expression holds: the schema (a name of it, or the class called bare), the wrapped
    function, its result or an item of it (`result["items"]`); None when something else."""
    if isinstance(node, ast.Name):
        return env.get(node.id)
    if isinstance(node, ast.Await):
        return holds(env, node.value)
    if isinstance(node, ast.Call):
        called = holds(env, node.func)
        if called == WRAPPED:
            return ("result", None)
        if called == SCHEMA and not node.args and not node.keywords:
            return SCHEMA  # (the class given: `schema()`; an instance's many is its own)
        return None
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
        return ("result", node.slice.value) if holds(env, node.value) == ("result", None) else None
    if isinstance(node, ast.IfExp):
        body = holds(env, node.body)
        return body if body == holds(env, node.orelse) else None
    return None


def dumps_in(index: Any, decl: ModuleDecl, function: Any, closure: dict[str, Any], bound: dict[str, Any],
             depth: int) -> list[tuple[str | None, bool | None]]:
    """The dumps a function makes, or a project function it passes them to (`depth` calls deep),
    of the wrapped function's result (or an item of it) with the schema: (key, many)."""
    env = local_env(function, closure, bound)
    if SCHEMA not in env.values():
        return []
    found: list[tuple[str | None, bool | None]] = []
    for node in own_nodes(function):
        if not isinstance(node, ast.Call) or any(isinstance(arg, ast.Starred) for arg in node.args):
            continue
        keywords = {kw.arg: kw.value for kw in node.keywords if kw.arg}
        if isinstance(node.func, ast.Attribute) and node.func.attr in DUMP_METHODS:
            arg = node.args[0] if node.args else keywords.get("obj")
            held = holds(env, arg) if arg is not None else None
            given = keywords.get("many")
            many = flag(given) if given is not None else None
            if holds(env, node.func.value) == SCHEMA and isinstance(held, tuple) and (given is None or many is not None):
                found.append((held[1], many))
            continue
        if depth >= MAX_HELPERS or any(kw.arg is None for kw in node.keywords) or \
                (isinstance(node.func, ast.Name) and (node.func.id in env or node.func.id in local_names(function))):
            continue
        callee = helper(index, decl, node.func)
        if callee is None:
            continue
        callee_decl, target = callee
        names = [a.arg for a in [*target.args.posonlyargs, *target.args.args]]
        passed = {names[i]: holds(env, arg) for i, arg in enumerate(node.args) if i < len(names)}
        passed.update((name, holds(env, value)) for name, value in keywords.items())
        passed = {name: held for name, held in passed.items() if held is not None}
        if SCHEMA in passed.values() and any(isinstance(held, tuple) for held in passed.values()):
            found += dumps_in(index, callee_decl, target, {}, passed, depth + 1)
    return found


def helper(index: Any, decl: ModuleDecl, func: ast.expr) -> tuple[ModuleDecl, Any] | None:
    """The module-level project function a call names, with its module (its body put back)."""
    value = index.eval_static(decl, func)
    ref = value.ref if value.kind is Kind.FUNCTION else None
    if ref is None or not hasattr(ref, "qualname") or "." in ref.qualname:
        return None
    target_decl = index.decl(ref.path)
    target = target_decl.functions.get(ref.qualname) if target_decl is not None else None
    if target is None:
        return None
    index.body(target_decl, target)
    return target_decl, target


def decorator_dumps(index: Any, decl: ModuleDecl, found: Usages, qualname: str, function: Any,
                    lines: list[str]) -> list[tuple[Key, Dump]]:
    """The dumps of what `function` returns made by a project decorator it is decorated with."""
    dumps: list[tuple[Key, Dump]] = []
    for decorator in function.decorator_list:
        if not isinstance(decorator, ast.Call) or any(isinstance(arg, ast.Starred) for arg in decorator.args) or \
                any(kw.arg is None for kw in decorator.keywords):
            continue
        value = index.eval_static(decl, decorator.func)
        if value.kind is not Kind.FUNCTION or not hasattr(value.ref, "qualname"):
            continue
        made = factory_dumps(index, value.ref)
        for position, name in sorted({(d.position, d.name) for d in made}):
            keywords = {kw.arg: kw.value for kw in decorator.keywords}
            arg = decorator.args[position] if 0 <= position < len(decorator.args) else keywords.get(name)
            instance = schema_given(index, decl, found, arg) if arg is not None else None
            if instance is None:
                continue
            key, instance_many, fields = instance
            for result_key in sorted({d.key or "" for d in made if d.position == position}):
                manys = {instance_many if d.many is None else d.many for d in made
                         if d.position == position and (d.key or "") == result_key}
                many = manys.pop() if len(manys) == 1 else None
                index.body(decl, function)
                sources, applies, page = returned_candidates(index, decl, qualname, function, result_key or None, 0)
                if not applies:
                    continue  # (the view never returns what this dump takes)
                own = next((candidates for path, name_, candidates in sources
                            if path == decl.path and name_ == qualname), ())
                others = tuple(source for source in sources if (source[0], source[1]) != (decl.path, qualname))
                label = f"@{text(lines, decorator, 48)} on {qualname}"
                dumps.append((key, Dump(decl.path, Span.of(decorator), label, False if page else many, fields,
                                        qualname, own, others, True, result_key or None)))
    return dumps


def schema_given(index: Any, decl: ModuleDecl, found: Usages, node: ast.expr) -> tuple[Key, bool | None, Restriction] | None:
    """The schema a decorator is given: an instance (as schema_instance), or a class (its
    instances dump one object)."""
    instance = schema_instance(index, decl, found, None, node)
    if instance is not None or not isinstance(node, (ast.Name, ast.Attribute)):
        return instance
    value = index.eval_static(decl, node)
    if value.kind is Kind.CLASS and isinstance(value.ref, tuple) and (value.ref[0], value.ref[1].name) in found.schemas:
        return (value.ref[0], value.ref[1].name), False, ALL_FIELDS
    return None


def returned_candidates(index: Any, decl: ModuleDecl, qualname: str, function: Any, key: str | None,
                        depth: int) -> tuple[list[tuple[str, str, tuple[tuple[Span, str], ...]]], bool, bool]:
    """Where what a function returns (its `key` item: `{"items": rows}`, `dict(items=rows)`) may be
    the result of a query: (module, function, candidates) for it and the project functions whose
    result it returns; whether any `return` gives such a value (or one not known: a value, not a
    dict, when `key` is None); whether one is a page's items (a bounded number)."""
    sources: list[tuple[str, str, tuple[tuple[Span, str], ...]]] = []
    applies = page = False
    for node in own_nodes(function):
        if not isinstance(node, ast.Return) or node.value is None:
            continue
        value = node.value
        if isinstance(value, ast.Name):
            value = single_assignment(function, value.id) or value
        if isinstance(value, (ast.Tuple, ast.Constant, ast.List, ast.JoinedStr)):
            continue  # (a response with its status, or a value written out: not rows)
        callee = helper(index, decl, value.func) if isinstance(value, ast.Call) and depth < MAX_RETURNS and \
            not (isinstance(value.func, ast.Name) and value.func.id in local_names(function)) else None
        if callee is not None:  # (the result of a project function: what it returns)
            callee_decl, target = callee
            found, deeper, paged = returned_candidates(index, callee_decl, target.name, target, key, depth + 1)
            sources += found
            applies, page = applies or deeper, page or paged
            continue
        if key is not None:
            value = dict_item(value, key)
            if value is None:
                continue
        elif is_dict(value):
            continue
        candidates, paged = row_candidates(function, value)
        applies, page = True, page or paged
        if candidates:
            sources.append((decl.path, qualname, candidates))
    return sources, applies, page


def is_dict(node: ast.expr) -> bool:
    return isinstance(node, (ast.Dict, ast.DictComp)) or \
        (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict")


def dict_item(node: ast.expr, key: str) -> ast.expr | None:
    """The value of `key` in a dict display or a `dict(key=...)` call."""
    if isinstance(node, ast.Dict):
        return next((value for k, value in zip(node.keys, node.values)
                     if isinstance(k, ast.Constant) and k.value == key), None)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        return next((kw.value for kw in node.keywords if kw.arg == key), None)
    return None


def text(lines: list[str], node: ast.AST, limit: int = 60) -> str:
    """The source of a node, on one line, shortened."""
    if node.lineno == node.end_lineno and 0 < node.lineno <= len(lines):
        segment = lines[node.lineno - 1].encode("utf-8", "surrogatepass")[node.col_offset:node.end_col_offset]
        found = segment.decode("utf-8", "replace")
    else:
        found = ast.unparse(node)
    found = " ".join(found.split())
    return found if len(found) <= limit else found[:limit - 1] + "…"
