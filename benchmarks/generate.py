"""Generate a benchmark corpus: a Django project shaped like a real one.

    python benchmarks/generate.py OUT_DIR [--files 2000] [--seed 1]

The proportions follow saleor (4,338 files, measured with this tool): about
2.5% of the modules open transactions and send tasks (the files the text
pre-check lets through on their own words), as many again open
transactions and call the project's helpers (let through when a project
index is at hand), and the rest (models, serializers, utilities, tests)
never mention a transaction. The project has what makes the index work:
packages, an atomic wrapper in ``shop/core/tracing.py`` that most services
use, task modules, helper modules that enqueue (OC105 across modules),
results of project functions assigned to names, a settings module and a
``manage.py`` root marker.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

TRACING = '''"""Tracing helpers."""
from contextlib import contextmanager

from django.db import transaction


@contextmanager
def traced_atomic(name="db"):
    with transaction.atomic():
        yield


def span(name):
    return name
'''

SETTINGS = '''"""Settings."""
DEBUG = False
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "shop"}}
INSTALLED_APPS = ["shop"]
'''

TASKS = '''"""Tasks of app {app}."""
from celery import shared_task


@shared_task
def send_confirmation(pk):
    return pk


@shared_task
def update_stock(pk):
    return pk


@shared_task
def notify(pk, kind="placed"):
    return pk, kind
'''

HELPERS = '''"""Helpers of app {app}: some send tasks, so calling them inside a block is OC105."""
from shop.app{app}.tasks import notify, send_confirmation


def notify_customer(order):
    notify.delay(order.pk, kind="updated")


def confirm(order):
    send_confirmation.delay(order.pk)


def create_order(cart):
    return cart.checkout()


def recalculate(order):
    order.total = sum(line.price for line in order.lines.all())
    return order
'''

SERVICE_HEAD = '''"""Order services."""
from functools import partial

from django.db import transaction

from shop.app{app}.helpers import confirm, create_order, notify_customer, recalculate
from shop.app{app}.models import Line, Order
from shop.app{app}.tasks import notify, send_confirmation, update_stock
from shop.core.tracing import traced_atomic


'''

SERVICE_FUNCS = [
    """@transaction.atomic
def place_order_{i}(cart):
    order = create_order(cart)
    for line in cart.lines.all():
        Line.objects.create(order=order, product=line.product, quantity=line.quantity)
    send_confirmation.delay(order.pk)
    return order

""",
    """def cancel_order_{i}(order):
    with traced_atomic():
        order.status = "cancelled"
        order.save(update_fields=["status"])
        transaction.on_commit(partial(update_stock.delay, order.pk))
    return order

""",
    """def refresh_{i}(orders):
    for order in orders:
        with transaction.atomic(using="default"):
            order = recalculate(order)
            order.save()
        notify.delay(order.pk, kind="refreshed")

""",
    """def update_{i}(order, data):
    with traced_atomic():
        order.note = data.get("note", "")
        order.save()
        notify_customer(order)

""",
]

#: Modules that open transactions and call helpers, with no enqueue word of their own.
CALLER_HEAD = '''"""Mutations."""
from shop.app{app}.helpers import confirm, create_order, recalculate
from shop.app{app}.models import Order
from shop.core.tracing import span, traced_atomic


'''

CALLER_FUNCS = [
    """def mutate_{i}(cart, info):
    order = create_order(cart)
    with traced_atomic():
        order = recalculate(order)
        order.save()
        confirm(order)
    return span(order)

""",
    """class OrderMutation{i}:
    @classmethod
    def perform(cls, order):
        with traced_atomic():
            order.save()
        return order

""",
]

PLAIN_HEAD = '''"""Helpers."""
import datetime
import decimal

from django.db import models

from shop.app{app}.helpers import recalculate


'''

PLAIN_FUNCS = [
    """def price_{i}(amount, rate):
    total = decimal.Decimal(amount) * decimal.Decimal(rate)
    return total.quantize(decimal.Decimal("0.01"))

""",
    """class Product{i}(models.Model):
    name = models.CharField(max_length=200)
    created = models.DateTimeField(default=datetime.datetime.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

""",
    """def chunks_{i}(items, size=100):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch

""",
    """def totals_{i}(orders):
    return [recalculate(order).total for order in orders]

""",
]

MODELS = '''"""Models of app {app}."""
from django.db import models


class Order(models.Model):
    status = models.CharField(max_length=20)
    note = models.TextField(blank=True)


class Line(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)
    quantity = models.IntegerField()
'''

#: Of every 100 generated modules: services (own enqueues), callers (helpers only).
SERVICES_PER_100 = 2.5
CALLERS_PER_100 = 2.5
APPS = 40


def module(rng: random.Random, head: str, funcs: list[str], app: int) -> str:
    parts = [head.format(app=app)]
    for index in range(rng.randint(5, 40)):
        parts.append(rng.choice(funcs).format(i=index))
    return "".join(parts).rstrip() + "\n"


def generate(out: Path, files: int, seed: int) -> None:
    rng = random.Random(seed)
    shop = out / "shop"
    (shop / "core").mkdir(parents=True, exist_ok=True)
    (out / "manage.py").write_text("import sys\n")
    (shop / "__init__.py").write_text("")
    (shop / "settings.py").write_text(SETTINGS)
    (shop / "core" / "__init__.py").write_text("")
    (shop / "core" / "tracing.py").write_text(TRACING)
    apps = min(APPS, max(1, files // 50))
    for app in range(apps):
        package = shop / f"app{app}"
        package.mkdir(exist_ok=True)
        (package / "__init__.py").write_text("")
        (package / "tasks.py").write_text(TASKS.format(app=app))
        (package / "helpers.py").write_text(HELPERS.format(app=app))
        (package / "models.py").write_text(MODELS.format(app=app))
    for index in range(max(0, files - 4 - 4 * apps)):
        app = index % apps
        draw = rng.random() * 100
        if draw < SERVICES_PER_100:
            name, text = f"services_{index}.py", module(rng, SERVICE_HEAD, SERVICE_FUNCS, app)
        elif draw < SERVICES_PER_100 + CALLERS_PER_100:
            name, text = f"mutations_{index}.py", module(rng, CALLER_HEAD, CALLER_FUNCS, app)
        else:
            name, text = f"module_{index}.py", module(rng, PLAIN_HEAD, PLAIN_FUNCS, app)
        (shop / f"app{app}" / name).write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    generate(args.out, args.files, args.seed)


if __name__ == "__main__":
    main()
