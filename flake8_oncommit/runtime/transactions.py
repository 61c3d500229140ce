"""Which atomic blocks are open in this thread, who entered them, and which the test framework owns.

While the guard is active, ``django.db.transaction.Atomic.__enter__`` and
``__exit__`` are wrapped to keep, per thread, a stack of the blocks the code
opened, each with the frame that entered it. Blocks are told apart at entry:

- Django's ``TestCase`` opens its per-class and per-test blocks in
  ``TestCase._enter_atomics``, which sets ``atomic._from_testcase = True``
  before calling ``__enter__`` (Django 4.2 to 6.0; Django itself reads the
  flag to allow ``durable=True`` blocks inside tests). pytest-django runs
  the same ``TestCase`` machinery. Those blocks are not recorded at all.
  ``TransactionTestCase`` opens none.
- Under ``ATOMIC_REQUESTS`` Django wraps the view in
  ``transaction.atomic(using=alias)`` in ``BaseHandler.make_view_atomic``.
  The guard wraps that method so that every block entered between the
  handler calling the wrapped view and the view's own body starting is
  marked as the request's transaction (OC106, not OC101).
- Every other block is the code's own (OC101), including Django's internal
  ones (``get_or_create``, ``delete``, the admin's change view): a send from
  a signal receiver there races their commit just the same.

A record is dropped before the block's ``__exit__`` runs, so ``on_commit``
callbacks, which Django runs from the outermost ``__exit__`` after COMMIT,
see the block closed.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import itertools
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType, ModuleType
from typing import Any

from .patching import Patches


@dataclass
class OpenBlock:
    """One atomic block the code opened and has not left yet."""

    atomic: Any
    alias: str
    #: "code" (an atomic block in the code) or "request" (ATOMIC_REQUESTS)
    kind: str
    #: the frame that called ``__enter__`` (``contextlib``'s wrapper for a decorator)
    frame: FrameType
    #: that frame's line at the time (the frame goes on running inside the block)
    line: int
    #: for a request transaction: the view, and "METHOD /path"
    view: Any = None
    request: str = ""
    order: int = field(default=0)


class ThreadState(threading.local):
    """What the guard knows about the current thread."""

    def __init__(self) -> None:
        self.blocks: list[OpenBlock] = []
        #: inside a library's send method: nested sends are the same send
        self.sending = False
        #: between the request wrapper and the view body (request blocks open here)
        self.opening_request: tuple[Any, str] | None = None


thread_state = ThreadState()
_order = itertools.count()


def _is_async(view: Callable[..., Any]) -> bool:
    try:
        check: Callable[[Any], bool] = importlib.import_module("asgiref.sync").iscoroutinefunction
    except (ImportError, AttributeError):
        check = inspect.iscoroutinefunction
    return check(view)


class BlockTracker:
    """Installs the Atomic and request wrappers and answers "what is open?"."""

    def __init__(self) -> None:
        self._connections: Any = None
        self._default_alias = "default"

    def install_atomic(self, patches: Patches, transaction: ModuleType) -> None:
        """Wrap ``Atomic.__enter__``/``__exit__`` of ``django.db.transaction``."""
        atomic_class = transaction.Atomic
        self._default_alias = getattr(transaction, "DEFAULT_DB_ALIAS", "default")
        self._connections = importlib.import_module("django.db").connections
        default_alias = self._default_alias

        def wrap_enter(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def __enter__(atomic: Any) -> Any:
                state = thread_state
                request = state.opening_request
                result = original(atomic)
                if not getattr(atomic, "_from_testcase", False):
                    frame = sys._getframe(1)
                    state.blocks.append(
                        OpenBlock(
                            atomic=atomic,
                            alias=atomic.using or default_alias,
                            kind="code" if request is None else "request",
                            frame=frame,
                            line=frame.f_lineno,
                            view=None if request is None else request[0],
                            request="" if request is None else request[1],
                            order=next(_order),
                        )
                    )
                return result

            return __enter__

        def wrap_exit(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def __exit__(atomic: Any, exc_type: Any, exc_value: Any, traceback: Any) -> Any:
                blocks = thread_state.blocks
                for index in range(len(blocks) - 1, -1, -1):
                    if blocks[index].atomic is atomic:
                        del blocks[index]
                        break
                return original(atomic, exc_type, exc_value, traceback)

            return __exit__

        patches.wrap_method(atomic_class, "__enter__", wrap_enter)
        patches.wrap_method(atomic_class, "__exit__", wrap_exit)

    def install_request(self, patches: Patches, handlers_base: ModuleType) -> None:
        """Wrap ``BaseHandler.make_view_atomic`` to mark the request's transaction."""

        def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def make_view_atomic(handler: Any, view: Callable[..., Any]) -> Any:
                if _is_async(view):
                    return original(handler, view)

                @functools.wraps(view)
                def view_body(*args: Any, **kwargs: Any) -> Any:
                    thread_state.opening_request = None
                    return view(*args, **kwargs)

                wrapped = original(handler, view_body)
                if wrapped is view_body:
                    return view

                @functools.wraps(view)
                def request_transaction(request: Any, *args: Any, **kwargs: Any) -> Any:
                    state = thread_state
                    previous = state.opening_request
                    label = f"{getattr(request, 'method', '?')} {getattr(request, 'path', '?')}"
                    state.opening_request = (view, label)
                    try:
                        return wrapped(request, *args, **kwargs)
                    finally:
                        state.opening_request = previous

                return request_transaction

            return make_view_atomic

        patches.wrap_method(handlers_base.BaseHandler, "make_view_atomic", wrap)

    def open_blocks(self) -> list[OpenBlock]:
        """The code's and the request's blocks open in this thread, outermost first.

        Checked against Django's own ``connection.atomic_blocks``: a record
        whose block Django no longer has (the connection was closed or reset)
        is dropped.
        """
        blocks = thread_state.blocks
        if not blocks or self._connections is None:
            return []
        live: list[OpenBlock] = []
        for block in blocks:
            try:
                connection = self._connections[block.alias]
            except Exception:
                continue
            if any(open_atomic is block.atomic for open_atomic in connection.atomic_blocks):
                live.append(block)
        if len(live) != len(blocks):
            blocks[:] = live
        return live
