"""ORM001 examples, django-tables2: a table renders every column once per row, so a query that a
column's accessor runs (a model method it calls, a property whose body queries) or that a
`render_<column>` method runs, runs once per row of the data the view (or a call) gives it. A query
that a property returns unevaluated runs where the column shows it: django-tables2's `Column`
renders it as text, a `TemplateColumn` whose template iterates or prints `value`.
A line marked `# expect:` must be reported with that code on that exact expression; no other line
may be. This file is analysed, never imported."""
import django_tables2 as tables
from django.db import models
from django_tables2 import SingleTableView


class Shelf(models.Model):
    label = models.CharField(max_length=80)

    def volume_count(self):
        return Volume.objects.filter(shelf=self).count()

    @property
    def lent_volumes(self):
        return list(self.volumes.filter(lent=True))

    @property
    def title(self):
        return self.label.title()

    @property
    def recent_volumes(self):
        return self.volumes.filter(lent=False).order_by("-id")  # a query, run by whoever shows it


class Volume(models.Model):
    shelf = models.ForeignKey(Shelf, on_delete=models.CASCADE, related_name="volumes")
    lent = models.BooleanField()


# --- must be reported ----------------------------------------------------------------------------


class ShelfTable(tables.Table):
    label = tables.Column()
    volumes = tables.Column(accessor="volume_count")  # expect: ORM001 "accessor=\"volume_count\""
    lent = tables.Column(accessor="lent_volumes", orderable=False)  # expect: ORM001 "accessor=\"lent_volumes\""
    newest = tables.Column(empty_values=())

    class Meta:
        model = Shelf
        fields = ("label", "volumes", "lent", "newest")

    def render_newest(self, value, record):
        return Volume.objects.filter(shelf=record).order_by("-id").first()  # expect: ORM001 "Volume.objects.filter(shelf=record).order_by(\"-id\").first()"


class ShelfList(SingleTableView):
    model = Shelf
    table_class = ShelfTable


VOLUME_LIST = """{% for volume in value %}{{ volume.pk }} {% endfor %}"""
VOLUME_COUNT = """{{ record.label }}: {{ value.count }}"""


class RecentShelfTable(tables.Table):
    recent = tables.Column(accessor="recent_volumes")  # expect: ORM001 "accessor=\"recent_volumes\""
    recent_links = tables.TemplateColumn(VOLUME_LIST, accessor=tables.A("recent_volumes"))  # expect: ORM001 "accessor=tables.A(\"recent_volumes\")"

    class Meta:
        model = Shelf
        fields = ("label", "recent_volumes", "recent", "recent_links")  # expect: ORM001 "\"recent_volumes\""


class RecentShelves(SingleTableView):
    model = Shelf
    table_class = RecentShelfTable


# --- must not be reported ------------------------------------------------------------------------


class ShelfTitleTable(tables.Table):
    title = tables.Column()  # a property that queries nothing
    label = tables.Column(accessor="label")

    class Meta:
        model = Shelf
        fields = ("title", "label")


class ShelfTitles(SingleTableView):
    model = Shelf
    table_class = ShelfTitleTable


class VolumeCountColumn(tables.Column):
    def render(self, value):
        return "many"  # shows something else than its value


class RecentShelfSummaryTable(tables.Table):
    summary = tables.TemplateColumn(template_code=VOLUME_COUNT, accessor="recent_volumes")  # not iterated whole
    own = VolumeCountColumn(accessor="recent_volumes")  # a project column: its render decides
    rendered = tables.Column(accessor="recent_volumes")

    class Meta:
        model = Shelf
        fields = ("summary", "own", "rendered")

    def render_rendered(self, record):
        return record.label  # the value is never shown


class RecentShelfSummaries(SingleTableView):
    model = Shelf
    table_class = RecentShelfSummaryTable


class UnrenderedShelfTable(tables.Table):  # no view or call is known to render it
    volumes = tables.Column(accessor="volume_count")

    class Meta:
        model = Shelf
