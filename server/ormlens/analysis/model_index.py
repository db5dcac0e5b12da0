"""The models of a project (a part of ProjectIndex): which classes are models, as the ORM plugins
say (orm/), their relationships both ways, and finding a model by name."""

from __future__ import annotations

from ormlens.analysis import frameworks
from ormlens.analysis import orm as hooks
from ormlens.analysis import queries
from ormlens.analysis.declarations import ClassDecl, ModuleDecl
from ormlens.analysis.dependencies import ALL_MODELS
from ormlens.analysis.flow import UNKNOWN, Kind, Size, Value
from ormlens.analysis.models import ModelInfo, RelationshipInfo


class ModelIndex:
    """Models and relationships (a part of ProjectIndex, which holds the caches it uses)."""

    _listing_models = False  # all_models() is running
    _building_models = 0     # declared_model() calls running (their models are not listed yet)

    def class_value(self, decl: ModuleDecl, cls: ClassDecl) -> Value:
        model = self.declared_model(decl, cls)
        if model is not None and not model.abstract:
            return Value(kind=Kind.MODEL_CLASS, model=model, label=cls.name)
        if model is not None:  # an abstract model: its fields are its subclasses' own
            return Value(kind=Kind.MODEL_BASE, ref=(decl.path, cls), label=cls.name)
        if any(hook(self, decl, cls) for hook in hooks.IS_MODEL_BASE):
            # (with its class: the methods it gives every model, `Order.all(db)`)
            return Value(kind=Kind.MODEL_BASE, ref=(decl.path, cls), label=cls.name)
        # An Enum class iterates its members: a fixed, small number.
        enum = self.is_enum_class(decl.path, cls)
        return Value(kind=Kind.CLASS, ref=(decl.path, cls), name=cls.name, label=cls.name,
                     size=Size.BOUNDED if enum else Size.UNKNOWN)

    def is_enum_class(self, path: str, cls: ClassDecl, depth: int = 0) -> bool:
        """Does the class derive (through project classes) from enum.Enum and its kin? Then
        `Cls[name]` / `Cls(value)` is one of its members: a closed set."""
        decl = self.decl(path)
        if decl is None or depth > 8:
            return False
        for base in cls.bases:
            value = self.eval_static(decl, base)
            if value.kind is Kind.EXTERNAL and (value.name in queries.ENUM_CLASSES or value.name in hooks.ENUM_BASES):
                return True
            if value.kind is Kind.CLASS and isinstance(value.ref, tuple) and \
                    self.is_enum_class(value.ref[0], value.ref[1], depth + 1):
                return True
        return False

    def model_of(self, decl: ModuleDecl, cls: ClassDecl) -> ModelInfo | None:
        """The model class `cls` declares; None when it declares none, or an abstract one."""
        models = self._models
        key = (decl.path, cls.name)
        if key in models:  # (the common case, without a call: this is asked for every class name read)
            self.dependencies.read(decl.path)
            model = models[key]
        else:
            model = self.declared_model(decl, cls)
        return model if model is not None and not model.abstract else None

    def declared_model(self, decl: ModuleDecl, cls: ClassDecl) -> ModelInfo | None:
        """The model `cls` declares, abstract ones too, as the first ORM plugin that knows it says."""
        key = (decl.path, cls.name)
        self.dependencies.read(decl.path)
        if key in self._models:
            return self._models[key]
        self._models[key] = None  # cycle guard
        self._building_models += 1
        try:
            with self.dependencies.computing(decl.path):
                model = hooks.ask(hooks.DECLARED_MODEL, self, decl, cls)
        finally:
            self._building_models -= 1
        self._models[key] = model
        return model

    def model_label(self, model: ModelInfo) -> str:
        """The label that tells models of one class name apart (a Django app label), or ""."""
        return hooks.ask(hooks.MODEL_LABEL, self, model) or ""

    def module_label(self, path: str) -> str:
        """The label of the models a module declares (a Django app label), or ""."""
        return hooks.ask(hooks.MODULE_LABEL, self, path) or ""

    def class_of(self, model: ModelInfo) -> tuple[str, ClassDecl] | None:
        if model.current is not None:
            return None  # a historical model has none of the class's methods or properties
        decl = self.decl(model.module_path)
        cls = decl.classes.get(model.name) if decl is not None else None
        return (model.module_path, cls) if cls is not None else None

    def all_models(self) -> list[ModelInfo]:
        """Every model of the modules read so far (computed once until one of them changes)."""
        self.dependencies.read(ALL_MODELS)
        if self._all_models is not None:
            return self._all_models
        if self._listing_models:
            # Asked again while the list is being built (a class body reads an attribute of another
            # model, whose backrefs need the list): without them, rather than recursing class by class.
            return []
        loads = self._loads
        out = []
        self._listing_models = True
        try:
            with self.dependencies.computing(ALL_MODELS):
                # Every module read so far, also one whose text changed and is not parsed again
                # yet (set_source forgets its declarations): read now, not left out of the list.
                for path in list(dict.fromkeys([*self._decls, *sorted(self._parsed)])):  # (a stable order)
                    decl = self._decls[path] if path in self._decls else self.decl(path)
                    if decl is None:
                        continue
                    for cls in decl.classes.values():
                        model = self.model_of(decl, cls)
                        if model is not None:
                            out.append(model)
        finally:
            self._listing_models = False
        # Not kept when a module was read meanwhile (it may declare more), nor when a model was
        # being built (its cycle guard left it out of this list): the order of analysis must not
        # decide which models exist.
        if loads == self._loads and not self._building_models:
            self._all_models = out
        return out

    def models_named(self, name: str) -> list[ModelInfo]:
        """The models whose class name is `name`, case-insensitively (Django's `get_model`)."""
        models = self.all_models()
        if self._models_named is None or self._all_models is not models:
            named: dict[str, list[ModelInfo]] = {}
            for model in models:
                named.setdefault(model.name.lower(), []).append(model)
            if self._all_models is not models:
                return named.get(name.lower(), [])
            self._models_named = named
        return self._models_named.get(name.lower(), [])

    def find_model(self, name: str, near_path: str, app_label: str = "") -> ModelInfo | None:
        """A relationship target named by class name, as SQLAlchemy's registry resolves it (and
        Django's "app_label.Model": by class name, the app label choosing among namesakes)."""
        near = self.decl(near_path)
        if app_label and near is not None and self.module_label(near_path) != app_label:
            near = None
        if near is not None and name in near.classes:
            model = self.model_of(near, near.classes[name])
            if model is not None:
                return model
        if near is not None and name in near.imports:
            value = self.resolve_global(near, name)
            if value.kind is Kind.MODEL_CLASS:
                return value.model
        matches = [m for m in self.models_named(name) if m.name == name]
        if len(matches) > 1 and app_label:
            matches = [m for m in matches if self.model_label(m) == app_label]
        return matches[0] if len(matches) == 1 else None

    def historical(self, model: ModelInfo) -> ModelInfo:
        """The model a data migration gets from `apps.get_model(...)`: today's fields and relations
        (an approximation of that migration's state), none of the class's methods, properties or
        custom managers (only `objects`, a plain Manager), so nothing of them is followed."""
        if model.current is not None:
            return model
        key = (model.module_path, model.name)
        self.dependencies.read(model.module_path)
        copy = self._historical.get(key)
        if copy is None or copy.current is not model:
            copy = ModelInfo(model.name, model.module_path, model.line, model.table, columns=model.columns,
                             relationships=model.relationships, style=model.style,
                             managers={"objects": []}, current=model)
            self._historical[key] = copy
        return copy

    def relationship(self, model: ModelInfo, attr: str) -> RelationshipInfo | None:
        rel = model.relationships.get(attr)
        if rel is not None:
            return rel
        model = model.current or model  # a historical model: the reverse accessors of today's
        self.dependencies.read(ALL_MODELS)
        backrefs = self._backrefs
        if backrefs is None:
            # Built aside: building models may read a module for the first time, which resets
            # the table (a new module may declare backrefs).
            backrefs = {}
            for other in self.all_models():
                for target, backref in other.extra_backrefs:
                    backrefs.setdefault(target, []).append((backref, other))
            self._backrefs = backrefs if self._all_models is not None else None
        found = next((b for b, other in backrefs.get(model.name, [])
                      if b.name == attr and self._reverse_of(b, other, model)), None)
        # A proxy or a multi-table child has its parents' reverse accessors.
        for parent in model.parents if found is None else ():
            found = self.relationship(parent, attr)
            if found is not None:
                break
        return found

    def _reverse_of(self, backref: RelationshipInfo, declaring: ModelInfo, model: ModelInfo) -> bool:
        """A Django reverse accessor belongs to the model its field's target resolves to (not to
        every model of that class name)."""
        if not backref.django:
            return True
        forward = next((rel for rel in declaring.relationships.values()
                        if rel.line == backref.line and rel.django), None)
        return forward is not None and self.find_model(forward.target, declaring.module_path,
                                                       forward.app_label) is model

    def uselist(self, model: ModelInfo, rel: RelationshipInfo, target: ModelInfo | None) -> bool | None:
        """Does `model.rel` hold a collection? As SQLAlchemy decides it: `uselist=`, `Mapped[list[...]]`,
        else its direction (None: cannot tell)."""
        if rel.uselist is not None:
            return rel.uselist
        direction = self.direction(model, rel, target)
        return None if direction is None else direction != MANY_TO_ONE

    def direction(self, model: ModelInfo, rel: RelationshipInfo, target: ModelInfo | None) -> str | None:
        """SQLAlchemy's direction of `model.rel` (MANY_TO_ONE, ONE_TO_MANY, MANY_TO_MANY), from its
        own arguments (`secondary=`, `foreign_keys=`, `primaryjoin=`, `remote_side=`), else the inverse
        of what those of its other side (`back_populates=`, `backref=`) say, else from the foreign
        keys between the two tables when only one of them holds one; None when it cannot tell."""
        found = _declared_direction(model, rel, target)
        if found is not None:
            return found
        if rel.back_populates and target is not None:
            other = self.relationship(target, rel.back_populates)
            if other is not None and other.target == model.name:
                found = _declared_direction(target, other, model)
                if found is not None:
                    return INVERSE[found]
        if rel.join_unread or target is None or (target is model and rel.remote_side):
            return None  # (a remote side of columns not known: not the default either)
        if target is model:  # self-referential, no remote side named: SQLAlchemy takes it for one-to-many
            return ONE_TO_MANY if any(model.references(column, model) for column in model.columns) else None
        return _key_holder(any(model.references(column, target) for column in model.columns),
                           any(target.references(column, model) for column in target.columns))

    def construct(self, callee: Value, args: list[Value], keywords: dict[str | None, Value] | None = None) -> Value:
        """What calling a class or factory of the ORMs gives (shared with the facts pass)."""
        if callee.kind is Kind.EXTERNAL:
            value = hooks.ask(hooks.CONSTRUCT, self, callee.name, args, keywords or {})
            if value is not None:
                return value
        if callee.kind is Kind.SESSION_FACTORY:
            return Value(kind=Kind.SESSION, asynchronous=callee.asynchronous)
        if callee.kind is Kind.CLASS and isinstance(callee.ref, tuple):
            # A project subclass of a library class (`class AppSQLAlchemy(SQLAlchemy)`): built as it.
            library = self.library_base(callee.ref)
            if library is not None:
                return self.construct(library, args, keywords)
        return UNKNOWN

    def library_base(self, cls: tuple, depth: int = 0) -> Value | None:
        """The first library class `cls` derives from, through project classes."""
        decl = self.decl(cls[0])
        if decl is None or depth > 8:
            return None
        for base in cls[1].bases:
            value = self.eval_static(decl, base)
            if value.kind is Kind.EXTERNAL:
                return value
            if value.kind is Kind.CLASS and isinstance(value.ref, tuple):
                found = self.library_base(value.ref, depth + 1)
                if found is not None:
                    return found
        return None

    def _feeds_all_models(self, path: str) -> bool:
        """Does the module declare models, or what a framework plugin derives across modules (a
        view's `serializer_class`)? What reads ALL_MODELS depends on those."""
        decl = self.decl(path)
        return decl is not None and (any(self.declared_model(decl, cls) is not None for cls in decl.classes.values())
                                     or frameworks.affected_by(decl))


