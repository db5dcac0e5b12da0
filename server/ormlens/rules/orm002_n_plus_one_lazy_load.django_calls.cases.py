"""ORM002 examples, Django: rows that cross a call. A method, a property or a helper reads a lazy
relation of the rows its caller passes it; the finding is at the call, naming the read inside.
A line marked `# expect:` must be reported with that code on that exact expression; no other line
may be. This file is analysed, never imported."""
from django.contrib.gis.db import models as geo_models
from django.contrib.contenttypes.fields import GenericForeignKey
from django.db import models
from django.utils.html import escape
from parler.models import TranslatableModel


class Account(models.Model):
    name = models.CharField(max_length=80)


# A project's own field class stands for the Django field it derives from.
class TrackedForeignKey(models.ForeignKey):
    def __init__(self, *args, tracked=True, **kwargs):
        super().__init__(*args, **kwargs)


class Invoice(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE)
    approver = TrackedForeignKey(Account, null=True, on_delete=models.SET_NULL, related_name="+")
    total = models.IntegerField()

    def label(self):
        return f"{self.account.name}: {self.total}"

    @property
    def approver_name(self):
        return self.approver.name if self.approver else ""

    def amount(self):
        return self.total  # no relation read

    def audit(self):
        if not self.account_id:  # a branch a saved row does not take
            return self.account.name
        return ""

    def heading(self):
        if self.account_id and self.total:  # set on every saved row (the key cannot be NULL)
            return self.account.name
        return ""

    def display(self, parts):
        return format_name(parts, fallback=lambda: self.account.name)  # only when the parts lack one

    def log(self):
        return f"{self.account.name}"


class Refund(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE)

    def __str__(self):
        return f"refund of {self.invoice.total}"


# GeoDjango's `models` is Django's.
class Site(geo_models.Model):
    account = geo_models.ForeignKey(Account, on_delete=geo_models.CASCADE)


def format_name(parts, fallback):
    return " ".join(parts) if parts else fallback()


# A model on a library's model base: it declares Django fields.
class Campaign(TranslatableModel):
    account = models.ForeignKey(Account, on_delete=models.CASCADE)


def summary(invoice):
    return {"account": invoice.account.name, "total": invoice.total}


def names(invoices):
    return [invoice.account.name for invoice in invoices]


# --- must be reported -------------------------------------------------------------------------


def method_reads_self_relation():
    for invoice in Invoice.objects.all():
        print(invoice.label())  # expect: ORM002 "invoice.label()"


def property_reads_self_relation():
    return [i.approver_name for i in Invoice.objects.filter(total__gt=0)]  # expect: ORM002 "i.approver_name"


def helper_reads_parameter_relation():
    return [summary(i) for i in Invoice.objects.all()]  # expect: ORM002 "summary(i)"


def helper_loops_over_the_rows_passed():
    rows = list(Invoice.objects.filter(total__gt=10))
    return names(rows)  # expect: ORM002 "names(rows)"


def project_field_class():
    for invoice in Invoice.objects.all():
        print(invoice.approver)  # expect: ORM002 "invoice.approver"


def geodjango_model():
    for site in Site.objects.all():
        print(site.account)  # expect: ORM002 "site.account"


def model_on_a_library_base():
    for campaign in Campaign.objects.all():
        print(campaign.account)  # expect: ORM002 "campaign.account"


def str_runs_the_models_dunder_str():
    return [str(refund) for refund in Refund.objects.all()]  # expect: ORM002 "str(refund)"


def escape_runs_the_models_dunder_str():
    return [escape(refund) for refund in Refund.objects.all()]  # expect: ORM002 "refund"


def f_string_runs_the_models_dunder_str():
    return [f"{refund}: ok" for refund in Refund.objects.all()]  # expect: ORM002 "refund"


# --- must not be reported ---------------------------------------------------------------------


def str_on_loaded_rows():
    return [str(refund) for refund in Refund.objects.select_related("invoice")]


def repr_in_an_f_string():
    return [f"{refund!r}" for refund in Refund.objects.all()]  # repr(), not __str__



def method_on_loaded_rows():
    for invoice in Invoice.objects.select_related("account"):
        print(invoice.label())


def helper_on_loaded_rows():
    return [summary(i) for i in Invoice.objects.select_related("account")]


def helper_loops_over_loaded_rows():
    rows = list(Invoice.objects.select_related("account"))
    return names(rows)


def method_without_relation():
    return [i.amount() for i in Invoice.objects.all()]


def one_row_not_a_loop(pk):
    invoice = Invoice.objects.get(pk=pk)
    return invoice.label()


def bounded_rows():
    for invoice in Invoice.objects.all()[:3]:
        print(invoice.label())


def conditional_read_in_the_method():
    return [i.audit() for i in Invoice.objects.all()]


