"""Dramatiq: actors' ``send``/``send_with_options``, ``group(...).run()``, ``pipeline(...).run()``.

``.send`` is also a Django signal's method: it counts only on a receiver
known to be an actor (decorated in the module, a ``GenericActor`` subclass,
a task of another module per the project index), or on a name imported in
a file that imports Dramatiq and does not come from a signals module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Kind, QueueLibrary, Send, SendPoint, arg_of, class_names

# -- at run time: what a send handed over, for the guard's report


def _dramatiq_message(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Send:
    broker, message = args[0], arg_of(args, kwargs, 1, "message")
    actor = str(getattr(message, "actor_name", "?"))
    return Send(f"Dramatiq actor {actor!r}", class_names(broker) | {actor})


DRAMATIQ = QueueLibrary(
    kind=Kind.DRAMATIQ,
    packages=("dramatiq", "django_dramatiq"),
    words=("send", "actor", ".run("),
    task_decorators=frozenset({"dramatiq.actor", "dramatiq.actor.actor"}),
    loose_task_decorators=frozenset({"actor"}),
    task_base_classes=frozenset({"dramatiq.GenericActor", "dramatiq.generic.GenericActor"}),
    task_send_methods=frozenset({"send", "send_with_options"}),
    runnables=frozenset(
        {"dramatiq.group", "dramatiq.pipeline", "dramatiq.composition.group", "dramatiq.composition.pipeline"}
    ),
    send_points=(
        # actor.send(), send_with_options(), pipelines and groups all call
        # broker.enqueue(); every broker overrides it.
        SendPoint("dramatiq.broker", "Broker.enqueue", _dramatiq_message, subclasses=True),
    ),
)
