"""ORM002 examples, Django. A line marked `# expect:` must be reported with that code on that
exact expression; no other line may be. This file is analysed, never imported."""
from django.db import models
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404


class Imprint(models.Model):
    name = models.CharField(max_length=80)


class Writer(models.Model):
    name = models.CharField(max_length=80)
    imprint = models.ForeignKey(Imprint, null=True, on_delete=models.SET_NULL)


class Biography(models.Model):
    writer = models.OneToOneField(Writer, on_delete=models.CASCADE)
    text = models.TextField()


class Genre(models.Model):
    label = models.CharField(max_length=40)


class Novel(models.Model):
    title = models.CharField(max_length=120)
    writer = models.ForeignKey(Writer, on_delete=models.CASCADE, related_name="novels")
    editor = models.ForeignKey("Writer", null=True, on_delete=models.SET_NULL, related_name="+")
    genres = models.ManyToManyField(Genre)
    sequel_of = models.ForeignKey("self", null=True, on_delete=models.SET_NULL)


class Chapter(models.Model):
    novel = models.ForeignKey(Novel, on_delete=models.CASCADE)
    number = models.IntegerField()


def novels_with_writers():
    return Novel.objects.select_related("writer")


def plain_novels():
    return Novel.objects.filter(title__startswith="A")


# --- must be reported -------------------------------------------------------------------------


def forward_foreign_key():
    for novel in Novel.objects.all():
        print(novel.writer.name)  # expect: ORM002 "novel.writer"


def forward_in_a_comprehension():
    return [n.editor for n in Novel.objects.filter(title__icontains="x")]  # expect: ORM002 "n.editor"


def through_a_variable():
    novels = Novel.objects.filter(title__startswith="B").order_by("title")
    for novel in novels:
        print(novel.sequel_of)  # expect: ORM002 "novel.sequel_of"


def through_list():
    chapters = list(Chapter.objects.all())
    for chapter in chapters:
        print(chapter.novel.title)  # expect: ORM002 "chapter.novel"


def through_a_helper():
    for novel in plain_novels():
        print(novel.writer)  # expect: ORM002 "novel.writer"


def reverse_foreign_key_iterated():
    for writer in Writer.objects.all():
        for novel in writer.novels.all():  # expect: ORM002 "writer.novels.all()"
            print(novel.title)


def reverse_default_name_listed():
    for novel in Novel.objects.all():
        print(list(novel.chapter_set.all()))  # expect: ORM002 "novel.chapter_set.all()"


def many_to_many():
    return {n.id: [g.label for g in n.genres.all()] for n in Novel.objects.all()}  # expect: ORM002 "n.genres.all()"


def reverse_many_to_many():
    for genre in Genre.objects.all():
        print(len(genre.novel_set.all()))  # expect: ORM002 "genre.novel_set.all()"


def reverse_one_to_one():
    for writer in Writer.objects.all():
        print(writer.biography.text)  # expect: ORM002 "writer.biography"


def one_level_loaded_not_the_next():
    for novel in Novel.objects.select_related("writer"):
        print(novel.writer.imprint)  # expect: ORM002 "novel.writer.imprint"


def prefetched_to_another_attribute():
    writers = Writer.objects.prefetch_related(Prefetch("novels", to_attr="novel_list"))
    for writer in writers:
        print(list(writer.novels.all()))  # expect: ORM002 "writer.novels.all()"


def reverse_manager_in_enumerate_or_zip(labels):
    for writer in Writer.objects.all():
        for index, novel in enumerate(writer.novels.all(), start=1):  # expect: ORM002 "writer.novels.all()"
            print(index, novel.title)
    for genre in Genre.objects.all():
        for novel, label in zip(genre.novel_set.all(), labels):  # expect: ORM002 "genre.novel_set.all()"
            print(novel.title, label)


def rows_of_enumerate():
    for index, chapter in enumerate(Chapter.objects.filter(number__gt=1)):
        print(index, chapter.novel)  # expect: ORM002 "chapter.novel"


def rows_of_one_rows_collection(writer_id, genre_id):
    writer = Writer.objects.get(pk=writer_id)
    for novel in writer.novels.all():  # one row's novels: one query, but nothing else loaded
        print(novel.sequel_of)  # expect: ORM002 "novel.sequel_of"
    genre = get_object_or_404(Genre, pk=genre_id)
    return [novel.writer for novel in genre.novel_set.all()]  # expect: ORM002 "novel.writer"


def known_parent_but_another_key(writer_id):
    writer = Writer.objects.get(pk=writer_id)
    for novel in writer.novels.filter(title__startswith="A").select_related("writer"):
        print(novel.writer, novel.sequel_of)  # expect: ORM002 "novel.sequel_of"
    for novel in Novel.objects.filter(writer=writer):  # not through its manager: no known parent
        print(novel.writer)  # expect: ORM002 "novel.writer"


# --- must not be reported ---------------------------------------------------------------------


