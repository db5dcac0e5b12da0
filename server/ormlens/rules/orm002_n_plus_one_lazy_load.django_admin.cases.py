"""ORM002 examples, Django admin: the changelist renders every `list_display` entry once per row,
so what a display method, a model property or `__str__` reads on the row runs once per row unless
the changelist's query loads it (`list_select_related`, `get_queryset()`).
A line marked `# expect:` must be reported with that code on that exact expression; no other line
may be. This file is analysed, never imported."""
from django.contrib import admin
from django.db import models


class Team(models.Model):
    name = models.CharField(max_length=80)


class Project(models.Model):
    name = models.CharField(max_length=80)
    team = models.ForeignKey(Team, on_delete=models.CASCADE)

    def __str__(self):
        return f"{self.team.name}/{self.name}"


class Check(models.Model):
    name = models.CharField(max_length=80)
    project = models.ForeignKey(Project, on_delete=models.CASCADE)

    @property
    def project_name(self):
        return self.project.name


class Channel(models.Model):
    kind = models.CharField(max_length=20)
    project = models.ForeignKey(Project, on_delete=models.CASCADE)


class Note(models.Model):
    text = models.TextField()
    check_ref = models.ForeignKey(Check, on_delete=models.CASCADE)


# --- must be reported ----------------------------------------------------------------------------


@admin.register(Check)
class CheckAdmin(admin.ModelAdmin):
    list_display = ("name", "project_", "project_name")  # expect: ORM002 "\"project_name\""

    def project_(self, obj):
        return obj.project.name  # expect: ORM002 "obj.project"


class ProjectAdmin(admin.ModelAdmin):  # the default list_display: str(row)  # expect: ORM002 "ProjectAdmin"
    search_fields = ("name",)


admin.site.register(Project, ProjectAdmin)


# --- must not be reported ------------------------------------------------------------------------


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("kind", "project_code")
    list_select_related = ("project",)

    def project_code(self, obj):
        return obj.project.name


@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ("text", "check_ref", "check_name")  # a relation shown: Django selects them all

    def check_name(self, obj):
        return obj.check_ref.name
