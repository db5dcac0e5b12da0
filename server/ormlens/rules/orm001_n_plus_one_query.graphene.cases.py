"""ORM001 examples, graphene-django: a `DjangoObjectType` listed by a field (`graphene.List(T)`,
`DjangoListField(T)`, a connection field) resolves each of its fields once per object of the list,
so a query a `resolve_<field>(root, info)` resolver runs (directly, or through a model method)
runs once per row. What the list's rows loaded is not known, so a relationship read in a resolver
is not reported; a DataLoader, a root `Query` resolver and a type never listed say nothing.
A line marked `# expect:` must be reported with that code on that exact expression; no other line
may be. This file is analysed, never imported."""
import graphene
from django.db import models
from graphene_django import DjangoListField, DjangoObjectType
from graphene_django.filter import DjangoFilterConnectionField


class Venue(models.Model):
    name = models.CharField(max_length=80)

    def sold_out_count(self):
        return Concert.objects.filter(venue=self, sold_out=True).count()


class Concert(models.Model):
    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="concerts")
    sold_out = models.BooleanField()
    headliner = models.CharField(max_length=80)


# --- must be reported ----------------------------------------------------------------------------


class VenueType(DjangoObjectType):
    next_concert = graphene.Field(lambda: ConcertType)
    sold_out = graphene.Int()
    concerts = DjangoListField(lambda: ConcertType)

    class Meta:
        model = Venue
        fields = ("id", "name", "concerts")

    def resolve_next_concert(self, info):
        return Concert.objects.filter(venue=self, sold_out=False).first()  # expect: ORM001 "Concert.objects.filter(venue=self, sold_out=False).first()"

    def resolve_sold_out(root, info):
        return root.sold_out_count()  # expect: ORM001 "root.sold_out_count()"

    def resolve_concerts(self, info):
        return self.concerts.all()  # a relation: what the list's rows loaded is not known

    def resolve_unknown(self, info):
        return Concert.objects.count()  # no field `unknown`: graphene never calls it


class ConcertType(DjangoObjectType):
    same_night = graphene.Int()
    venue_name = graphene.String()

    class Meta:
        model = Concert
        fields = "__all__"

    def resolve_same_night(self, info, **kwargs):
        return Concert.objects.filter(venue_id=self.venue_id).exclude(pk=self.pk).count()  # expect: ORM001 "Concert.objects.filter(venue_id=self.venue_id).exclude(pk=self.pk).count()"

    def resolve_venue_name(self, info):
        return info.context.venue_loader.load(self.venue_id)  # a DataLoader: one batch for the list

    @classmethod
    def get_queryset(cls, queryset, info):
        return queryset.filter(sold_out=False)  # once per list, not per row


class Query(graphene.ObjectType):
    venues = graphene.List(graphene.NonNull(VenueType))
    concerts = DjangoFilterConnectionField(ConcertType)

    def resolve_venues(root, info):
        return Venue.objects.prefetch_related("concerts")  # the root list: once per request


# --- must not be reported ------------------------------------------------------------------------


class Stage(models.Model):
    venue = models.ForeignKey(Venue, on_delete=models.CASCADE)
    label = models.CharField(max_length=20)


class StageType(DjangoObjectType):  # only ever resolved one object at a time
    neighbours = graphene.Int()

    class Meta:
        model = Stage
        fields = ("id", "label")

    def resolve_neighbours(self, info):
        return Stage.objects.filter(venue_id=self.venue_id).count()


class StageQuery(graphene.ObjectType):
    stage = graphene.Field(StageType, id=graphene.ID())

    def resolve_stage(root, info, id):
        return Stage.objects.get(pk=id)
