"""OC105: helpers of this module that enqueue, called inside an atomic block.

While the walk goes through every function body it notes, per function, the
first enqueue it makes (not deferred) and the module's own functions it
calls: plain functions, methods through ``self``, and the receivers of the
module's signals. After the walk, a call made inside a block to a function
from which an enqueue is reachable is a finding whose message names the
chain. Functions whose own body already runs inside a block are skipped:
their enqueues are reported where they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst


@dataclass
class CallGraph:
    """Who enqueues and who calls whom, among one module's functions."""

    #: function id -> description of its first direct enqueue
    direct: dict[int, str] = field(default_factory=dict)
    #: function id -> functions it calls
    edges: dict[int, list[cst.FunctionDef]] = field(default_factory=dict)
    #: functions whose body runs inside an atomic block (reported directly)
    covered: set[int] = field(default_factory=set)
    #: signal (as written) -> receiver functions
    receivers: dict[str, list[cst.FunctionDef]] = field(default_factory=dict)
    #: for the project index: per function, the first enqueue and the calls
    #: made outside any atomic block (inside one, they are reported there)
    free_direct: dict[int, str] = field(default_factory=dict)
    free_calls: dict[int, list[str]] = field(default_factory=dict)
    #: functions that hand a callable parameter to on_commit
    deferrers: set[int] = field(default_factory=set)

    def add_call(self, caller: cst.FunctionDef, callee: cst.FunctionDef) -> None:
        self.edges.setdefault(id(caller), []).append(callee)

    def chain(self, function: cst.FunctionDef) -> list[str] | None:
        """``["notify()", "send_welcome.delay()"]`` when ``function`` reaches an enqueue."""
        return self._chain(function, set())

    def _chain(self, function: cst.FunctionDef, seen: set[int]) -> list[str] | None:
        key = id(function)
        if key in seen:
            return None
        seen.add(key)
        name = f"{function.name.value}()"
        if key in self.direct:
            return [name, self.direct[key]]
        for callee in self.edges.get(key, ()):
            rest = self._chain(callee, seen)
            if rest is not None:
                return [name, *rest]
        return None


@dataclass(frozen=True)
class BlockCall:
    """A call made inside an atomic block to functions of this module."""

    call: cst.Call
    targets: tuple[cst.FunctionDef, ...]
    #: a function of another module of the project (absolute name)
    external: str | None = None
