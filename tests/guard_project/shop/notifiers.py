"""Notifiers chosen at run time: the static check cannot know which one runs."""

from shop.tasks import notify_warehouse


class Notifier:
    def notify(self, order):
        pass


class QueueNotifier(Notifier):
    def notify(self, order):
        notify_warehouse.delay(order.pk)  # send: override


NOTIFIERS = {"plain": Notifier, "queue": QueueNotifier}
