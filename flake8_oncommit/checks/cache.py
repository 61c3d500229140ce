"""OC109: Django's cache invalidated (or, with ``cache-writes``, written) inside a transaction.

Invalidating before the commit lets a concurrent request re-cache the old
row; on a rollback the cache holds what never happened. Writes are off by
default: on real code they were read-through fills and stamps written on
purpose.
"""

from __future__ import annotations

from ..effects import Effect
from .side_effect import SideEffectInBlock


class CacheInBlock(SideEffectInBlock):
    codes = ("OC109",)
    kinds = frozenset({Effect.CACHE, Effect.CACHE_WRITES})
