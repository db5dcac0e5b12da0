"""ORM002 (and ORM001) examples in Django templates: the views below render the templates in
`templates/orm002_n_plus_one_lazy_load.django_templates/`, whose lines marked `{# expect: #}` must be
reported (in the template, at the read) and no others. This file is analysed, never imported."""
from django.db import models
from django.shortcuts import render
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.views.generic import DetailView, ListView

FOLDER = "orm002_n_plus_one_lazy_load.django_templates"


class Courier(models.Model):
    name = models.CharField(max_length=80)


class Shipment(models.Model):
    reference = models.CharField(max_length=20)
    courier = models.ForeignKey(Courier, on_delete=models.CASCADE)
    open = models.BooleanField(default=True)

    def courier_label(self):
        return self.courier.name


class Parcel(models.Model):
    shipment = models.ForeignKey(Shipment, related_name="parcels", on_delete=models.CASCADE)
    label = models.CharField(max_length=20)
    courier = models.ForeignKey(Courier, null=True, on_delete=models.SET_NULL)


def open_shipments(request):
    shipments = Shipment.objects.filter(open=True)
    return render(request, "orm002_n_plus_one_lazy_load.django_templates/shipments.html", {"shipments": shipments})


def loaded_shipments(request):
    # Everything the template reads is loaded with the rows: nothing to report.
    shipments = Shipment.objects.select_related("courier").prefetch_related("parcels__courier")
    return TemplateResponse(request, "orm002_n_plus_one_lazy_load.django_templates/loaded.html",
                            {"shipments": shipments})


def shipment_values(request):
    # values(): dicts, not rows; `s.courier__name` is a key.
    rows = Shipment.objects.values("reference", "courier__name")
    return render(request, "orm002_n_plus_one_lazy_load.django_templates/values.html", {"rows": rows})


def one_shipment(request, pk):
    # One row, no loop: its courier loads once.
    shipment = Shipment.objects.get(pk=pk)
    return render(request, "orm002_n_plus_one_lazy_load.django_templates/one.html", {"shipment": shipment})


def mail_body(shipments_ids):
    context = {}
    context["shipments"] = Shipment.objects.filter(pk__in=shipments_ids)
    return render_to_string("orm002_n_plus_one_lazy_load.django_templates/mail.txt", context)


class ShipmentList(ListView):
    model = Shipment
    template_name = "orm002_n_plus_one_lazy_load.django_templates/list.html"
    context_object_name = "shipments"


class ShipmentDetail(DetailView):
    queryset = Shipment.objects.select_related("courier")
    template_name = "orm002_n_plus_one_lazy_load.django_templates/detail.html"
