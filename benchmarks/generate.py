"""Generate a benchmark corpus: a Django-like tree where a realistic share of
modules use transactions and task queues.

    python benchmarks/generate.py OUT_DIR [--files 2000] [--seed 1]

About 10% of modules are "service" modules with atomic blocks, enqueues and
on_commit calls (the files the pre-check lets through); the rest are models,
serializers, utilities and tests that never mention transactions, as in real
projects (saleor: 103 of 4,338 files pass the pre-check).
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

SERVICE_HEAD = '''"""Order services."""
from functools import partial

from django.db import transaction

from shop.models import Order, Line
from shop.tasks import send_confirmation, update_stock, notify


'''

SERVICE_FUNCS = [
    """@transaction.atomic
def place_order_{i}(cart):
    order = Order.objects.create(customer=cart.customer, total=cart.total)
    for line in cart.lines.all():
        Line.objects.create(order=order, product=line.product, quantity=line.quantity)
    send_confirmation.delay(order.pk)
    return order

""",
    """def cancel_order_{i}(order):
    with transaction.atomic():
        order.status = "cancelled"
        order.save(update_fields=["status"])
        transaction.on_commit(partial(update_stock.delay, order.pk))
    return order

""",
    """def refresh_{i}(orders):
    for order in orders:
        with transaction.atomic(using="default"):
            order.refresh_totals()
            order.save()
        notify.delay(order.pk, kind="refreshed")

""",
    """class OrderService{i}:
    def __init__(self, user):
        self.user = user

    @transaction.atomic
    def archive(self, order):
        order.archived = True
        order.save()
        transaction.on_commit(lambda: notify.delay(order.pk))

    def summary(self, order):
        return {{"id": order.pk, "lines": [line.pk for line in order.lines.all()]}}

""",
]

PLAIN_HEAD = '''"""Helpers."""
import datetime
import decimal

from django.db import models


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
]


def module(rng: random.Random, service: bool) -> str:
    head, funcs = (SERVICE_HEAD, SERVICE_FUNCS) if service else (PLAIN_HEAD, PLAIN_FUNCS)
    parts = [head]
    for index in range(rng.randint(5, 40)):
        parts.append(rng.choice(funcs).format(i=index))
    return "".join(parts).rstrip() + "\n"


def generate(out: Path, files: int, seed: int) -> None:
    rng = random.Random(seed)
    for index in range(files):
        package = out / f"app{index % 40}"
        package.mkdir(parents=True, exist_ok=True)
        service = rng.random() < 0.10
        name = f"services_{index}.py" if service else f"module_{index}.py"
        (package / name).write_text(module(rng, service))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    generate(args.out, args.files, args.seed)


if __name__ == "__main__":
    main()
