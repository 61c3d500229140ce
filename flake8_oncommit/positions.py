"""Line/column of a few nodes, without libcst's PositionProvider when it can.

PositionProvider records a range for every node of the module and costs
about 2.4x the parse (measured on saleor). Findings are rare, so positions
are computed only for files that have some, and only for the nodes asked
for: one code generation pass that tracks line and column, records the
target nodes' syntactic ranges (parentheses excluded, as ``ast`` does) and
stops as soon as the last target has been passed.

That pass subclasses libcst's code generation state, which is not public
API. It is used only when this libcst's state has the hooks it relies on
(checked once, at import); otherwise, and if it ever fails, the public
``PositionProvider`` answers (slower, same result). A test runs both on
every fixture, and CI runs the oldest supported libcst. (They agree on
expressions, all findings are about; a compound statement's span ends
after its last newline in the fast pass, at its last character in the
public one: callers use its start.)
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

try:  # private API: see the module docstring
    from libcst._nodes.internal import CodegenState as _CodegenState
except ImportError:  # pragma: no cover - a libcst that moved it
    _CodegenState = None  # type: ignore[assignment,misc]

Span = tuple[int, int, int, int]  # start line (1-based), start col (0-based), end line, end col


class _AllFound(Exception):
    pass


_NULL = contextlib.nullcontext()
#: Only these end a line for Python (str.splitlines also splits on \f, \x1c...).
_NEWLINE = re.compile(r"\r\n?|\n")


_HOOKS = ("add_indent_tokens", "add_token", "pop_trailing_newline", "record_syntactic_position")
#: The fast pass is usable with this libcst.
FAST = _CodegenState is not None and all(hasattr(_CodegenState, name) for name in _HOOKS)


@dataclass(frozen=False)
class _LocatingState(_CodegenState if FAST else object):  # type: ignore[misc]
    targets: set[int] = field(default_factory=set)
    found: dict[int, Span] = field(default_factory=dict)
    line: int = 1
    column: int = 0

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self._advance(token)

    def add_token(self, value: str) -> None:
        self._advance(value)

    def pop_trailing_newline(self) -> None:
        pass

    def _advance(self, value: str) -> None:
        if "\n" in value or "\r" in value:
            segments = _NEWLINE.split(value)
            self.line += len(segments) - 1
            self.column = len(segments[-1])
        else:
            self.column += len(value)

    def record_syntactic_position(  # type: ignore[override, unused-ignore]
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> contextlib.AbstractContextManager[None]:
        if id(node) not in self.targets:
            return _NULL
        return self._record(node)

    @contextlib.contextmanager
    def _record(self, node: cst.CSTNode) -> Iterator[None]:
        start = (self.line, self.column)
        yield
        self.found[id(node)] = (start[0], start[1], self.line, self.column)
        if len(self.found) == len(self.targets):
            raise _AllFound


def locate(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> dict[int, Span]:
    """Spans of ``nodes`` (keyed by ``id(node)``) in ``module``'s code."""
    targets = list(nodes)
    if not targets:
        return {}
    if FAST:
        with contextlib.suppress(Exception):
            return _locate_fast(module, targets)
    return locate_public(module, targets)


def _locate_fast(module: cst.Module, targets: list[cst.CSTNode]) -> dict[int, Span]:
    state = _LocatingState(
        default_indent=module.default_indent,
        default_newline=module.default_newline,
        targets={id(node) for node in targets},
    )
    with contextlib.suppress(_AllFound):
        module._codegen(state)
    return state.found


def locate_public(module: cst.Module, targets: Iterable[cst.CSTNode]) -> dict[int, Span]:
    """The same spans through libcst's public ``PositionProvider`` (every node's; slower)."""
    from libcst.metadata import MetadataWrapper, PositionProvider  # the slow path only

    wanted = {id(node) for node in targets}
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)  # keep the nodes' identity
    positions: Any = wrapper.resolve(PositionProvider)
    found: dict[int, Span] = {}
    for node, where in positions.items():
        if id(node) in wanted:
            found[id(node)] = (where.start.line, where.start.column, where.end.line, where.end.column)
    return found
