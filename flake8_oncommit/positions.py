"""Line/column of a few nodes, without libcst's PositionProvider.

PositionProvider records a range for every node of the module and costs
about 2.4x the parse (measured on saleor). Findings are rare, so positions
are computed only for files that have some, and only for the nodes asked
for: one code generation pass that tracks line and column, records the
target nodes' syntactic ranges (parentheses excluded, as ``ast`` does) and
stops as soon as the last target has been passed.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import libcst as cst
from libcst._nodes.internal import CodegenState

Span = tuple[int, int, int, int]  # start line (1-based), start col (0-based), end line, end col


class _AllFound(Exception):
    pass


_NULL = contextlib.nullcontext()
#: Only these end a line for Python (str.splitlines also splits on \f, \x1c...).
_NEWLINE = re.compile(r"\r\n?|\n")


@dataclass(frozen=False)
class _LocatingState(CodegenState):
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

    def record_syntactic_position(  # type: ignore[override]
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
    state = _LocatingState(
        default_indent=module.default_indent,
        default_newline=module.default_newline,
        targets={id(node) for node in nodes},
    )
    if not state.targets:
        return {}
    with contextlib.suppress(_AllFound):
        module._codegen(state)
    return state.found
