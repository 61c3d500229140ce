"""Run without --oncommit-guard: nothing is patched."""

from celery.app.task import Task
from django.db import transaction


def test_nothing_is_patched():
    assert not hasattr(transaction.Atomic.__enter__, "__wrapped__")
    assert not hasattr(Task.apply_async, "__wrapped__")
