"""Another app's signal receiver: the view that saves a Review does not know it enqueues."""

from django.db.models.signals import post_save
from django.dispatch import receiver
from shop.models import Review
from shop.tasks import index_review


@receiver(post_save, sender=Review)
def index_new_review(sender, instance, created, **kwargs):
    if created:
        index_review.delay(instance.pk)  # send: receiver
