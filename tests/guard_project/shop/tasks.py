from celery import shared_task


@shared_task
def notify_warehouse(order_id):
    return order_id


@shared_task
def send_welcome(email):
    return email


@shared_task
def index_review(review_id):
    return review_id


def work(order_id):
    """A django-q job."""
    return order_id
