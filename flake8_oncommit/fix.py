"""Findings -> a rewritten module, verified before anyone writes it.

The fixer acts on the tree the analysis produced: each fix plan names the
exact node to replace. Names are reused where the file has them
(``tx.on_commit``, ``from functools import partial``, ``import functools``)
and are only added when missing, under a name that nothing at the fix sites
shadows. The result must parse, re-check without a fixable finding, and be
a fixed point of the fixer; otherwise the original text is kept and the
failure reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import libcst as cst

from .config import DEFAULT_CONFIG, Config
from .engine import CheckResult, ParseError, check_text
from .findings import DeferCall, Finding, FixPlan, RawFinding
from .imports import NewImport, add_imports
from .names import Binding

TRANSACTION = "django.db.transaction"
ON_COMMIT = "django.db.transaction.on_commit"
PARTIAL = "functools.partial"
FUNCTOOLS = "functools"


class FixError(Exception):
    """A rewrite that failed verification; the file must be left untouched."""


@dataclass
class FixOutcome:
    """What fixing one text did."""

    original: str
    text: str
    #: findings before the fix (all of them, fixable or not)
    findings: list[Finding] = field(default_factory=list)
    fixed: list[Finding] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.text != self.original

    @property
    def remaining(self) -> list[Finding]:
        fixed = set(self.fixed)
        return [finding for finding in self.findings if finding not in fixed]


# --------------------------------------------------------------------------
# Choosing names


class _Names:
    """Picks the spelling of ``on_commit`` and ``partial`` at each fix site."""

    def __init__(self, module_bindings: dict[str, Binding]) -> None:
        self.module_bindings = module_bindings
        self.imports: list[NewImport] = []
        self._sites: list[dict[str, Binding]] = []

    def register(self, names: dict[str, Binding]) -> None:
        self._sites.append(names)

    def _free(self, name: str) -> bool:
        """Not bound at module level nor at any fix site."""
        if name in self.module_bindings:
            return False
        return all(name not in site for site in self._sites)

    def _bound_to(self, site: dict[str, Binding], qualified: str, prefer: str) -> str | None:
        if site.get(prefer) == qualified:
            return prefer
        for name, binding in site.items():
            if binding == qualified:
                return name
        return None

    def _need(self, candidates: Sequence[NewImport]) -> NewImport:
        for candidate in candidates:
            if candidate in self.imports:
                return candidate
        for candidate in candidates:
            if self._free(candidate.bound_name):
                self.imports.append(candidate)
                return candidate
        # Every spelling is taken: a private alias nothing else uses.
        base = candidates[0]
        index = 1
        while True:
            alias = f"_oncommit_{base.name or base.module.split('.')[-1]}{'' if index == 1 else index}"
            candidate = NewImport(base.module, base.name, alias)
            if self._free(alias):
                self.imports.append(candidate)
                return candidate
            index += 1

    def on_commit(self, site: dict[str, Binding]) -> cst.BaseExpression:
        name = self._bound_to(site, TRANSACTION, "transaction")
        if name is not None:
            return cst.Attribute(cst.Name(name), cst.Name("on_commit"))
        name = self._bound_to(site, ON_COMMIT, "on_commit")
        if name is not None:
            return cst.Name(name)
        added = self._need(
            [
                NewImport("django.db", "transaction"),
                NewImport("django.db.transaction", "on_commit"),
                NewImport("django.db", "transaction", "db_transaction"),
            ]
        )
        if added.name == "on_commit":
            return cst.Name(added.bound_name)
        return cst.Attribute(cst.Name(added.bound_name), cst.Name("on_commit"))

    def partial(self, site: dict[str, Binding]) -> cst.BaseExpression:
        name = self._bound_to(site, PARTIAL, "partial")
        if name is not None:
            return cst.Name(name)
        name = self._bound_to(site, FUNCTOOLS, "functools")
        if name is not None:
            return cst.Attribute(cst.Name(name), cst.Name("partial"))
        added = self._need([NewImport("functools", "partial"), NewImport("functools")])
        if added.name is None:
            return cst.Attribute(cst.Name(added.bound_name), cst.Name("partial"))
        return cst.Name(added.bound_name)

    def async_task(self, site: dict[str, Binding]) -> None:
        """The legacy ``async`` became ``async_task``: make sure it is imported."""
        binding = site.get("async_task")
        if isinstance(binding, str) and binding.endswith("async_task"):
            return
        candidate = NewImport("django_q.tasks", "async_task")
        if candidate not in self.imports:
            self.imports.append(candidate)


# --------------------------------------------------------------------------
# Building replacement calls


def _comma_after_callable(call: cst.Call) -> cst.Comma:
    """The separator after the callable moved into ``partial``.

    A call written over several lines keeps that shape: the callable goes
    on its own line, indented like the arguments below it.
    """
    ws = call.whitespace_before_args
    if isinstance(ws, cst.ParenthesizedWhitespace):
        return cst.Comma(
            whitespace_after=cst.ParenthesizedWhitespace(
                first_line=cst.TrailingWhitespace(),
                empty_lines=[],
                indent=ws.indent,
                last_line=ws.last_line,
            )
        )
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


_PARENS_NOT_NEEDED_AS_ARGUMENT = (
    cst.Name,
    cst.Attribute,
    cst.Call,
    cst.Subscript,
    cst.BinaryOperation,
    cst.BooleanOperation,
    cst.Comparison,
    cst.UnaryOperation,
)


def callable_of(call: cst.Call) -> cst.BaseExpression:
    """The called expression, as it will stand as an argument.

    ``(a.s() | b.s())()`` calls a parenthesized pipe; as an argument the
    parentheses are redundant (``on_commit(a.s() | b.s())``).
    """
    func = call.func
    if func.lpar and isinstance(func, _PARENS_NOT_NEEDED_AS_ARGUMENT) and len(func.lpar) == 1:
        return func.with_changes(lpar=(), rpar=())
    return func


def partial_of(call: cst.Call, partial: cst.BaseExpression) -> cst.Call:
    """``f(a, b=c)`` -> ``partial(f, a, b=c)``, keeping the arguments' layout."""
    first = cst.Arg(value=callable_of(call), comma=_comma_after_callable(call))
    return cst.Call(
        func=partial,
        args=[first, *call.args],
        whitespace_before_args=call.whitespace_before_args,
    )


