"""What the analysis reports: findings, and for fixable ones, how to fix them.

:class:`Finding` is the public, position-based record every front end
prints. The analysis first produces :class:`RawFinding` objects that still
point at libcst nodes, so that the fixer can rewrite exactly those nodes in
the tree that was analysed, without parsing again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:  # annotations only: reading cached findings needs no parser
    import libcst as cst

    from .names import Binding


@dataclass(frozen=True, order=True)
class Finding:
    """One problem at one place. ``column`` is 0-based, as flake8 expects."""

    line: int
    column: int
    code: str
    message: str
    end_line: int
    end_column: int
    fixable: bool
    #: why a finding of a fixable rule cannot be fixed here
    reason: str | None = None

    def format(self, path: str) -> str:
        """``path:line:col: CODE message`` with a 1-based column, like flake8."""
        text = f"{path}:{self.line}:{self.column + 1}: {self.code} {self.message}"
        if self.reason:
            text += f" (not auto-fixable: {self.reason})"
        return text


@dataclass(frozen=True)
class Site:
    """The names at a fix site: what each means there, and which are off limits.

    ``taken`` holds every name the enclosing functions bind anywhere, even
    after the site: reusing one would read a local that is not assigned yet
    (``UnboundLocalError``), and adding an import under one would be shadowed.
    """

    names: dict[str, Binding]
    taken: frozenset[str] = frozenset()


@dataclass(frozen=True)
class DeferCall:
    """OC101/OC106: wrap an enqueue statement in ``on_commit``."""

    call: cst.Call
    #: ``using=`` of the innermost atomic block, to pass on
    using: cst.BaseExpression | None
    #: Celery's ``*_on_commit`` twin of the method, when the call is Celery's
    celery_twin: str | None
    #: names at the call site, to reuse or avoid
    site: Site
    #: the legacy django-q ``async`` was renamed here: the import may be missing
    legacy_async: bool = False


@dataclass(frozen=True)
class PassCallable:
    """OC102: ``on_commit(task.delay(x))`` -> ``on_commit(partial(task.delay, x))``."""

    call: cst.Call
    site: Site


@dataclass(frozen=True)
class BindEagerly:
    """OC103: a late-binding callback becomes ``partial`` with values bound now."""

    callback: cst.BaseExpression
    #: for a nested def passed by name: the def, and the names to bind
    function: cst.FunctionDef | None
    bound_names: tuple[str, ...]
    site: Site


@dataclass(frozen=True)
class SetUsing:
    """OC104: add or correct ``using=`` on an ``on_commit`` call."""

    call: cst.Call
    #: None: the default database (``using=`` is dropped)
    using: cst.BaseExpression | None


@dataclass(frozen=True)
class DeferStatement:
    """OC101/OC106 in a ``try`` whose handlers would catch the send's errors.

    The whole statement (sends and handlers) becomes a nested function
    registered with ``on_commit``, so the handlers still see the errors:
    the fix the django-q race report's authors chose. The findings of all
    its sends share this one plan.
    """

    statement: cst.Try
    calls: tuple[cst.Call, ...]
    using: cst.BaseExpression | None
    #: names the statement reads that may be rebound before the commit: bound now
    bound_names: tuple[str, ...]
    site: Site


FixPlan = Union[DeferCall, DeferStatement, PassCallable, BindEagerly, SetUsing]


@dataclass
class RawFinding:
    """A finding still tied to the node it is about."""

    code: str
    node: cst.CSTNode
    message: str
    fix: FixPlan | None
    reason: str | None = None
