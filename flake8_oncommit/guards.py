"""Flags passed down: the parameter that must be truthy for a function's enqueues to run.

``def save(self, asynchronous=False): self.update_mongo(asynchronous)`` and
``def update_mongo(self, asynchronous=True): if asynchronous: task.delay()``:
a call to ``save()`` that does not turn ``asynchronous`` on sends nothing.

A function's *guard* (:class:`Guard`) is the one parameter every enqueue
reachable from it waits on; :data:`OPEN` when one is reached unconditionally
(or through two different flags); None when none is reachable. A call site is
read into a :class:`CallShape` (what it passes, which of its caller's flags it
waits on), and :func:`reach` says whether the call can reach an enqueue
through a callee's guard (reading code into them: :mod:`.guard_reading`; this
module imports no parser, the project index uses it). Precision first: what cannot be read (a computed
value, ``*args``) counts as on, as it did before guards were read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: What a call passes for a parameter: a falsy literal, a parameter of the caller, anything else.
OFF = "0"
UNKNOWN = "?"
#: followed by the caller's parameter name
PARAMETER = "p:"


@dataclass(frozen=True)
class Guard:
    """The parameter that must be truthy; its position among the arguments a call passes
    (``self``/``cls`` not counted; None: keyword-only), and whether its default is falsy."""

    parameter: str
    position: int | None = None
    off_by_default: bool = False


#: Reached without a flag (or through two different ones).
OPEN = Guard("")


@dataclass(frozen=True)
class CallShape:
    """What a call passes, as far as a guard is concerned."""

    #: the caller's parameters the call waits on (``if notify: helper()``)
    conditions: frozenset[str] = frozenset()
    #: each positional argument: :data:`OFF`, ``p:<caller parameter>`` or :data:`UNKNOWN`
    positional: tuple[str, ...] = ()
    keywords: tuple[tuple[str, str], ...] = ()
    #: ``*args`` / ``**kwargs``: what they hold is unknown
    star: bool = False
    #: made through a class name (``Service.run(obj, ...)``): positions may be off by one
    shifted: bool = False

    def encode(self) -> str:
        """A compact text for a summary: ``if:notify 0 p:flag k:send=0 *``."""
        parts = [f"if:{name}" for name in sorted(self.conditions)]
        parts += [f"@{value}" for value in self.positional]
        parts += [f"k:{name}={value}" for name, value in self.keywords]
        parts += ["*"] if self.star else []
        parts += ["~"] if self.shifted else []
        return " ".join(parts)

    @classmethod
    def decode(cls, text: str) -> CallShape:
        conditions: list[str] = []
        positional: list[str] = []
        keywords: list[tuple[str, str]] = []
        star = shifted = False
        for part in text.split():
            if part.startswith("if:"):
                conditions.append(part[3:])
            elif part.startswith("@"):
                positional.append(part[1:])
            elif part.startswith("k:"):
                name, _, value = part[2:].partition("=")
                keywords.append((name, value))
            elif part == "*":
                star = True
            elif part == "~":
                shifted = True
        return cls(frozenset(conditions), tuple(positional), tuple(keywords), star, shifted)


#: ``Model.objects.create()`` runs ``obj.save(force_insert=True, using=...)``.
IMPLICIT_SAVE = CallShape(keywords=(("force_insert", UNKNOWN), ("using", UNKNOWN)))
#: ``update_or_create()`` also runs ``obj.save(using=..., update_fields=...)`` (Django 4.2+).
IMPLICIT_UPDATE_SAVE = CallShape(
    keywords=(("force_insert", UNKNOWN), ("using", UNKNOWN), ("update_fields", UNKNOWN))
)


def reach(shape: CallShape, guard: Guard | None) -> frozenset[str] | None:
    """The caller's flags a call waits on to reach an enqueue through a callee guarded by
    ``guard`` (empty: none); None when it cannot reach one (no enqueue, or the flag is off)."""
    if guard is None:
        return None
    if guard is OPEN or not guard.parameter:
        return shape.conditions
    value = dict(shape.keywords).get(guard.parameter)
    if value is None:
        value = UNKNOWN if shape.star else _positional(shape, guard)
    if value == OFF:
        return None
    if value.startswith(PARAMETER):
        return shape.conditions | {value[len(PARAMETER) :]}
    return shape.conditions


def _positional(shape: CallShape, guard: Guard) -> str:
    """What a call passes for the guard's parameter by position, or its default when it passes
    nothing there. Through a class name (``shifted``) the first argument may be the instance:
    the value must be the same read either way."""
    default = OFF if guard.off_by_default else UNKNOWN
    if guard.position is None:
        return default
    places = (guard.position, guard.position + 1) if shape.shifted else (guard.position,)
    values = {shape.positional[place] if place < len(shape.positional) else default for place in places}
    return values.pop() if len(values) == 1 else UNKNOWN


def combine(
    contributions: Iterable[frozenset[str]], parameters: Sequence[str], off_by_default: Iterable[str]
) -> Guard | None:
    """A function's guard from what each of its ways to an enqueue waits on."""
    common: frozenset[str] | None = None
    for flags in contributions:
        common = flags if common is None else common & flags
        if not common:
            return OPEN
    if common is None:
        return None
    name = min(common)
    position = parameters.index(name) if name in parameters else None
    return Guard(name, position, name in set(off_by_default))


def recursion(
    found: list[frozenset[str]],
    recursive: Iterable[CallShape],
    parameters: Sequence[str],
    off_by_default: Iterable[str],
) -> Guard | None:
    """A function's guard when it also calls itself (``recursive``): its guard without those
    calls, if they add nothing to it (a walk of nested data passing the flag on, or sending
    nothing); :data:`OPEN` when they would change it (not iterated: precision first)."""
    off = tuple(off_by_default)
    guard = combine(found, parameters, off)
    extra = [reached for shape in recursive if (reached := reach(shape, guard)) is not None]
    if extra and combine([*found, *extra], parameters, off) != guard:
        return OPEN
    return guard
