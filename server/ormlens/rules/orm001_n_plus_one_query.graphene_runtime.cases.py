"""ORM001 examples, graphene-django resolvers attached at run time: `setattr(T, "resolve_" + name, f)`
makes `f` a method of the type class `T`, which graphene calls once per object where `T` is listed.
`f` is a def of the attaching function, or the inner def a project factory returns. `T` is a type
class named in the code, or a parameter: then what the callers pass, followed to a loop that hands
the same class both to the attaching function and to a list field (`graphene.List(T)`). The row
is then of a model only known at run time (`T._meta.model`): a query the resolver runs is
reported, a read on the row is not. A setattr of anything but a resolver, a type never listed, and
a resolver that runs no query say nothing.
A line marked `# expect:` must be reported with that code on that exact expression; no other line
may be. This file is analysed, never imported."""
import graphene
from django.db import models
from graphene_django import DjangoObjectType


class Shelf(models.Model):
    label = models.CharField(max_length=40)


class Volume(models.Model):
    shelf = models.ForeignKey(Shelf, on_delete=models.CASCADE, related_name="volumes")
    title = models.CharField(max_length=80)
    borrowed = models.BooleanField()


class ShelfType(DjangoObjectType):
    class Meta:
        model = Shelf
        fields = "__all__"


class VolumeType(DjangoObjectType):
    class Meta:
        model = Volume
        fields = "__all__"


class ArchiveType(DjangoObjectType):  # never listed: one object at a time
    class Meta:
        model = Volume
        fields = ("id",)


PREFIX = "resolve_"
TYPES = [ShelfType, VolumeType]


# --- must be reported ----------------------------------------------------------------------------


def generate_count_resolver(name):
    def resolve_count(self, info, **kwargs):
        return Volume.objects.filter(shelf_id=self.pk, title__startswith=name).count()  # expect: ORM001 "Volume.objects.filter(shelf_id=self.pk, title__startswith=name).count()"

    resolve_count.__name__ = f"{PREFIX}{name}"
    return resolve_count


def extend_with_counts(schema_type, names):
    for name in names:
        resolver_name = f"{PREFIX}{name}_count"
        setattr(schema_type, resolver_name, generate_count_resolver(name))
    return schema_type


def extend_with_borrowed(schema_type):
    def resolve_borrowed(self, info):
        return list(Volume.objects.filter(shelf_id=self.pk, borrowed=True))  # expect: ORM001 "list(Volume.objects.filter(shelf_id=self.pk, borrowed=True))"

    schema_type._meta.fields["borrowed"] = graphene.Field.mounted(graphene.Int())
    setattr(schema_type, "resolve_" + "borrowed", resolve_borrowed)
    return schema_type


def extend(schema_type):
    schema_type = extend_with_counts(schema_type, ["draft", "final"])
    schema_type = extend_with_borrowed(schema_type)
    return schema_type


def list_fields(schema_type, name):
    return {name: graphene.List(schema_type), f"resolve_{name}": None}


def build_query():
    attrs = {}
    for schema_type in TYPES:
        schema_type = extend(schema_type)
        attrs.update(list_fields(schema_type, schema_type.__name__.lower()))
    return type("Query", (graphene.ObjectType,), attrs)


def resolve_total(root, info):
    return Volume.objects.filter(shelf_id=root.pk).count()  # expect: ORM001 "Volume.objects.filter(shelf_id=root.pk).count()"


setattr(ShelfType, "resolve_total", resolve_total)  # a type named in the code, listed below


class Query(graphene.ObjectType):
    shelves = graphene.List(ShelfType)


# --- must not be reported ------------------------------------------------------------------------


def generate_label_resolver(name):
    def resolve_label(self, info):
        return getattr(self, name)  # reads the object, runs no query

    return resolve_label


def generate_restricted_queryset():
    def get_queryset(cls, queryset, info):
        return Volume.objects.filter(pk__in=queryset.values("pk"), borrowed=False)  # once per list

    return get_queryset


def extend_plain(schema_type):
    setattr(schema_type, "resolve_label", generate_label_resolver("label"))
    setattr(schema_type, "get_queryset", classmethod(generate_restricted_queryset()))  # not a resolver
    return schema_type


def extend_unlisted(schema_type):
    def resolve_others(self, info):
        return Volume.objects.exclude(pk=self.pk).count()  # the type is never listed

    setattr(schema_type, "resolve_others", resolve_others)


def build_plain():
    attrs = {}
    for schema_type in TYPES:
        schema_type = extend_plain(schema_type)
        attrs.update(list_fields(schema_type, "plain"))
    for schema_type in [ArchiveType]:
        extend_unlisted(schema_type)
        attrs["archive"] = graphene.Field(schema_type)
    return attrs


def resolve_archived(root, info):
    return Volume.objects.filter(pk=root.pk).exists()  # attached to a type no list names


setattr(ArchiveType, "resolve_archived", resolve_archived)


def replaced(schema_type):
    def resolve_shelf_size(self, info):
        return Volume.objects.filter(shelf_id=self.pk).count()  # the listed class is another one

    setattr(schema_type, "resolve_shelf_size", resolve_shelf_size)
    return ShelfType


def build_replaced():
    for schema_type in [ArchiveType]:
        schema_type = replaced(schema_type)
        graphene.List(schema_type)
