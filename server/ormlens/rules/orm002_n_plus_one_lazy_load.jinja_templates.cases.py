"""ORM002 examples in Jinja2 templates rendered by Flask views (Flask-SQLAlchemy models): the views
render the templates in `templates/orm002_n_plus_one_lazy_load.jinja_templates/`, whose lines
marked `{# expect: #}` must be reported (in the template, at the read) and no others. This file is
analysed, never imported."""
from flask import Flask, render_template
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, joinedload, mapped_column, relationship


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
app = Flask(__name__)


class JinjaVendor(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    invoices: Mapped[list["JinjaInvoice"]] = relationship(back_populates="vendor")


class JinjaInvoice(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    total: Mapped[int]
    vendor_id: Mapped[int] = mapped_column(ForeignKey("jinja_vendor.id"))
    vendor: Mapped[JinjaVendor] = relationship(back_populates="invoices")


@app.route("/invoices")
def invoices():
    rows = db.session.scalars(db.select(JinjaInvoice).order_by(JinjaInvoice.id)).all()
    return render_template("orm002_n_plus_one_lazy_load.jinja_templates/invoices.html", invoices=rows)


@app.route("/invoices/loaded")
def loaded_invoices():
    rows = db.session.scalars(db.select(JinjaInvoice).options(joinedload(JinjaInvoice.vendor))).all()
    return render_template("orm002_n_plus_one_lazy_load.jinja_templates/loaded.html", invoices=rows)


@app.route("/vendors")
def vendors():
    return render_template("orm002_n_plus_one_lazy_load.jinja_templates/vendors.html",
                           vendors=JinjaVendor.query.all())