def read_under_a_test_of_a_non_null_key():
    return [i.heading() for i in Invoice.objects.all()]  # expect: ORM002 "i.heading()"


def read_in_a_fallback_lambda(parts):
    return [i.display(parts) for i in Invoice.objects.all()]


def relation_assigned_before_the_call(account):
    for invoice in Invoice.objects.filter(total=0):
        invoice.account = account
        invoice.log()


def one_row_by_primary_key(pk):
    for invoice in Invoice.objects.filter(pk=pk):
        invoice.log()


class Attachment(models.Model):
    content_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.CASCADE)
    object_id = models.PositiveIntegerField()
    target = GenericForeignKey("content_type", "object_id")


def generic_foreign_key():
    return [a.target for a in Attachment.objects.all()]  # expect: ORM002 "a.target"


def generic_foreign_key_prefetched():
    return [a.target for a in Attachment.objects.prefetch_related("target")]


# A read chosen by the row's own data runs for every row whose data says so: the caller cannot
# rule those rows out. A read chosen by the caller's argument, or in a handler, may never run.
class Board(models.Model):
    name = models.CharField(max_length=80, blank=True)
    kind = models.CharField(max_length=10)
    owner = models.ForeignKey(Account, on_delete=models.CASCADE)

    def __str__(self):
        return self.name or self.owner.name

    def heading(self):
        if self.kind == "team":
            return f"{self.owner.name}'s board"
        return self.name

    def title(self, verbose):
        if verbose:
            return self.owner.name
        return self.name

    def badge(self):
        try:
            return self.name.upper()
        except AttributeError:
            return self.owner.name


def unnamed_boards_read_their_owner():
    return [str(b) for b in Board.objects.all()]  # expect: ORM002 "str(b)"


def team_boards_read_their_owner():
    return [b.heading() for b in Board.objects.filter(name="")]  # expect: ORM002 "b.heading()"


def unnamed_boards_with_their_owner():
    return [str(b) for b in Board.objects.select_related("owner")]


def the_callers_flag_chooses_the_read():
    return [b.title(False) for b in Board.objects.all()]


def the_read_in_a_handler():
    return [b.badge() for b in Board.objects.all()]


# Tests of a key are not the row's data: a saved row has its primary key, and an attribute the
# first save fills (`if not self.code: self.code = ...`) is set on every row read back.
class Card(models.Model):
    board = models.ForeignKey(Board, on_delete=models.CASCADE)
    code = models.CharField(max_length=20, blank=True)
    assignee = models.ForeignKey(Account, null=True, on_delete=models.SET_NULL, related_name="+")

    def save(self, *args, **kwargs):
        if not self.code:
            self.code = f"{self.board.name}-{self.pk}"
        super().save(*args, **kwargs)

    def describe(self):
        if self.pk is None:
            return self.board.name
        return self.code

    def owner_name(self):
        return self.board.owner.name


def saved_cards_keep_their_code():
    for card in Card.objects.all():
        card.save()


def saved_cards_have_a_key():
    return [card.describe() for card in Card.objects.all()]


# One board assigned to every card: what is read on it loads once.
def owners_of_one_board(board):
    for card in Card.objects.all():
        card.board = board
        print(card.owner_name())


def owners_of_each_cards_board():
    return [card.owner_name() for card in Card.objects.all()]  # expect: ORM002 "card.owner_name()"


# A list written out of rows holds what they loaded: a queue drained item by item (`pending =
# [card]`, `pending.pop(0)`) reads, on the caller's row too, what its rows did not load.
def cards_next_to(card):
    pending, seen, codes = [card], {card.pk}, []
    while pending:
        current = pending.pop(0)
        for other in current.board.card_set.all():
            if other.pk not in seen:
                seen.add(other.pk)
                codes.append(other.code)
                pending.append(other)
    return codes


def cards_next_to_each():
    return [cards_next_to(card) for card in Card.objects.all()]  # expect: ORM002 "cards_next_to(card)"


def cards_next_to_one(pk):
    return cards_next_to(Card.objects.get(pk=pk))


# In a loop over what the passed row holds, a test of each item's own data (a key compared to a
# value too) picks items by data; a test that a key is unset picks the items whose relation is empty.
def assignees_of_coded_cards(board):
    names = []
    for card in board.card_set.all():
        if card.code and card.board_id == board.pk:
            names.append(card.assignee.name)
    return names


def assignees_on_each_board():
    return [assignees_of_coded_cards(b) for b in Board.objects.all()]  # expect: ORM002 "assignees_of_coded_cards(b)"


def assignee_if_unset(card):
    if card.assignee_id is None:
        return card.assignee
    return None


def unassigned_cards():
    return [assignee_if_unset(card) for card in Card.objects.all()]
