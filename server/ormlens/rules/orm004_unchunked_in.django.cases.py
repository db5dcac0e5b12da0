"""ORM004 examples, Django. A line marked `# expect:` must be reported with that code on that
exact expression; no other line may be. This file is analysed, never imported."""
from itertools import batched

from django.db import models
from django.db.models import Q

KINDS = ("letter", "box")


class Depot(models.Model):
    city = models.CharField(max_length=80)


class Parcel(models.Model):
    depot = models.ForeignKey(Depot, on_delete=models.CASCADE)
    kind = models.CharField(max_length=10)


# --- must be reported -------------------------------------------------------------------------


def from_a_parameter(depot_ids: list[int]):
    parcels = list(Parcel.objects.filter(depot_id__in=depot_ids))  # expect: ORM004 "depot_id__in=depot_ids"
    for parcel in Parcel.objects.exclude(depot__in=depot_ids).order_by("id"):  # expect: ORM004 "depot__in=depot_ids"
        print(parcel.kind)
    return parcels


def from_rows():
    depots = list(Depot.objects.filter(city="Paris"))
    ids = [d.id for d in depots]
    return Parcel.objects.filter(Q(depot_id__in=ids)).count()  # expect: ORM004 "depot_id__in=ids"


def appended_per_row():
    depot_ids = []
    for parcel in Parcel.objects.filter(kind="box"):
        depot_ids.append(parcel.depot_id)  # once per row: as many ids as rows
    return Depot.objects.filter(pk__in=depot_ids).distinct()  # expect: ORM004 "pk__in=depot_ids"


# --- must not be reported ---------------------------------------------------------------------


def appended_per_literal_item():
    kinds = []
    for kind in KINDS:
        kinds.append(kind.upper())
    return Parcel.objects.filter(kind__in=kinds).count()



def bounded(a, b):
    Parcel.objects.filter(kind__in=["letter", "box"]).count()
    Parcel.objects.filter(kind__in=KINDS).count()
    Parcel.objects.filter(depot_id__in=(a, b)).count()


def subqueries(city):
    in_city = Depot.objects.filter(city=city)
    list(Parcel.objects.filter(depot__in=in_city))
    list(Parcel.objects.filter(depot_id__in=Depot.objects.filter(city=city).values("id")))
    list(Parcel.objects.filter(depot_id__in=in_city.values_list("id", flat=True)))


def chunked(depot_ids):
    parcels = []
    for chunk in batched(depot_ids, 1000):
        parcels += list(Parcel.objects.filter(depot_id__in=chunk))
    return parcels


def untyped_parameter(depots):
    # Callers may pass a queryset, which Django turns into a subquery: cannot tell.
    return list(Parcel.objects.filter(depot__in=depots))


def unknown_size(config):
    return list(Parcel.objects.filter(kind__in=config.kinds))


def parcels_of_one_depot(depot: Depot):
    ids = [p.id for p in depot.parcel_set.filter(kind="box")]  # one depot's parcels: scoped to one row
    return list(Parcel.objects.filter(pk__in=ids))


def parcels_of_every_depot():
    ids = [p.id for p in Parcel.objects.filter(kind="box")]  # a filter: grows with the table
    return list(Parcel.objects.filter(pk__in=ids))  # expect: ORM004 "pk__in=ids"
