"""ORM001 examples, Django models of installed apps: a class imported from a library app (or from
`django.contrib`) has a manager that runs queries like a project model's, though its fields are
not read (rows of it have no known relations, so nothing is said about reading them).
A line marked `# expect:` must be reported with that code on that exact expression; no other line
may be. This file is analysed, never imported."""
from django.contrib.auth.models import Group
from django.db import models
from notifications.models import Notification
from taggit.models import Tag


class Project(models.Model):
    slug = models.SlugField()


def latest_notifications(project):
    identifiers = {
        data["id"]
        for data in Notification.objects.filter(target_object_id=project.id).values_list("data", flat=True)
    }
    found = []
    for identifier in identifiers:
        found.append(Notification.objects.filter(data__contains=identifier)[0])  # expect: ORM001 "Notification.objects.filter(data__contains=identifier)[0]"
    return found


def groups_of(names):
    return [Group.objects.get(name=name) for name in Project.objects.values_list("slug", flat=True)]  # expect: ORM001 "Group.objects.get(name=name)"


def tags_once(projects):
    # Not per item: one query before the loop, read from memory inside it.
    tags = {t.name: t for t in Tag.objects.all()}
    return [tags.get(p.slug) for p in projects]


def notification_actors():
    # Rows of a library model: their relations are not known, so reading them says nothing.
    return [n.actor for n in Notification.objects.all()]


class Holder:
    objects = None


def not_a_manager(items):
    # `objects` of a class the project declares that is no model: nothing is known.
    return [Holder.objects.get(i) for i in items]
