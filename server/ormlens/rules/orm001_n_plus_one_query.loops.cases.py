"""ORM001 examples for loops other than `for`: `while` loops that consume a collection,
`map()`/`filter()`, nested loops, helpers that return a query the caller runs. A line marked
`# expect:` must be reported with that code on that exact expression; no other line may be.
This file is analysed, never imported."""
import heapq
import time
from collections import deque

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select
from sqlalchemy.orm import Session

db = SQLAlchemy()

MAX_ATTEMPTS = 5


class LoopCustomer(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)
    parent_id = db.Column(db.Integer, db.ForeignKey("loop_customer.id"))


class LoopInvoice(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    customer_id = db.Column(db.Integer, db.ForeignKey("loop_customer.id"), nullable=False)
    status = db.Column(db.String(10), nullable=False)


# --- `while` loops that take the next item of a collection: must be reported -------------------


def walrus_next(customer_ids):
    it = iter(customer_ids)
    while (cid := next(it, None)) is not None:
        LoopInvoice.query.filter_by(customer_id=cid).all()  # expect: ORM001 "LoopInvoice.query.filter_by(customer_id=cid).all()"


def next_until_stop(customer_ids):
    it = iter(customer_ids)
    while True:
        try:
            cid = next(it)
        except StopIteration:
            break
        LoopInvoice.query.filter_by(customer_id=cid).count()  # expect: ORM001 "LoopInvoice.query.filter_by(customer_id=cid).count()"


def pop_until_empty(ids):
    while ids:
        cid = ids.pop()
        db.session.get(LoopCustomer, cid)  # expect: ORM001 "db.session.get(LoopCustomer, cid)"


def queue_of_ids(customer_ids):
    queue = deque(customer_ids)
    while queue:
        cid = queue.popleft()
        LoopCustomer.query.get(cid)  # expect: ORM001 "LoopCustomer.query.get(cid)"


def queue_with_a_break(customer_ids):
    queue = deque(customer_ids)
    while True:
        if not queue:
            break
        cid = queue.pop()
        LoopCustomer.query.get(cid)  # expect: ORM001 "LoopCustomer.query.get(cid)"


def len_test(stack: list[int]):
    while len(stack) > 0:
        cid = stack.pop(-1)
        LoopInvoice.query.filter_by(customer_id=cid).first()  # expect: ORM001 "LoopInvoice.query.filter_by(customer_id=cid).first()"


def tree_walk(root_id):
    todo = [root_id]
    while todo:
        current = todo.pop()
        children = LoopCustomer.query.filter_by(parent_id=current).all()  # expect: ORM001 "LoopCustomer.query.filter_by(parent_id=current).all()"
        todo.extend(c.id for c in children)


def priority_walk(root_id):
    heap = [(0, root_id)]
    while heap:
        _, current = heapq.heappop(heap)
        for child in LoopCustomer.query.filter_by(parent_id=current):  # expect: ORM001 "LoopCustomer.query.filter_by(parent_id=current)"
            heapq.heappush(heap, (1, child.id))


def drain_a_result(session: Session):
    result = session.execute(select(LoopCustomer.id))
    while (row := result.fetchone()) is not None:
        session.scalars(select(LoopInvoice).where(LoopInvoice.customer_id == row.id)).all()  # expect: ORM001 "session.scalars(select(LoopInvoice).where(LoopInvoice.customer_id == row.id))"


# --- a value made bounded on one path only is not bounded: must be reported ---------------------


def one_or_many(customer_ids: list[int]):
    if not isinstance(customer_ids, list):
        customer_ids = [customer_ids]  # only when a single id was passed
    for cid in customer_ids:
        LoopInvoice.query.filter_by(customer_id=cid).all()  # expect: ORM001 "LoopInvoice.query.filter_by(customer_id=cid).all()"


# --- enumerate() / zip() of a query iterate it: a query per item when built per item -------------


def enumerate_a_query_per_customer():
    for customer in LoopCustomer.query.all():
        for index, invoice in enumerate(LoopInvoice.query.filter_by(customer_id=customer.id)):  # expect: ORM001 "LoopInvoice.query.filter_by(customer_id=customer.id)"
            print(index, invoice.status)


def zip_a_query_per_customer(session: Session, labels):
    for customer in session.query(LoopCustomer):
        for label, invoice in zip(labels, session.query(LoopInvoice).filter_by(customer_id=customer.id)):  # expect: ORM001 "session.query(LoopInvoice).filter_by(customer_id=customer.id)"
            print(label, invoice.status)


def enumerate_once(session: Session):
    for index, customer in enumerate(session.query(LoopCustomer).all()):
        print(index, customer.name)
    for index, (customer, invoice) in enumerate(zip(LoopCustomer.query, LoopInvoice.query)):
        print(index, customer.name, invoice.status)
    for index, name in enumerate(["a", "b"]):
        print(index, name)


def enumerate_a_statement_builds_it(session: Session, customer_ids):
    for cid in customer_ids[:3]:
        for index, invoice in enumerate(session.scalars(select(LoopInvoice).filter_by(customer_id=cid))):
            print(index, invoice.status)


# --- other `while` loops: must not be reported ---------------------------------------------------


def retry_with_a_counter(cid):
    attempts = 0
    while attempts < MAX_ATTEMPTS:
        customer = LoopCustomer.query.get(cid)
        if customer is not None:
            return customer
        attempts += 1
        time.sleep(1)
    return None


def polling_until_done(job_id):
    done = False
    while not done:
        invoice = LoopInvoice.query.get(job_id)
        done = invoice.status == "paid"
        time.sleep(5)


def keyset_pages(session: Session):
    last_id = 0
    while True:
        page = session.scalars(select(LoopInvoice).where(LoopInvoice.id > last_id).order_by(LoopInvoice.id).limit(500)).all()
        if not page:
            break
        last_id = page[-1].id


def pop_under_a_condition(customer_ids, paused):
    pending = list(customer_ids)
    while not paused():
        if pending:
            cid = pending.pop()
            print(cid)
        LoopInvoice.query.filter_by(status="new").count()


def pop_of_a_bounded_list():
    todo = [1, 2, 3]
    while todo:
        cid = todo.pop()
        LoopCustomer.query.get(cid)


def dict_pop_by_key(settings: dict, keys):
    while settings.get("retry"):
        settings.pop("retry")
        LoopInvoice.query.filter_by(status="new").count()


def fetchone_of_an_unknown_cursor(connection):
    cursor = connection.cursor()
    while (row := cursor.fetchone()) is not None:
        LoopInvoice.query.filter_by(customer_id=row[0]).count()


def drain_outside_the_loop_test(customer_ids, running):
    queue = deque(customer_ids)
    while running():
        cid = queue.popleft()
        print(cid)
        LoopInvoice.query.filter_by(status="new").count()


def session_add_while_draining(session: Session, names):
    while names:
        session.add(LoopCustomer(name=names.pop()))
    session.commit()


# --- nested loops: reported once, on the query, with N·M in the message ---------------------------


def nested_groups(groups):
    for group in groups:
        for cid in group:
            LoopInvoice.query.filter_by(customer_id=cid).count()  # expect: ORM001 "LoopInvoice.query.filter_by(customer_id=cid).count()"


def nested_comprehension(groups):
    return [[LoopCustomer.query.get(cid) for cid in group] for group in groups]  # expect: ORM001 "LoopCustomer.query.get(cid)"


def nested_in_a_bounded_loop(customer_ids):
    for status in ("new", "paid"):
        for cid in customer_ids:
            LoopInvoice.query.filter_by(customer_id=cid, status=status).count()  # expect: ORM001 "LoopInvoice.query.filter_by(customer_id=cid, status=status).count()"


def nested_in_a_chunk_loop(customer_ids):
    for start in range(0, len(customer_ids), 500):
        for cid in customer_ids[start:start + 500]:
            print(cid)
        LoopInvoice.query.filter(LoopInvoice.customer_id.in_(customer_ids[start:start + 500])).all()


# --- map() and filter() are loops over their iterable ------------------------------------------


def invoices_of(cid):
    return LoopInvoice.query.filter_by(customer_id=cid).all()


def invoice_count(cid):
    return len(str(cid))


def map_a_lambda(customer_ids):
    return list(map(lambda cid: LoopInvoice.query.filter_by(customer_id=cid).count(), customer_ids))  # expect: ORM001 "LoopInvoice.query.filter_by(customer_id=cid).count()"


def filter_a_lambda(customer_ids):
    return list(filter(lambda cid: LoopCustomer.query.get(cid) is not None, customer_ids))  # expect: ORM001 "LoopCustomer.query.get(cid)"


def map_a_function(customer_ids):
    return list(map(invoices_of, customer_ids))  # expect: ORM001 "map(invoices_of, customer_ids)"


def map_a_query_terminal(customer_ids):
    return list(map(LoopCustomer.query.get, customer_ids))  # expect: ORM001 "map(LoopCustomer.query.get, customer_ids)"


def map_over_a_literal():
    return list(map(lambda cid: LoopCustomer.query.get(cid), [1, 2, 3]))


def map_a_function_without_queries(customer_ids):
    return list(map(invoice_count, customer_ids)) + list(map(str, customer_ids))


def map_over_chunks(customer_ids):
    chunks = [customer_ids[i:i + 500] for i in range(0, len(customer_ids), 500)]
    return list(map(lambda chunk: LoopInvoice.query.filter(LoopInvoice.customer_id.in_(chunk)).all(), chunks))


def lambda_defined_not_mapped(customer_ids):
    loader = lambda cid: LoopCustomer.query.get(cid)  # noqa: E731
    return loader, customer_ids


def map_of_other_libraries(customer_ids, cache: dict, urls):
    import requests

    http = requests.Session()
    return list(map(cache.get, customer_ids)), list(map(http.get, urls)), list(map(requests.get, urls))


# --- helpers that return a query the caller runs per item ---------------------------------------


def open_invoices(cid):
    return LoopInvoice.query.filter_by(customer_id=cid, status="new")


def invoices_statement(cid):
    return select(LoopInvoice).where(LoopInvoice.customer_id == cid)


def maybe_query(cid):
    if cid is None:
        return None
    return LoopInvoice.query.filter_by(customer_id=cid)


class LoopInvoiceRepository:
    def __init__(self, session: Session):
        self.session = session

    def for_customer(self, cid):
        return self.session.query(LoopInvoice).filter(LoopInvoice.customer_id == cid)

    @property
    def unpaid(self):
        return self.session.query(LoopInvoice).filter_by(status="new")


def helper_query_run_per_item(customer_ids):
    counts = {cid: open_invoices(cid).count() for cid in customer_ids}  # expect: ORM001 "open_invoices(cid).count()"
    for cid in customer_ids:
        query = open_invoices(cid)
        rows = query.order_by(LoopInvoice.id).all()  # expect: ORM001 "query.order_by(LoopInvoice.id).all()"
        print(rows)
    return counts


def helper_statement_run_per_item(session: Session, customer_ids):
    for cid in customer_ids:
        session.scalars(invoices_statement(cid)).all()  # expect: ORM001 "session.scalars(invoices_statement(cid))"


def helper_query_iterated_per_item(customer_ids):
    for cid in customer_ids:
        for invoice in open_invoices(cid):  # expect: ORM001 "open_invoices(cid)"
            print(invoice.status)


def repository_query_run_per_item(repo: LoopInvoiceRepository, customer_ids):
    for cid in customer_ids:
        repo.for_customer(cid).first()  # expect: ORM001 "repo.for_customer(cid).first()"
        repo.unpaid.count()  # expect: ORM001 "repo.unpaid.count()"


def helper_query_run_once(customer_ids):
    queries = [open_invoices(cid) for cid in customer_ids]
    total = open_invoices(customer_ids[0]).count()
    return queries, total


def helper_query_as_a_subquery(session: Session, customer_ids):
    for cid in customer_ids:
        session.query(LoopCustomer).filter(LoopCustomer.id.in_(open_invoices(cid).subquery()))


def helper_that_may_return_none(customer_ids):
    for cid in customer_ids:
        query = maybe_query(cid)
        if query is not None:
            query.count()


def helper_query_in_a_chunk_loop(customer_ids):
    for start in range(0, len(customer_ids), 500):
        open_invoices(customer_ids[start]).all()


# --- template helpers are functions like any other ----------------------------------------------

from flask import Flask, render_template  # noqa: E402

app = Flask(__name__)


@app.template_global()
def invoice_badges(customers):
    return [LoopInvoice.query.filter_by(customer_id=c.id, status="new").count() for c in customers]  # expect: ORM001 "LoopInvoice.query.filter_by(customer_id=c.id, status=\"new\").count()"


@app.template_filter("invoice_count")
def invoice_count_filter(customer):
    return LoopInvoice.query.filter_by(customer_id=customer.id).count()


def render_customers():
    customers = LoopCustomer.query.all()
    counts = {c.id: invoice_count_filter(c) for c in customers}  # expect: ORM001 "invoice_count_filter(c)"
    return render_template("customers.html", customers=customers, counts=counts)


def map_with_a_default_made_once(user_ids):
    # A lambda's defaults run once, when it is made: not per item.
    return list(map(lambda uid, admins=LoopCustomer.query.filter_by(name="admin").count(): (uid, admins), user_ids))


# --- queries in an `except` handler run when something failed, not per item: not reported --------


def recover_invoice(customer_id):
    try:
        return LoopInvoice.query.filter_by(customer_id=customer_id, status="open").one()
    except LookupError:
        return LoopInvoice.query.filter_by(customer_id=customer_id).first()  # the rare path


def fallback_per_customer(customer_ids: list[int], cache: dict):
    for cid in customer_ids:
        try:
            print(cache[cid])
        except KeyError:
            print(LoopInvoice.query.filter_by(customer_id=cid).count())


def recover_per_customer(customer_ids: list[int], cache: dict):
    for cid in customer_ids:
        try:
            print(cache[cid])
        except KeyError:
            print(recover_invoice_of_cache(cid))


def recover_invoice_of_cache(cid):
    try:
        return {}[cid]
    except KeyError:
        return LoopInvoice.query.filter_by(customer_id=cid).first()


DEFAULT_LABELS = ("new", "open")


def spread_of_a_constant():
    # A literal with a constant spread into it is as bounded as the constant: a few queries.
    return [LoopCustomer.query.filter_by(name=label).first() for label in (*DEFAULT_LABELS, "closed")]


def spread_of_a_parameter(labels):
    return [LoopCustomer.query.filter_by(name=label).first() for label in (*labels, "closed")]  # expect: ORM001 "LoopCustomer.query.filter_by(name=label).first()"


def wrapped_when_not_a_list(payload: dict):
    # One arm makes a list of one; the other keeps what came in, of unknown length: per item.
    ids = payload["ids"]
    if not isinstance(ids, list):
        ids = [ids]
    return [LoopCustomer.query.get(cid) for cid in ids]  # expect: ORM001 "LoopCustomer.query.get(cid)"


def wrapped_constant(flag: bool):
    ids = (1, 2)
    if flag:
        ids = [3]
    return [LoopCustomer.query.get(cid) for cid in ids]


class LeaseBase:
    def abort(self, reason):
        return reason

    def refill(self, ids):
        self.leases.extend(ids)


class LeasePolicy(LeaseBase):
    def before(self, limits):
        # The list was just emptied and nothing that names `self` between could fill it: the
        # loop never runs (a method of the class that never names `leases` cannot either).
        self.leases: list[int] = []
        for limit in limits:
            if limit:
                for lease in self.leases:
                    LoopCustomer.query.get(lease)
                self.abort(reason="zero")
        self.leases.append(1)

    def after(self, limits):
        self.leases = []
        self.refill(limits)  # fills it
        for lease in self.leases:
            LoopCustomer.query.get(lease)  # expect: ORM001 "LoopCustomer.query.get(lease)"

    def again(self, limits):
        self.leases = []
        for limit in limits:
            for lease in self.leases:  # the next turn sees what the previous one appended
                LoopCustomer.query.get(lease)  # expect: ORM001 "LoopCustomer.query.get(lease)"
            self.leases.append(limit)
