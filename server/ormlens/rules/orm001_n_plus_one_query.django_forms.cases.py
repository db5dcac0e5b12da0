"""ORM001 examples, Django forms: a model choice field rendered with a widget that lists its choices
labels each row of its queryset with `str(row)`, so a query the model's `__str__` runs, runs once
per choice.
A line marked `# expect:` must be reported with that code on that exact expression; no other line
may be. This file is analysed, never imported."""
from django import forms
from django.db import models


class Team(models.Model):
    name = models.CharField(max_length=80)

    def __str__(self):
        return f"{self.name} ({Member.objects.filter(team=self).count()} members)"


class Member(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE)


class Room(models.Model):
    name = models.CharField(max_length=80)

    def __str__(self):
        return self.name


# --- must be reported ----------------------------------------------------------------------------


class TeamPickerForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.order_by("name"))  # expect: ORM001 "Team.objects.order_by(\"name\")"


# --- must not be reported ------------------------------------------------------------------------


class HiddenTeamForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.all(), widget=forms.HiddenInput())


class RoomForm(forms.Form):
    room = forms.ModelChoiceField(queryset=Room.objects.all())
