"""Django TestCase and TransactionTestCase: run by pytest-django and by manage.py test."""

from django.db import connection
from django.test import TestCase, TransactionTestCase

from shop import brokers
from shop.models import Order
from shop.outbox import SENT
from shop.tasks import notify_warehouse


class OrderViewTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        Order.objects.create(item="seed")
        notify_warehouse.delay(0)  # inside the TestCase class block only

    def test_place_order_races(self):
        self.client.post("/orders/")

    def test_place_order_fixed(self):
        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            self.client.post("/orders/fixed/")
        self.assertEqual(len(callbacks), 1)

    def test_place_order_celery_fixed(self):
        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            self.client.post("/orders/celery-fixed/")
        self.assertEqual(len(callbacks), 1)

    def test_review_receiver_races(self):
        self.client.post("/reviews/")

    def test_plain_notifier(self):
        self.client.post("/notify/plain/")

    def test_queue_notifier_races(self):
        self.client.post("/notify/queue/")

    def test_outbox_races(self):
        self.client.post("/outbox/")
        self.assertEqual(len(SENT), 1)

    def test_djangoq_orm_broker(self):
        self.client.post("/djangoq/orm/")

    def test_djangoq_list_broker_races(self):
        self.client.post("/djangoq/list/")
        self.assertEqual(len(brokers.SENT), 1)

    def test_send_inside_the_test_transaction_only(self):
        notify_warehouse.delay(1)

    def test_signup_without_atomic_requests(self):
        self.client.post("/signup/")


class AtomicRequestsTests(TestCase):
    def setUp(self):
        connection.settings_dict["ATOMIC_REQUESTS"] = True
        self.addCleanup(connection.settings_dict.__setitem__, "ATOMIC_REQUESTS", False)

    def test_signup_races(self):
        self.client.post("/signup/")

    def test_place_order_races(self):
        self.client.post("/orders/")


class TransactionalOrderTests(TransactionTestCase):
    def test_place_order_races(self):
        self.client.post("/orders/")

    def test_place_order_fixed(self):
        self.client.post("/orders/fixed/")

    def test_place_order_celery_fixed(self):
        self.client.post("/orders/celery-fixed/")
