"""ORM001 examples, Django: loops whose query is not one per item though it sits in the loop — a
queryset whose result cache a truth test filled, a dispatch on the item's kind, a handler for a
missing item, a loop over a bounded set of values (a literal list one call away, an enumeration,
a field's choices), one query per tenant's schema or database. A line marked `# expect:` must be
reported with that code on that exact expression; no other line may be. This file is analysed,
never imported."""
import enum

from django.conf import settings
from django.db import connection, models, transaction
from django_tenants.utils import schema_context, tenant_context


class Status(models.TextChoices):
    OPEN = "open"
    CLOSED = "closed"


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Shade(Colour):
    pass


class Ticket(models.Model):
    OPEN, CLOSED = "open", "closed"
    STATUS_CHOICES = ((OPEN, "Open"), (CLOSED, "Closed"))
    status = models.CharField(max_length=10, choices=STATUS_CHOICES)
    state = models.CharField(max_length=10, choices=Status.choices)
    title = models.CharField(max_length=80)


class Note(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="notes")
    body = models.TextField()


class Label(models.Model):
    name = models.CharField(max_length=80)
    colour = models.CharField(max_length=10)


class Client(models.Model):
    schema_name = models.CharField(max_length=63)


# --- must be reported -------------------------------------------------------------------------


def truth_test_then_per_row_query():
    tickets = Ticket.objects.filter(status="open")
    if tickets:
        for ticket in tickets:
            print(Note.objects.filter(ticket=ticket).count())  # expect: ORM001 "Note.objects.filter(ticket=ticket).count()"


def truth_test_of_a_queryset_per_item(tickets):
    for ticket in tickets:
        notes = Note.objects.filter(ticket=ticket)
        if notes:  # expect: ORM001 "notes"
            for note in notes:  # the result cache the test filled: no second query
                print(note.body)
        print(len(notes))


def evaluated_on_one_path_only(tickets, verbose):
    for ticket in tickets:
        notes = Note.objects.filter(ticket=ticket)
        if verbose:
            print(list(notes))  # expect: ORM001 "list(notes)"
        for note in notes:  # expect: ORM001 "notes"
            print(note.body)


def per_item_of_an_inner_loop(kinds, ticket_ids):
    for kind in kinds:
        for ticket_id in ticket_ids:
            print(Ticket.objects.get(pk=ticket_id))  # expect: ORM001 "Ticket.objects.get(pk=ticket_id)"


def dispatch_with_a_per_item_query(items):
    for item in items:
        if item.kind == "ticket":
            print(Ticket.objects.get(pk=item.pk))  # expect: ORM001 "Ticket.objects.get(pk=item.pk)"
        elif item.kind == "label":
            print(Label.objects.get(pk=item.pk))  # expect: ORM001 "Label.objects.get(pk=item.pk)"


def query_in_the_try_body(ticket_ids):
    for ticket_id in ticket_ids:
        try:
            ticket = Ticket.objects.get(pk=ticket_id)  # expect: ORM001 "Ticket.objects.get(pk=ticket_id)"
        except Ticket.DoesNotExist:
            continue
        print(ticket)


def atomic_per_item(ticket_ids):
    for ticket_id in ticket_ids:
        with transaction.atomic():  # a transaction per item is no tenant switch
            Note.objects.filter(ticket_id=ticket_id).delete()  # expect: ORM001 "Note.objects.filter(ticket_id=ticket_id).delete()"


def labels_of(names):
    for name in names:
        print(Label.objects.filter(name=name).count())  # expect: ORM001 "Label.objects.filter(name=name).count()"


def some_caller_passes_a_list(names):
    labels_of(["a", "b"])
    labels_of(names)


def titles_of_each_status(statuses):
    for title in Ticket.objects.values_list("title", flat=True).distinct():  # not a column with choices
        print(Ticket.objects.filter(title=title).count())  # expect: ORM001 "Ticket.objects.filter(title=title).count()"


# --- must not be reported ---------------------------------------------------------------------


def truth_test_fills_the_cache():
    tickets = Ticket.objects.filter(status="open")
    if tickets:
        for ticket in tickets:
            print(ticket.title)


def not_truth_test_fills_the_cache():
    tickets = Ticket.objects.filter(status="open")
    if not tickets:
        return
    for ticket in tickets:
        print(ticket.title)


def dispatch_on_the_item(kinds):
    for kind in kinds:
        if kind == "tickets":
            print(Ticket.objects.count())
        elif kind == "labels":
            print(Label.objects.count())
        elif kind in ("notes", "comments"):
            print(Note.objects.count())


def dispatch_by_match(kinds):
    for kind in kinds:
        match kind:
            case "tickets":
                print(Ticket.objects.count())
            case "labels":
                print(Label.objects.count())


def cached_or_fetched(cache, ticket_ids):
    for ticket_id in ticket_ids:
        try:
            ticket = cache[ticket_id]
        except KeyError:
            ticket = Ticket.objects.get(pk=ticket_id)
        print(ticket)


def get_or_create_by_hand(names):
    for name in names:
        try:
            label = Label.objects.get(name=name)  # expect: ORM001 "Label.objects.get(name=name)"
        except Label.DoesNotExist:
            label = Label.objects.create(name=name)
        print(label)


def counts_of(colours):
    for colour in colours:
        print(Label.objects.filter(colour=colour).count())


def callers_pass_literals():
    counts_of(["red", "blue"])
    counts_of(("green",))
    counts_of(Colour)


def loop_over_an_enum():
    for colour in Colour:
        print(Label.objects.filter(colour=colour.value).count())


def loop_over_a_derived_enum():
    for shade in Shade:
        print(Label.objects.filter(colour=shade.value).count())


def loop_over_text_choices():
    for status in Status:
        print(Ticket.objects.filter(state=status).count())


def loop_over_choices_values():
    for value, label in Status.choices:
        print(label, Ticket.objects.filter(state=value).count())


def loop_over_a_choices_constant():
    for value, label in Ticket.STATUS_CHOICES:
        print(label, Ticket.objects.filter(status=value).count())


def loop_over_distinct_choices():
    for status in Ticket.objects.values_list("status", flat=True).distinct():
        print(status, Ticket.objects.filter(status=status).count())


def per_tenant_schema():
    for tenant in Client.objects.all():
        with schema_context(tenant.schema_name):
            print(Ticket.objects.count())


def per_tenant_context(tenants):
    for tenant in tenants:
        with tenant_context(tenant):
            Ticket.objects.filter(status="closed").delete()


def per_tenant_connection(tenants):
    for tenant in tenants:
        connection.set_tenant(tenant)
        print(Ticket.objects.count())


def per_database():
    for db in settings.DATABASES:
        print(Ticket.objects.using(db).count())