def known_parent_through_builders(writer_id):
    writer = Writer.objects.get(pk=writer_id)
    for novel in writer.novels.filter(title__startswith="A").select_related("editor").order_by("title"):
        print(novel.writer, novel.editor)  # Django sets the parent on a reverse manager's rows
    recent = writer.novels.exclude(title="").only("title").distinct()
    for novel in recent.prefetch_related("genres"):
        print(novel.writer.name, list(novel.genres.all()))
    for title in writer.novels.values_list("title", flat=True):
        print(title)


def one_rows_collection_loaded(writer_id, writer: Writer, novels):
    prefetched = Writer.objects.prefetch_related(Prefetch("novels", queryset=Novel.objects.select_related("sequel_of")))
    for novel in prefetched.get(pk=writer_id).novels.all():
        print(novel.sequel_of)
    for novel in Writer.objects.get(pk=writer_id).novels.select_related("sequel_of"):
        print(novel.sequel_of)
    for novel in writer.novels.all():  # a parameter: the caller may have prefetched novels__sequel_of
        print(novel.sequel_of)
    for novel in novels[0].novel_set.all():
        print(novel.sequel_of)


def enumerate_prefetched():
    for writer in Writer.objects.prefetch_related("novels"):
        for index, novel in enumerate(writer.novels.all()):
            print(index, novel.title, novel.writer)
    for index, chapter in enumerate(Chapter.objects.select_related("novel")):
        print(index, chapter.novel)
    for index, name in enumerate(Chapter.objects.values_list("novel__title", flat=True)):
        print(index, name)


def foreign_key_id_is_a_column():
    for novel in Novel.objects.all():
        print(novel.writer_id, novel.sequel_of_id, novel.pk)


def selected():
    for novel in Novel.objects.select_related("writer", "editor"):
        print(novel.writer.name, novel.editor)
    for novel in Novel.objects.all().select_related("writer__imprint"):
        print(novel.writer.imprint)
    for writer in Writer.objects.select_related("biography"):
        print(writer.biography.text)


def selected_in_a_variable():
    novels = Novel.objects.filter(title__startswith="C").select_related("writer")
    for novel in novels.order_by("title"):
        print(novel.writer)
    for novel in list(novels):
        print(novel.writer)


def selected_in_a_helper():
    for novel in novels_with_writers():
        print(novel.writer)


def prefetched():
    for writer in Writer.objects.prefetch_related("novels"):
        for novel in writer.novels.all():
            print(novel.title)
        print(writer.novels.count(), writer.novels.exists(), len(writer.novels.all()))
    for novel in Novel.objects.prefetch_related("genres", "chapter_set"):
        print([g.label for g in novel.genres.all()], list(novel.chapter_set.all()))
    writers = Writer.objects.prefetch_related(Prefetch("novels", queryset=Novel.objects.select_related("editor")))
    for writer in writers:
        for novel in writer.novels.all():
            print(novel.editor)
    for writer in Writer.objects.prefetch_related("novels__genres"):
        for novel in writer.novels.all():
            print(list(novel.genres.all()))


def prefetched_foreign_key():
    for novel in Novel.objects.prefetch_related("writer"):
        print(novel.writer)


def parent_known_from_its_manager(writer_id):
    writer = Writer.objects.get(pk=writer_id)
    for novel in writer.novels.all():
        print(novel.writer)


def rows_of_unknown_origin(novels, writer: Writer):
    for novel in novels:
        print(novel.writer)
    print(list(writer.novels.all()))


def values_are_not_rows():
    for row in Novel.objects.values("writer"):
        print(row["writer"])
    for writer_id in Novel.objects.values_list("writer", flat=True):
        print(writer_id)


def bounded_rows():
    for novel in Novel.objects.all()[:10]:
        print(novel.writer)


def one_row():
    novel = Novel.objects.first()
    print(novel.writer, list(novel.genres.all()))


def not_a_model(registry):
    for item in registry.objects.all():
        print(item.writer)


def unknown_select_related(fields):
    for novel in Novel.objects.select_related(*fields):
        print(novel.writer)


def manager_rows_collected(writer_id):
    # Rows of a reverse manager know their parent, also once collected in a list or a dict.
    writer = Writer.objects.get(pk=writer_id)
    collected = []
    for novel in writer.novels.all():
        collected.append(novel)
    for novel in collected:
        print(novel.writer.name)
    by_title = {novel.title: novel for novel in writer.novels.all()}
    for novel in by_title.values():
        print(novel.writer.name)


def nested_related_managers():
    # Not prefetched, each writer's novels are their own query, whose rows load what it selects
    # and nothing else: a relation read on them is one more query per novel.
    for writer in Writer.objects.all():
        for novel in writer.novels.all():  # expect: ORM002 "writer.novels.all()"
            print(novel.sequel_of)  # expect: ORM002 "novel.sequel_of"
        for novel in writer.novels.select_related("sequel_of"):  # expect: ORM001 "writer.novels.select_related(\"sequel_of\")"
            print(novel.sequel_of)  # its own select_related loaded it
