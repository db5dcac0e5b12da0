"""ORM002 examples, django-tables2: a table renders every column once per row of the data a view
(or a call) gives it, so what a column's accessor reads on the row (a relation, a model property or
method), a `ManyToManyColumn`, a model field listed in `Meta.fields` and a `render_<column>` method
run once per row unless the rows' query loads it.
A line marked `# expect:` must be reported with that code on that exact expression; no other line
may be. This file is analysed, never imported."""
import django_tables2 as tables
from django.db import models
from django.views.generic import View
from django_tables2 import A, SingleTableView
from django_tables2.utils import Accessor


class Studio(models.Model):
    name = models.CharField(max_length=80)


class Genre(models.Model):
    name = models.CharField(max_length=80)


class Director(models.Model):
    name = models.CharField(max_length=80)
    studio = models.ForeignKey(Studio, on_delete=models.CASCADE)


class Film(models.Model):
    title = models.CharField(max_length=80)
    director = models.ForeignKey(Director, on_delete=models.CASCADE)
    studio = models.ForeignKey(Studio, on_delete=models.CASCADE)
    genres = models.ManyToManyField(Genre)

    @property
    def studio_name(self):
        return self.studio.name

    def director_label(self):
        return self.director.name


class Screening(models.Model):
    film = models.ForeignKey(Film, on_delete=models.CASCADE, related_name="screenings")
    room = models.ForeignKey(Studio, on_delete=models.CASCADE)
    seats = models.IntegerField()


class Ticket(models.Model):
    screening = models.ForeignKey(Screening, on_delete=models.CASCADE, related_name="tickets")
    holder = models.ForeignKey(Director, on_delete=models.CASCADE)
    seat = models.CharField(max_length=8)


# --- must be reported ----------------------------------------------------------------------------


class FilmTable(tables.Table):  # FilmList renders Film.objects.all(), which loads nothing
    title = tables.Column()  # a plain field: no query
    director_name = tables.Column(accessor="director__name")  # expect: ORM002 "accessor=\"director__name\""
    studio = tables.Column(accessor=tables.A("studio_name"), order_by=("studio__name",))  # expect: ORM002 "accessor=tables.A(\"studio_name\")"
    genres = tables.ManyToManyColumn()  # expect: ORM002 "tables.ManyToManyColumn()"

    class Meta:
        model = Film
        fields = ("title", "director_name", "studio", "genres")


class FilmList(SingleTableView):
    model = Film
    table_class = FilmTable


class DirectorTable(tables.Table):
    studio = tables.Column()  # expect: ORM002 "tables.Column()"

    class Meta:
        model = Director


def directors(request):
    table = DirectorTable(data=Director.objects.filter(name__startswith="A"))
    return table


class ProjectTable(tables.Table):  # a project's base table: its Meta is inherited
    class Meta:
        attrs = {"class": "table"}


class ScreeningTable(ProjectTable):
    film_title = tables.Column(accessor=Accessor("film.title"))  # expect: ORM002 "accessor=Accessor(\"film.title\")"
    seats = tables.Column()
    free = tables.Column(empty_values=())

    class Meta(ProjectTable.Meta):
        model = Screening
        fields = ("room", "seats")  # expect: ORM002 "\"room\""

    def render_free(self, value, record):
        return record.film.title  # expect: ORM002 "record.film"


class ListView(View):  # a project's generic list view: subclasses name the table and the rows
    queryset = None
    table = None


class ScreeningList(ListView):
    queryset = Screening.objects.filter(seats__gt=0)
    table = ScreeningTable


class TicketTable(tables.Table):
    label = tables.Column(accessor="screening.film.director_label")  # expect: ORM002 "accessor=\"screening.film.director_label\""

    class Meta:
        model = Ticket
        fields = ("seat", "label")

    def value_seat(self, record):  # (the export's value)
        return f"{record.holder.name}: {record.seat}"  # expect: ORM002 "record.holder"


class SeatTable(tables.Table):
    class Meta:  # no fields named: a column for every field, its foreign keys too
        model = Ticket  # expect: ORM002 "Ticket"


def seats(request):
    return SeatTable(Ticket.objects.select_related("screening").filter(seat__startswith="A"))


class TicketList(SingleTableView):
    table_class = TicketTable

    def get_queryset(self):
        return Ticket.objects.select_related("screening")


# --- must not be reported ------------------------------------------------------------------------


class LoadedFilmTable(tables.Table):
    director_name = tables.Column(accessor="director__name")
    studio = tables.Column(accessor=A("studio_name"))
    genres = tables.ManyToManyColumn()

    class Meta:
        model = Film
        fields = ("title", "director_name", "studio", "genres")


class LoadedFilmList(SingleTableView):
    table_class = LoadedFilmTable
    queryset = Film.objects.select_related("director", "studio").prefetch_related("genres")


class UnusedTable(tables.Table):  # no view or call is known to render it
    director_name = tables.Column(accessor="director__name")

    class Meta:
        model = Film


class PlainScreeningTable(tables.Table):
    film_id = tables.Column()  # the foreign key's own column
    seats = tables.Column(order_by=("film__title",))  # sorted by a relation: sorting runs no query per row
    room = tables.Column(visible=False)  # hidden: never rendered
    film = tables.Column()
    extra = tables.Column(empty_values=())

    class Meta:
        model = Screening
        fields = ("seats",)
        exclude = ("film",)  # excluded: never rendered

    def render_nothing(self, record):  # no such column: never called
        return record.room.name

    def render_extra(self, value):  # takes no row
        return value


class PlainScreeningList(SingleTableView):
    model = Screening
    table_class = PlainScreeningTable


class FilmScreeningTable(tables.Table):
    film_title = tables.Column(accessor="film__title")

    class Meta:
        model = Screening
        fields = ("seats", "film_title")


class FilmScreenings(SingleTableView):
    table_class = FilmScreeningTable

    def get_queryset(self):  # rows of a film's related manager: Django sets their film
        return Film.objects.get(pk=self.kwargs["pk"]).screenings.all()


class ScreeningsOfFilm(SingleTableView):
    model = Screening
    table_class = FilmScreeningTable

    def get_table(self, **kwargs):  # makes the table itself, with rows of its own
        return FilmScreeningTable(self.film.screenings.all())


def film_screenings(request, film):
    return FilmScreeningTable(film.screenings.all())  # rows of a related manager: not known


class RoomTable(tables.Table):
    room_name = tables.Column(accessor="room__name")

    class Meta:
        model = Screening
        fields = ("seats", "room_name")


def rooms(request):
    return RoomTable(Screening.objects.all(), exclude=("room_name",))  # the column left out


def screening_values(request):
    return FilmScreeningTable(Screening.objects.values("seats"))  # dicts, not rows


class OptimizingTable(tables.Table):  # loads what its visible columns name, at run time
    def __init__(self, data, **kwargs):
        super().__init__(data, **kwargs)
        names = [column.accessor for column in self.columns if column.visible]
        self.data.data = self.data.data.select_related(*names)


class TicketHolderTable(OptimizingTable):
    holder = tables.Column()
    screening_room = tables.Column(accessor="screening__room")

    class Meta:
        model = Ticket


class TicketHolders(SingleTableView):
    model = Ticket
    table_class = TicketHolderTable