def _using_arg(using: cst.BaseExpression) -> cst.Arg:
    return cst.Arg(
        value=using,
        keyword=cst.Name("using"),
        equal=cst.AssignEqual(
            whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
        ),
    )


def _defer(call: cst.Call, plan: DeferCall, names: _Names, style: str) -> cst.BaseExpression:
    if plan.legacy_async:
        names.async_task(plan.names)
    if style == "celery" and plan.celery_twin is not None and plan.using is None:
        func = call.func
        assert isinstance(func, cst.Attribute)
        return call.with_changes(func=func.with_changes(attr=cst.Name(plan.celery_twin)))
    # ``task.delay()`` needs no partial: the bound method is the callback.
    callback = partial_of(call, names.partial(plan.names)) if call.args else callable_of(call)
    args = [cst.Arg(callback)]
    if plan.using is not None:
        args = [
            cst.Arg(callback, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
            _using_arg(plan.using),
        ]
    return cst.Call(func=names.on_commit(plan.names), args=args, lpar=call.lpar, rpar=call.rpar)


class _Rewriter(cst.CSTTransformer):
    def __init__(self, replacements: dict[int, cst.CSTNode]) -> None:
        super().__init__()
        self.replacements = replacements

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        replacement = self.replacements.get(id(original_node))
        return replacement if isinstance(replacement, cst.BaseExpression) else updated_node


def apply_fixes(
    module: cst.Module, plans: list[FixPlan], module_bindings: dict[str, Binding], style: str
) -> cst.Module:
    """The module with every plan applied and the imports they need added."""
    names = _Names(module_bindings)
    for plan in plans:
        if isinstance(plan, DeferCall):
            names.register(plan.names)
    replacements: dict[int, cst.CSTNode] = {}
    for plan in plans:
        if isinstance(plan, DeferCall):
            replacements[id(plan.call)] = _defer(plan.call, plan, names, style)
    new_module = module.visit(_Rewriter(replacements))
    assert isinstance(new_module, cst.Module)
    if names.imports:
        new_module = add_imports(new_module, names.imports)
    return new_module


# --------------------------------------------------------------------------
# The whole operation on text


def _selected(pairs: list[tuple[Finding, RawFinding]], select: frozenset[str] | None) -> list[tuple[Finding, RawFinding]]:
    if select is None:
        return pairs
    return [pair for pair in pairs if pair[0].code.startswith(tuple(select))]


def fix_text(
    text: str,
    config: Config = DEFAULT_CONFIG,
    *,
    filename: str = "<string>",
    result: CheckResult | None = None,
) -> FixOutcome:
    """Fix every fixable finding in ``text`` and verify the result.

    Raises :class:`ParseError` if ``text`` does not parse and
    :class:`FixError` if the rewrite does not verify.
    """
    if result is None:
        result = check_text(text, config, filename=filename)
    outcome = FixOutcome(original=text, text=text, findings=list(result.findings))
    fixable = [(finding, raw) for finding, raw in result.pairs if raw.fix is not None]
    if not fixable and not result.repaired:
        return outcome
    assert result.analysis is not None
    plans = [raw.fix for _, raw in fixable if raw.fix is not None]
    module = result.analysis.module
    new_module = apply_fixes(module, plans, result.analysis.module_bindings, config.style)
    new_text = new_module.code
    verify(new_text, config, filename=filename, original=result.text)
    outcome.text = new_text
    outcome.fixed = [finding for finding, _ in fixable]
    return outcome


def verify(text: str, config: Config, *, filename: str = "<string>", original: str | None = None) -> None:
    """The checks every rewrite must pass before it may be written.

    It parses (libcst, and ``compile()`` when this interpreter could compile
    the original), re-checking finds nothing fixable, and fixing it again
    changes nothing.
    """
    try:
        cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        raise FixError(f"the rewrite does not parse: {' '.join(error.message.split())}") from None
    try:
        compile(text, filename, "exec", dont_inherit=True)
    except SyntaxError as error:
        if original is None or _compiles(original, filename):
            raise FixError(f"the rewrite does not compile: {error.msg} (line {error.lineno})") from None
    try:
        again = check_text(text, config, filename=filename)
    except ParseError as error:
        raise FixError(f"the rewrite cannot be re-checked: {error.message}") from None
    left = [finding for finding in again.findings if finding.fixable]
    if left:
        first = left[0]
        raise FixError(f"the rewrite still has a fixable finding: {first.code} at line {first.line}")
    if fix_text(text, config, filename=filename, result=again).text != text:
        raise FixError("fixing the rewrite again would change it (not idempotent)")


def _compiles(text: str, filename: str) -> bool:
    try:
        compile(text, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True
