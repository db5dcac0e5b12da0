"""ORM001 examples, Django. A line marked `# expect:` must be reported with that code on that
exact expression; no other line may be. This file is analysed, never imported."""
import datetime
import requests
from django.core.cache import cache
from django.db import models
from django.shortcuts import get_object_or_404

REGIONS = ("north", "south")
ONE_DAY = datetime.timedelta(days=1)


class SaleQuerySet(models.QuerySet):
    def recent(self):
        return self.filter(day__gte="2024-01-01").order_by("-day")

    def total_for(self, shop_id):
        return self.filter(shop_id=shop_id).count()


class Shop(models.Model):
    name = models.CharField(max_length=80)
    region = models.CharField(max_length=10)


class Product(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="products")
    name = models.CharField(max_length=80)

    @property
    def recent_sales(self):
        return self.sale_set.filter(day__gte="2026-01-01")  # a queryset: whoever reads it runs it


class Sale(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    product = models.ForeignKey(Product, on_delete=models.CASCADE)
    day = models.DateField()

    objects = SaleQuerySet.as_manager()


class Registry:
    objects = {}


def sales_of(shop):
    return Sale.objects.filter(shop=shop)


def count_sales(shop_id):
    return Sale.objects.filter(shop_id=shop_id).count()


# --- must be reported -------------------------------------------------------------------------


def per_id(shop_ids):
    for sid in shop_ids:
        shop = Shop.objects.get(pk=sid)  # expect: ORM001 "Shop.objects.get(pk=sid)"
        print(shop.name)


def per_row_iterated():
    for shop in Shop.objects.all():
        for product in Product.objects.filter(shop_id=shop.id):  # expect: ORM001 "Product.objects.filter(shop_id=shop.id)"
            print(product.name)


def per_row_listed(shops: list[Shop]):
    for shop in shops:
        products = list(Product.objects.filter(shop=shop).order_by("name"))  # expect: ORM001 "list(Product.objects.filter(shop=shop).order_by(\"name\"))"
        first = Product.objects.filter(shop=shop).first()  # expect: ORM001 "Product.objects.filter(shop=shop).first()"
        print(products, first)


def comprehension(shop_ids):
    return {sid: Sale.objects.filter(shop_id=sid).exists() for sid in shop_ids}  # expect: ORM001 "Sale.objects.filter(shop_id=sid).exists()"


def per_item_count():
    for shop in Shop.objects.all():
        print(shop.products.count())  # expect: ORM001 "shop.products.count()"


def related_manager_filters_always_query():
    for shop in Shop.objects.prefetch_related("products"):
        print(shop.products.filter(name__startswith="A"))  # lazy: not run here
        print(shop.products.get(name="x"))  # expect: ORM001 "shop.products.get(name=\"x\")"
        print(list(shop.products.filter(name="y")))  # expect: ORM001 "list(shop.products.filter(name=\"y\"))"


def evaluations(shop_ids):
    for sid in shop_ids:
        if Sale.objects.filter(shop_id=sid):  # expect: ORM001 "Sale.objects.filter(shop_id=sid)"
            print(len(Sale.objects.filter(shop_id=sid)))  # expect: ORM001 "len(Sale.objects.filter(shop_id=sid))"
        print(Sale.objects.filter(shop_id=sid)[0])  # expect: ORM001 "Sale.objects.filter(shop_id=sid)[0]"
        get_object_or_404(Shop, pk=sid)  # expect: ORM001 "get_object_or_404(Shop, pk=sid)"


def custom_manager_methods(shop_ids):
    for sid in shop_ids:
        for sale in Sale.objects.recent().filter(shop_id=sid):  # expect: ORM001 "Sale.objects.recent().filter(shop_id=sid)"
            print(sale.day)
        print(Sale.objects.total_for(sid))  # expect: ORM001 "Sale.objects.total_for(sid)"


def through_helpers():
    for shop in Shop.objects.all():
        print(count_sales(shop.id))  # expect: ORM001 "count_sales(shop.id)"
        for sale in sales_of(shop):  # expect: ORM001 "sales_of(shop)"
            print(sale.day)


def queryset_rebuilt_per_item(shop_ids):
    for sid in shop_ids:
        everything = Shop.objects.all()
        print(list(everything))  # expect: ORM001 "list(everything)"


def property_returning_a_queryset_evaluated_per_row():
    for product in Product.objects.all():
        print(list(product.recent_sales))  # expect: ORM001 "list(product.recent_sales)"


def row_kept_after_a_fallback_handler(shop_ids):
    try:
        shop = Shop.objects.filter(pk__in=shop_ids).latest("id")
    except Shop.DoesNotExist:
        shop = None  # the no-row case: the code tests for it below
    if shop:
        for product in Product.objects.all():
            print(product, shop.sale_set.filter(product=product).count())  # expect: ORM001 "shop.sale_set.filter(product=product).count()"


# --- must not be reported ---------------------------------------------------------------------


def literal_loops():
    for region in REGIONS:
        Shop.objects.filter(region=region).count()
    for i in range(5):
        Shop.objects.filter(pk=i).first()


def chunked(shop_ids):
    for start in range(0, len(shop_ids), 500):
        chunk = shop_ids[start:start + 500]
        list(Sale.objects.filter(shop_id__in=chunk))


def writes_in_a_loop(names):
    for name in names:
        Shop.objects.create(name=name, region="north")
    for shop in Shop.objects.all():
        shop.name = shop.name.strip()
        shop.save()


def lazy_querysets_are_not_run(shop_ids):
    for sid in shop_ids:
        pending = Sale.objects.filter(shop_id=sid).order_by("day")[:10]
        print(pending.query)


def queryset_in_a_variable_is_cached(shop_ids):
    shops = Shop.objects.filter(region="north")
    for sid in shop_ids:
        for shop in shops:
            print(sid, shop.name)
        print(len(shops), bool(shops))


def subquery(shop_ids):
    for sid in shop_ids[:10]:
        list(Sale.objects.filter(product__in=Product.objects.filter(shop_id=sid)))


def prefetched_counts():
    for shop in Shop.objects.prefetch_related("products"):
        print(shop.products.count(), shop.products.exists(), list(shop.products.all()))


def not_django(urls, keys, df, expressions):
    http = requests.Session()
    for url in urls:
        http.get(url)
    lookup = {}
    for key in keys:
        lookup.get(key)
        cache.get(key)
        Registry.objects.get(key)
    for expression in expressions:
        df.query(expression)


def returns_on_first(shop_ids):
    for sid in shop_ids:
        if sid:
            return Shop.objects.get(pk=sid)
    return None


def first_of_an_evaluated_queryset():
    for shop in Shop.objects.all():
        newest = shop.products.order_by("-id")[:1]
        if newest:  # expect: ORM001 "newest"
            print(newest[0].id)  # the cache `if newest:` filled: no query
        latest = shop.products.order_by("-id")
        print(latest[0])  # expect: ORM001 "latest[0]"


def over_model_options(shop: Shop, wrapper):
    # `_meta` collections are as large as the code (the model's fields), not the data.
    for field in Product._meta.fields:
        Shop.objects.filter(name=field.name).exists()
    for field in shop._meta.get_fields():
        Shop.objects.filter(name=field.name).exists()
    for parent, link in wrapper.model._meta.concrete_model._meta.parents.items():
        Shop.objects.get(pk=link)


class PluginsManager:
    """Loads what it needs once per manager (and per key): a memo on its own state."""

    def __init__(self):
        self.loaded_shops = set()
        self.loaded_global = False

    def ensure_shop(self, name):
        if name is not None and name not in self.loaded_shops:
            list(Shop.objects.filter(name=name))
            self.loaded_shops.add(name)

    def ensure_global(self):
        if not self.loaded_global:
            list(Shop.objects.all())
            self.loaded_global = True

    def price(self, name):
        self.ensure_shop(name)
        self.ensure_global()
        return 1


def make_plugins_manager():
    return PluginsManager()


def prices_through_a_memoizing_manager(names):
    manager = make_plugins_manager()
    return [manager.price(name) for name in names]


def products_per_shop_memo(shop_ids):
    # A memo filled in the block it guards: once per distinct key, as a cache read-through.
    by_shop = {}
    for sid in shop_ids:
        if sid not in by_shop:
            by_shop[sid] = list(Product.objects.filter(shop_id=sid))
    return by_shop


def products_per_shop_checked_elsewhere(shop_ids, other):
    by_shop = {}
    for sid in shop_ids:
        if sid not in other:  # not the mapping the block fills: per item
            by_shop[sid] = list(Product.objects.filter(shop_id=sid))  # expect: ORM001 "list(Product.objects.filter(shop_id=sid))"
    return by_shop


def shop_products_once(sid, by_shop=None):
    # A memo this call makes itself lasts one call: per call, the query runs.
    seen = {}
    if sid not in seen:
        seen[sid] = list(Product.objects.filter(shop_id=sid))
    return seen[sid]


def products_for_each_shop(shop_ids):
    return [shop_products_once(sid) for sid in shop_ids]  # expect: ORM001 "shop_products_once(sid)"


# A query built per item and kept in a list runs when the list's items are iterated; a proxy
# model's rows have their concrete model's reverse accessors.
class Deck(models.Model):
    title = models.CharField(max_length=80)


class DeckView(Deck):
    class Meta:
        proxy = True


class Slide(models.Model):
    deck = models.ForeignKey(Deck, on_delete=models.CASCADE)
    position = models.IntegerField()


def slides_of_each_deck():
    per_deck = [deck.slide_set.order_by("position") for deck in DeckView.objects.all()]
    return [slide for slides in per_deck for slide in slides]  # expect: ORM001 "slides"


def slides_kept_unrun():
    per_deck = [deck.slide_set.order_by("position") for deck in DeckView.objects.all()]
    return len(per_deck)


def slides_of_three_decks():
    per_deck = [deck.slide_set.order_by("position") for deck in DeckView.objects.all()[:3]]
    return [slide for slides in per_deck for slide in slides]


# A `while` stepping a date up to a row's column runs once per step: as many as the data says.
class Season(models.Model):
    start = models.DateField()
    end = models.DateField()

    def match_days(self):
        days = []
        day = self.start
        while day <= self.end:
            if Fixture.objects.filter(season=self, date=day).exists():  # expect: ORM001 "Fixture.objects.filter(season=self, date=day).exists()"
                days.append(day)
            day += ONE_DAY
        return days

    def first_weeks(self):
        weeks, week = [], 0
        while week < 3:  # a bound written in the code
            weeks.append(Fixture.objects.filter(season=self, week=week).count())
            week += 1
        return weeks

    def days_until(self, last):
        found, day = [], self.start
        while day <= last:  # a bound the caller gives
            found.append(Fixture.objects.filter(season=self, date=day).exists())
            day += ONE_DAY
        return found


class Fixture(models.Model):
    season = models.ForeignKey(Season, on_delete=models.CASCADE)
    date = models.DateField()
    week = models.IntegerField()
