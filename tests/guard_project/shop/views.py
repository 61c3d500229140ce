from functools import partial

from django.db import transaction
from django.http import HttpResponse
from django_q.tasks import async_task

from shop.brokers import ListBroker
from shop.models import Order, Review
from shop.notifiers import NOTIFIERS
from shop.outbox import publish
from shop.tasks import notify_warehouse, send_welcome


def place_order(request):
    with transaction.atomic():  # block: place-order
        order = Order.objects.create(item="book")
        notify_warehouse.delay(order.pk)  # send: place-order
    return HttpResponse("ok")


def place_order_fixed(request):
    with transaction.atomic():
        order = Order.objects.create(item="book")
        transaction.on_commit(partial(notify_warehouse.delay, order.pk))
    return HttpResponse("ok")


def place_order_celery_fixed(request):
    with transaction.atomic():
        order = Order.objects.create(item="book")
        notify_warehouse.delay_on_commit(order.pk)
    return HttpResponse("ok")


@transaction.atomic  # block: review
def review(request):
    Review.objects.create(text="great")
    return HttpResponse("ok")


def notify(request, kind):
    with transaction.atomic():  # block: notify
        order = Order.objects.create(item="pen")
        NOTIFIERS[kind]().notify(order)
    return HttpResponse("ok")


def signup(request):  # block: signup
    send_welcome.delay("someone@example.com")  # send: signup
    return HttpResponse("ok")


def outbox(request):
    with transaction.atomic():  # block: outbox
        order = Order.objects.create(item="cup")
        publish("order-created", order.pk)  # send: outbox
    return HttpResponse("ok")


def djangoq_orm(request):
    with transaction.atomic():
        order = Order.objects.create(item="mug")
        async_task("shop.tasks.work", order.pk)
    return HttpResponse("ok")


def djangoq_list(request):
    with transaction.atomic():  # block: djangoq-list
        order = Order.objects.create(item="mug")
        async_task("shop.tasks.work", order.pk, broker=ListBroker())  # send: djangoq-list
    return HttpResponse("ok")
