"""Small modules several test files share."""

from __future__ import annotations

#: The smallest realistic finding: one fixable OC101 on line 9.
BAD = """\
from django.db import transaction

from shop.tasks import send_confirmation


@transaction.atomic
def place_order(order):
    order.save()
    send_confirmation.delay(order.pk)
"""
