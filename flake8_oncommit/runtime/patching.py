"""Reversible patches, applied when (and only if) the patched module is imported.

The guard must cost nothing when it is off and must not import Celery,
django-q and the rest itself: a library that is not installed is simply
never imported, and one that is imported later than the guard started is
patched the moment its module has run (:class:`ImportWatcher`, the
post-import hook pattern). Every change is recorded in :class:`Patches` so
that stopping the guard restores exactly what was there.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType
from typing import Any

_MISSING = object()

Wrap = Callable[[Callable[..., Any]], Callable[..., Any]]


class Patches:
    """An undo log of attribute replacements."""

    def __init__(self) -> None:
        self._undo: list[tuple[Any, str, object]] = []

    def replace(self, owner: Any, name: str, value: object) -> None:
        """Set ``owner.name`` (a class or module attribute), remembering the old value."""
        previous = vars(owner).get(name, _MISSING)
        self._undo.append((owner, name, previous))
        setattr(owner, name, value)

    def wrap_method(self, cls: type, name: str, wrap: Wrap) -> None:
        """Wrap ``cls.name`` as defined in ``cls`` itself (keeps classmethod/staticmethod)."""
        raw = vars(cls)[name]
        if isinstance(raw, (classmethod, staticmethod)):
            self.replace(cls, name, type(raw)(wrap(raw.__func__)))
        elif callable(raw):
            self.replace(cls, name, wrap(raw))

    def wrap_with_subclasses(self, base: type, name: str, wrap: Wrap) -> None:
        """Wrap ``name`` in ``base`` and in every subclass that overrides it, now and later."""
        for cls in (base, *_subclasses(base)):
            if name in vars(cls):
                self.wrap_method(cls, name, wrap)
        previous = vars(base).get("__init_subclass__")
        patches = self

        def __init_subclass__(subclass: Any, /, **kwargs: Any) -> None:
            if isinstance(previous, classmethod):
                previous.__get__(None, subclass)(**kwargs)
            else:
                parent: Any = super(base, subclass)
                parent.__init_subclass__(**kwargs)
            if name in vars(subclass):
                patches.wrap_method(subclass, name, wrap)

        self.replace(base, "__init_subclass__", classmethod(__init_subclass__))

    def undo(self) -> None:
        """Restore every attribute, newest first."""
        while self._undo:
            owner, name, previous = self._undo.pop()
            if previous is _MISSING:
                with contextlib.suppress(AttributeError):
                    delattr(owner, name)
            else:
                setattr(owner, name, previous)


def _subclasses(cls: type) -> Iterator[type]:
    seen: set[type] = set()
    stack: list[type] = list(type.__subclasses__(cls))
    while stack:
        sub = stack.pop()
        if sub in seen:
            continue
        seen.add(sub)
        yield sub
        stack.extend(type.__subclasses__(sub))


def resolve(module: ModuleType, attribute: str) -> tuple[Any, str] | None:
    """``("Class.method")`` -> ``(Class, "method")``; ``"func"`` -> ``(module, "func")``."""
    owner: Any = module
    *path, name = attribute.split(".")
    for part in path:
        owner = getattr(owner, part, None)
        if owner is None:
            return None
    if name not in vars(owner):
        return None
    return owner, name


class _NotifyingLoader(importlib.abc.Loader):
    """Runs the real loader, then tells the watcher; leaves no trace on the module."""

    def __init__(self, loader: Any, loaded: Callable[[ModuleType], None]) -> None:
        self._loader = loader
        self._loaded = loaded

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        create = getattr(self._loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        self._loaded(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


class ImportWatcher(importlib.abc.MetaPathFinder):
    """Calls back when a named module has been imported (at once if it already is)."""

    def __init__(self) -> None:
        self._callbacks: dict[str, list[Callable[[ModuleType], None]]] = {}
        self._lock = threading.RLock()
        self._installed = False

    def when_imported(self, name: str, callback: Callable[[ModuleType], None]) -> None:
        module = sys.modules.get(name)
        if module is not None:
            callback(module)
            return
        with self._lock:
            self._callbacks.setdefault(name, []).append(callback)
            if not self._installed:
                sys.meta_path.insert(0, self)
                self._installed = True

    def close(self) -> None:
        with self._lock:
            self._callbacks.clear()
            if self._installed:
                with contextlib.suppress(ValueError):
                    sys.meta_path.remove(self)
                self._installed = False

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self._callbacks:
            return None
        for finder in sys.meta_path:
            if finder is self:
                continue
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find is not None else None
            if isinstance(spec, importlib.machinery.ModuleSpec):
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _NotifyingLoader(spec.loader, self._loaded)
        return spec

    def _loaded(self, module: ModuleType) -> None:
        with self._lock:
            callbacks = self._callbacks.pop(module.__name__, [])
        for callback in callbacks:
            callback(module)
