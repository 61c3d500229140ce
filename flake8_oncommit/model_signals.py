"""Which Django model signals an ORM call sends, and which project receivers they reach.

``Order.objects.create(...)``, ``order.save()``, ``get_or_create`` and
``update_or_create`` send ``pre_save`` / ``post_save`` for ``Order``;
``order.delete()`` and ``Order.objects.filter(...).delete()`` send
``pre_delete`` / ``post_delete``; ``order.tags.add(...)`` (``remove``,
``set``, ``clear``) sends ``m2m_changed`` for ``Order.tags.through``.
``bulk_create``, ``bulk_update`` and ``QuerySet.update()`` send none.

A receiver is recorded where it is registered (``@receiver(post_save,
sender=Order)``, ``post_save.connect(handler, sender=Order)``, in any
module of the project) as a signal key, a sender key and the handler's
absolute name; the project index gathers them into one table (see
:meth:`.index.ProjectIndex.receivers`).

Keys: a Django model signal is ``django:post_save``; a project's own
``Signal()`` is its absolute name (``shop.signals.order_paid``). A sender is
the class's absolute name (``shop.models.Order``, ``shop.models.Order.tags.through``),
``label:shop.Order`` when written as the ``"app_label.Model"`` string, or
empty when the receiver takes every sender.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from .names import Binding, LocalClass, LocalInstance, Marker, ProjectCall, attribute_chain
from .resolution import argument, string_value

if TYPE_CHECKING:
    from .resolution import Resolver

#: Django's model signals, by what sends them.
SAVE_SIGNALS = ("pre_save", "post_save")
DELETE_SIGNALS = ("pre_delete", "post_delete")
M2M_SIGNALS = ("m2m_changed",)
MODEL_SIGNALS = frozenset((*SAVE_SIGNALS, *DELETE_SIGNALS, *M2M_SIGNALS))

#: Manager methods that save one instance (and send the save signals, and run ``save()``).
SAVING_METHODS = frozenset({"create", "get_or_create", "update_or_create"})
#: Manager methods whose result is one instance of the model.
INSTANCE_METHODS = frozenset({"create", "get"})
#: The managers every model has under these names (a custom manager's name is unknown).
MANAGERS = frozenset({"objects", "_default_manager", "_base_manager"})
#: QuerySet methods that keep the model: ``Order.objects.filter(...).delete()``.
QUERYSET_METHODS = frozenset(
    {
        "all",
        "filter",
        "exclude",
        "using",
        "select_related",
        "prefetch_related",
        "select_for_update",
        "order_by",
        "distinct",
        "only",
        "defer",
    }
)
M2M_METHODS = frozenset({"add", "remove", "set", "clear"})
_GET_OR_404 = frozenset({"django.shortcuts.get_object_or_404"})


def signal_key(rec: Resolver, expr: cst.BaseExpression) -> str | None:
    """``django:post_save`` or ``shop.signals.order_paid`` for a signal expression (None: unknown)."""
    found = rec.resolve(expr)
    if isinstance(found, str):
        last = found.rsplit(".", 1)[-1]
        if found.startswith("django.") and last in MODEL_SIGNALS:
            return f"django:{last}"
        return found if "." in found and not found.startswith(".") else None
    if (
        isinstance(found, Marker)
        and found.kind == "signal"
        and isinstance(expr, cst.Name)
        and rec.module_name
        and rec.names.scopes[0].bindings.get(expr.value) is found
    ):
        return f"{rec.module_name}.{expr.value}"
    return None


def class_key(rec: Resolver, expr: cst.BaseExpression) -> str | None:
    """``shop.models.Order`` (``...Order.tags.through``) for a class expression; ``label:shop.Order``
    for the ``"shop.Order"`` string (None: unknown)."""
    text = string_value(expr)
    if text is not None:
        return f"label:{text}" if text.count(".") == 1 else None
    chain = attribute_chain(expr)
    if chain is None:
        return None
    name, attributes = chain
    found = rec.resolve(name)
    if (
        isinstance(found, LocalClass)
        and rec.module_name
        and rec.names.scopes[0].bindings.get(name.value) is found
    ):
        root = f"{rec.module_name}.{name.value}"
    elif isinstance(found, str) and "." in found and not found.startswith("."):
        root = found
    else:
        return None
    return ".".join([root, *attributes])


def instance_key(rec: Resolver, expr: cst.BaseExpression) -> str | None:
    """The model class ``expr`` is an instance of, when this function's code says so
    (``order = Order(...)``, ``order = Order.objects.create(...)`` / ``.get(...)``)."""
    if not isinstance(expr, cst.Name):
        return None
    found = rec.resolve(expr)
    if isinstance(found, LocalInstance):
        name = found.cls.name.value
        if rec.module_name and isinstance(rec.names.scopes[0].bindings.get(name), LocalClass):
            return f"{rec.module_name}.{name}"
        return None
    if isinstance(found, ProjectCall) and "." in found.qualified:
        return found.qualified
    return None


def manager_model(call: cst.Call) -> tuple[cst.BaseExpression, str] | None:
    """``(Order, "create")`` for ``Order.objects.create(...)`` (a default manager's method)."""
    func = call.func
    if not isinstance(func, cst.Attribute) or not isinstance(func.value, cst.Attribute):
        return None
    manager = func.value
    if manager.attr.value not in MANAGERS:
        return None
    return manager.value, func.attr.value


def instance_binding(rec: Resolver, call: cst.Call) -> Binding | None:
    """What ``x = Order.objects.create(...)`` / ``.get(...)`` / ``get_object_or_404(Order, ...)``
    makes ``x``: an instance of ``Order``."""
    found = manager_model(call)
    if found is not None and found[1] in INSTANCE_METHODS:
        model = found[0]
    elif call.args and rec.qualified(call.func) in _GET_OR_404 and call.args[0].keyword is None:
        model = call.args[0].value  # ``get_object_or_404(Order, pk=pk)``
        if not isinstance(model, (cst.Name, cst.Attribute)):
            return None
    else:
        return None
    resolved = rec.resolve(model)
    if isinstance(resolved, LocalClass):
        return LocalInstance(resolved.node)
    key = class_key(rec, model)
    if key is None or key.startswith("label:"):
        return None
    return ProjectCall(key)


@dataclass(frozen=True)
class ModelCall:
    """A call that sends a model's signals: ``order.save()`` sends ``post_save`` for ``shop.models.Order``."""

    call: cst.Call
    #: the sender's key (see the module docstring)
    sender: str
    #: the signals it sends, by name (``post_save``...)
    signals: tuple[str, ...]
    #: ``Order.objects.create()`` / ``order.save()`` runs the model's ``save()`` (``delete()``): its name
    method: str | None = None


def model_call(rec: Resolver, call: cst.Call) -> ModelCall | None:
    """What ``call`` sends, when it is an ORM call on a model whose class the code states."""
    func = call.func
    if not isinstance(func, cst.Attribute):
        return None
    name = func.attr.value
    found = manager_model(call)
    if found is not None and name in SAVING_METHODS:
        sender = class_key(rec, found[0])
        return ModelCall(call, sender, SAVE_SIGNALS, "save") if sender is not None else None
    if name == "delete":
        model = _queryset_model(func.value)
        if model is not None:
            sender = class_key(rec, model)
            return ModelCall(call, sender, DELETE_SIGNALS) if sender is not None else None
    if name in ("save", "delete"):
        sender = instance_key(rec, func.value)
        if sender is None:
            return None
        return ModelCall(call, sender, SAVE_SIGNALS if name == "save" else DELETE_SIGNALS, name)
    if name in M2M_METHODS and isinstance(func.value, cst.Attribute):
        owner = instance_key(rec, func.value.value)
        if owner is not None:
            return ModelCall(call, f"{owner}.{func.value.attr.value}.through", M2M_SIGNALS)
    return None


def _queryset_model(expr: cst.BaseExpression) -> cst.BaseExpression | None:
    """``Order`` for ``Order.objects.filter(...)`` (through QuerySet methods that keep the model)."""
    for _ in range(8):
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
            if expr.func.attr.value not in QUERYSET_METHODS:
                return None
            expr = expr.func.value
            continue
        if isinstance(expr, cst.Attribute) and expr.attr.value in MANAGERS:
            return expr.value
        return None
    return None


def receiver_registrations(rec: Resolver, call: cst.Call) -> list[tuple[str, str]] | None:
    """``[(signal key, sender key)]`` a ``@receiver(...)`` decorator registers (None: not one)."""
    name = rec.qualified(call.func)
    if name is None or name.rsplit(".", 1)[-1] != "receiver" or not call.args:
        return None
    sender = _sender(rec, call, position=None)
    if sender is None:
        return []
    signals = call.args[0].value
    elements = signals.elements if isinstance(signals, (cst.List, cst.Tuple)) else [signals]
    found = []
    for element in elements:
        value = element.value if isinstance(element, cst.BaseElement) else element
        key = signal_key(rec, value)
        if key is not None:
            found.append((key, sender))
    return found


def connect_registration(rec: Resolver, call: cst.Call) -> tuple[str, str, cst.BaseExpression] | None:
    """``(signal key, sender key, handler)`` for ``post_save.connect(handler, sender=Order)``."""
    func = call.func
    if not isinstance(func, cst.Attribute) or func.attr.value != "connect":
        return None
    handler = argument(call, "receiver", 0)
    if handler is None:
        return None
    key = signal_key(rec, func.value)
    if key is None:
        return None
    sender = _sender(rec, call, position=1)
    if sender is None:
        return None
    return key, sender, handler.value


def send_sender(rec: Resolver, call: cst.Call) -> str | None:
    """The sender key a ``signal.send(sender=...)`` names ("" when none; None: unknown)."""
    return _sender(rec, call, position=0)


def _sender(rec: Resolver, call: cst.Call, position: int | None) -> str | None:
    """The ``sender=`` argument's key: "" when there is none, None when it is not understood."""
    if position is not None:
        arg = argument(call, "sender", position)
    else:
        arg = next(
            (arg for arg in call.args if arg.keyword is not None and arg.keyword.value == "sender"), None
        )
    if arg is None:
        return ""
    if isinstance(arg.value, cst.Name) and arg.value.value == "None":
        return ""
    return class_key(rec, arg.value)


def sender_matches(receiver_sender: str, model: str) -> bool:
    """Whether a receiver registered for ``receiver_sender`` receives what ``model`` sends."""
    if receiver_sender == model:
        return True
    if not receiver_sender.startswith("label:"):
        return False
    label, _, class_name = receiver_sender[len("label:") :].partition(".")
    parts = model.split(".")
    if len(parts) < 2 or parts[-1] != class_name:
        return False
    modules = parts[:-1]
    # ``shop.models.Order`` / ``shop.models.orders.Order``: the app is the package holding ``models``.
    app = modules[modules.index("models") - 1] if "models" in modules[1:] else modules[-1]
    return app == label
