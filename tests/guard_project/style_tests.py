"""pytest-django style: the db marks open the same TestCase blocks."""

import pytest
from shop.tasks import notify_warehouse


@pytest.mark.django_db
def test_place_order_races(client):
    client.post("/orders/")


@pytest.mark.django_db
def test_review_receiver_races(client):
    client.post("/reviews/")


@pytest.mark.django_db
def test_send_in_the_test_transaction_only():
    notify_warehouse.delay(2)


@pytest.mark.django_db(transaction=True)
def test_place_order_fixed(client):
    client.post("/orders/fixed/")