MANY_TO_ONE, ONE_TO_MANY, MANY_TO_MANY = "many_to_one", "one_to_many", "many_to_many"
INVERSE = {MANY_TO_ONE: ONE_TO_MANY, ONE_TO_MANY: MANY_TO_ONE, MANY_TO_MANY: MANY_TO_MANY}


def _key_holder(here: bool, there: bool) -> str | None:
    """The direction when a key to the other side is here, there, or (None) both or neither."""
    return None if here == there else MANY_TO_ONE if here else ONE_TO_MANY


def _declared_direction(model: ModelInfo, rel: RelationshipInfo, target: ModelInfo | None) -> str | None:
    """The direction a relationship's own arguments say (see ModelIndex.direction), or None."""
    if rel.secondary:
        return MANY_TO_MANY
    if rel.foreign_side:  # the side whose columns hold the key (foreign_keys=, foreign())
        return MANY_TO_ONE if rel.foreign_side == "local" else ONE_TO_MANY
    if target is model or (target is None and rel.target == model.name):
        if rel.remote_side:  # the remote side holds the key: one-to-many; its primary key: many-to-one
            keys = [model.references(column, model) for column in rel.remote_side if column in model.columns]
            if len(keys) == len(rel.remote_side):
                return ONE_TO_MANY if all(keys) else MANY_TO_ONE if not any(keys) else None
        return None
    if target is not None and (rel.join_local or rel.join_remote):  # primaryjoin= without foreign()
        return _key_holder(any(model.references(column, target) for column in rel.join_local),
                           any(target.references(column, model) for column in rel.join_remote))
    if model.local_foreign_keys(rel):
        return MANY_TO_ONE  # (a self-referential one's are not: `foreign_keys=[parent_id]` either way)
    return None

