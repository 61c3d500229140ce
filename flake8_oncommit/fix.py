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

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import libcst as cst

from .config import DEFAULT_CONFIG, Config
from .engine import CheckResult, ParseError, check_text, parse
from .findings import BindEagerly, DeferCall, DeferStatement, Finding, FixPlan, PassCallable, SetUsing, Site
from .imports import NewImport, add_imports
from .index import ProjectIndex
from .names import Binding
from .resolution import argument

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
    #: fixable findings whose rewrite failed verification, and why (reported as not fixable)
    dropped: dict[Finding, str] = field(default_factory=dict)
    #: findings of the rewritten text (its verification's re-check)
    after: list[Finding] | None = None

    @property
    def changed(self) -> bool:
        return self.text != self.original

    @property
    def remaining(self) -> list[Finding]:
        """What is left: the re-check of the rewrite (its line numbers; a fix may also
        have resolved an OC105 of the same file), or the findings not fixed."""
        if self.after is not None:
            # Fixable findings left in the rewrite are the dropped ones (verification
            # tolerated only those), in the same order: they carry why.
            reasons = iter([self.dropped[finding] for finding in sorted(self.dropped)])
            return [
                dataclasses.replace(
                    finding, fixable=False, reason=next(reasons, "the rewrite failed verification")
                )
                if finding.fixable
                else finding
                for finding in self.after
            ]
        fixed = set(self.fixed)
        return [
            dataclasses.replace(finding, fixable=False, reason=self.dropped[finding])
            if finding in self.dropped
            else finding
            for finding in self.findings
            if finding not in fixed
        ]


# --------------------------------------------------------------------------
# Choosing names


class _Names:
    """Picks the spelling of ``on_commit`` and ``partial`` at each fix site."""

    def __init__(self, module_bindings: dict[str, Binding]) -> None:
        self.module_bindings = module_bindings
        self.imports: list[NewImport] = []
        self._sites: list[Site] = []
        self._chosen: set[str] = set()

    def register(self, site: Site) -> None:
        self._sites.append(site)

    def fresh(self, stem: str) -> str:
        """A new name for a nested function, bound nowhere at the fix sites."""
        base = f"_{stem}_after_commit"
        name, index = base, 2
        while not self._free(name) or name in self._chosen:
            name = f"{base}_{index}"
            index += 1
        self._chosen.add(name)
        return name

    def _free(self, name: str) -> bool:
        """Not bound at module level, nor at any fix site, nor anywhere in their functions."""
        if name in self.module_bindings:
            return False
        return all(name not in site.names and name not in site.taken for site in self._sites)

    def _bound_to(self, site: Site, qualified: str, prefer: str) -> str | None:
        if site.names.get(prefer) == qualified and prefer not in site.taken:
            return prefer
        for name, binding in site.names.items():
            if binding == qualified and name not in site.taken:
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

    def on_commit(self, site: Site) -> cst.BaseExpression:
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

    def partial(self, site: Site) -> cst.BaseExpression:
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

    def async_task(self, site: Site) -> None:
        """The legacy ``async`` became ``async_task``: make sure it is imported."""
        binding = site.names.get("async_task")
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
        names.async_task(plan.site)
    if style == "celery" and plan.celery_twin is not None and plan.using is None:
        func = call.func
        assert isinstance(func, cst.Attribute)
        return call.with_changes(func=func.with_changes(attr=cst.Name(plan.celery_twin)))
    # ``task.delay()`` needs no partial: the bound method is the callback.
    callback = partial_of(call, names.partial(plan.site)) if call.args else callable_of(call)
    return _on_commit(callback, plan.using, plan.site, names).with_changes(lpar=call.lpar, rpar=call.rpar)


def _on_commit(
    callback: cst.BaseExpression, using: cst.BaseExpression | None, site: Site, names: _Names
) -> cst.Call:
    """``transaction.on_commit(callback[, using=...])`` in the file's own spelling."""
    args = [cst.Arg(callback)]
    if using is not None:
        args = [
            cst.Arg(callback, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
            _using_arg(using),
        ]
    return cst.Call(func=names.on_commit(site), args=args)


def _defer_statement(
    node: cst.Try, plan: DeferStatement, names: _Names
) -> cst.FlattenSentinel[cst.BaseStatement]:
    """The whole ``try`` becomes a nested function, registered with ``on_commit`` where it stood.

    Its handlers still see the send's errors (after the commit, as the
    sends run then); the names it reads that may be rebound before the
    commit are bound now, as parameters given with ``partial``.
    """
    name = names.fresh(_stem(plan.calls[0]))
    params = cst.Parameters(params=[cst.Param(cst.Name(bound)) for bound in plan.bound_names])
    function = cst.FunctionDef(
        name=cst.Name(name),
        params=params,
        body=cst.IndentedBlock(body=[node.with_changes(leading_lines=())]),
        leading_lines=node.leading_lines,
    )
    callback: cst.BaseExpression = cst.Name(name)
    if plan.bound_names:
        bound_args = [cst.Arg(cst.Name(bound)) for bound in plan.bound_names]
        callback = cst.Call(func=names.partial(plan.site), args=[cst.Arg(cst.Name(name)), *bound_args])
    register = cst.SimpleStatementLine([cst.Expr(_on_commit(callback, plan.using, plan.site, names))])
    return cst.FlattenSentinel([function, register])


def _stem(call: cst.Call) -> str:
    """``send_welcome`` for ``tasks.send_welcome.delay(...)``, ``async_task`` for ``async_task(...)``."""
    func = call.func
    node = func.value if isinstance(func, cst.Attribute) else func
    while isinstance(node, cst.Attribute):
        node = node.attr
    if isinstance(node, cst.Call):
        return _stem(node)
    return node.value if isinstance(node, cst.Name) else "send"


def _pass_callable(call: cst.Call, plan: PassCallable, names: _Names) -> cst.BaseExpression:
    """OC102: the called enqueue becomes the callable (``partial`` when it has arguments)."""
    if not call.args:
        return (
            callable_of(call).with_changes(lpar=call.lpar, rpar=call.rpar) if call.lpar else callable_of(call)
        )
    return partial_of(call, names.partial(plan.site)).with_changes(lpar=call.lpar, rpar=call.rpar)


def _bind_lambda(node: cst.Lambda, plan: BindEagerly) -> cst.BaseExpression:
    """OC103: ``lambda: f(item.pk)`` -> ``lambda item=item: f(item.pk)``.

    Exactly the names the loop rebinds are bound now (default values are
    evaluated when the lambda is made); every other read, ``item.pk``
    included, still happens at commit.
    """
    equal = cst.AssignEqual(
        whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
    )
    params = [cst.Param(cst.Name(name), default=cst.Name(name), equal=equal) for name in plan.bound_names]
    return node.with_changes(
        params=node.params.with_changes(params=[*node.params.params, *params]),
        whitespace_after_lambda=cst.SimpleWhitespace(" "),
    )


def _bind_reference(node: cst.Name, plan: BindEagerly, names: _Names) -> cst.BaseExpression:
    """OC103: ``on_commit(_send)`` -> ``on_commit(partial(_send, entry))``."""
    args = [cst.Arg(cst.Name(name)) for name in plan.bound_names]
    return cst.Call(func=names.partial(plan.site), args=[cst.Arg(node), *args])


def _bind_parameters(node: cst.FunctionDef, plan: BindEagerly) -> cst.FunctionDef:
    """OC103: the nested def receives the values it read late as parameters."""
    params = [cst.Param(cst.Name(name)) for name in plan.bound_names]
    return node.with_changes(params=node.params.with_changes(params=params))


def _set_using(call: cst.Call, plan: SetUsing) -> cst.Call:
    """OC104: correct ``using`` where it is given (keyword or positional), else add it.

    For the default database, a keyword ``using=`` is dropped (a positional
    one becomes ``None``).
    """
    existing = argument(call, "using", 1)
    if existing is not None:
        if plan.using is None and existing.keyword is None:
            replacement = existing.with_changes(value=cst.Name("None"))
        elif plan.using is None:
            args = [arg for arg in call.args if arg is not existing]
            if args and existing is call.args[-1]:
                args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            return call.with_changes(args=args)
        else:
            replacement = existing.with_changes(value=plan.using)
        return call.with_changes(args=[replacement if arg is existing else arg for arg in call.args])
    if plan.using is None:
        return call
    args = list(call.args)
    if args and not isinstance(args[-1].comma, cst.Comma):
        args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    return call.with_changes(args=[*args, _using_arg(plan.using)])


Edit = Callable[[cst.CSTNode], "cst.CSTNode | cst.FlattenSentinel[cst.BaseStatement]"]


class _Rewriter(cst.CSTTransformer):
    """Applies edits to the nodes they were planned for, bottom-up.

    Edits receive the *updated* node, so edits on nested nodes compose
    (OC102 on an argument of a call that OC104 also corrects).
    """

    def __init__(self, edits: dict[int, list[Edit]]) -> None:
        super().__init__()
        self.edits = edits

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.FlattenSentinel[cst.BaseStatement]:
        result: cst.CSTNode | cst.FlattenSentinel[cst.BaseStatement] = updated_node
        for edit in self.edits.get(id(original_node), ()):
            assert isinstance(result, cst.CSTNode)
            result = edit(result)
        return result


def _edits_for(plan: FixPlan, names: _Names, style: str) -> list[tuple[cst.CSTNode, Edit]]:
    if isinstance(plan, DeferCall):
        return [(plan.call, lambda node: _defer(_as(node, cst.Call), plan, names, style))]
    if isinstance(plan, DeferStatement):
        return [(plan.statement, lambda node: _defer_statement(_as(node, cst.Try), plan, names))]
    if isinstance(plan, PassCallable):
        return [(plan.call, lambda node: _pass_callable(_as(node, cst.Call), plan, names))]
    if isinstance(plan, SetUsing):
        return [(plan.call, lambda node: _set_using(_as(node, cst.Call), plan))]
    if isinstance(plan.callback, cst.Lambda):
        return [(plan.callback, lambda node: _bind_lambda(_as(node, cst.Lambda), plan))]
    assert plan.function is not None
    return [
        (plan.callback, lambda node: _bind_reference(_as(node, cst.Name), plan, names)),
        (plan.function, lambda node: _bind_parameters(_as(node, cst.FunctionDef), plan)),
    ]


_T = TypeVar("_T", bound=cst.CSTNode)


def _as(node: cst.CSTNode, kind: type[_T]) -> _T:
    assert isinstance(node, kind), f"expected {kind.__name__}, got {type(node).__name__}"
    return node


def apply_fixes(
    module: cst.Module, plans: list[FixPlan], module_bindings: dict[str, Binding], style: str
) -> cst.Module:
    """The module with every plan applied and the imports they need added."""
    names = _Names(module_bindings)
    plans = list({id(plan): plan for plan in plans}.values())  # a deferred ``try`` serves several findings
    for plan in plans:
        if not isinstance(plan, SetUsing):
            names.register(plan.site)
    edits: dict[int, list[Edit]] = {}
    for plan in plans:
        for node, edit in _edits_for(plan, names, style):
            edits.setdefault(id(node), []).append(edit)
    new_module = module.visit(_Rewriter(edits))
    assert isinstance(new_module, cst.Module)
    if names.imports:
        new_module = add_imports(new_module, names.imports)
    return new_module


# --------------------------------------------------------------------------
# The whole operation on text


def fix_text(
    text: str,
    config: Config = DEFAULT_CONFIG,
    *,
    filename: str = "<string>",
    result: CheckResult | None = None,
    index: ProjectIndex | None = None,
) -> FixOutcome:
    """Fix every fixable finding in ``text`` and verify the result.

    A fix whose rewrite fails verification is dropped (its finding is then
    reported as not fixable, with the reason) and the others still apply.
    Raises :class:`ParseError` if ``text`` does not parse and
    :class:`FixError` if no verified rewrite can be made at all.
    """
    if result is None:
        result = check_text(text, config, filename=filename, index=index)
    outcome = FixOutcome(original=text, text=text, findings=list(result.findings))
    groups = _plan_groups(result)
    if not groups:
        # Nothing to fix: the file stays as it is, legacy ``async`` included.
        return outcome
    try:
        outcome.text, outcome.after = _rewrite(result, groups, config, filename, index, tolerated=[])
        outcome.fixed = [finding for group in groups for finding, _ in group]
        return outcome
    except FixError as error:
        if len(groups) == 1:
            raise
        everything = error
    # Fix by fix: keep those that verify on their own, then all of them together.
    kept: list[list[tuple[Finding, FixPlan]]] = []
    for group in groups:
        others = [finding for other in groups if other is not group for finding, _ in other]
        try:
            _rewrite(result, [group], config, filename, index, tolerated=others)
        except FixError as error:
            for finding, _ in group:
                outcome.dropped[finding] = f"the rewrite failed verification ({error})"
        else:
            kept.append(group)
    if not kept:
        raise everything
    outcome.text, outcome.after = _rewrite(
        result, kept, config, filename, index, tolerated=list(outcome.dropped)
    )
    outcome.fixed = [finding for group in kept for finding, _ in group]
    return outcome


def _plan_groups(result: CheckResult) -> list[list[tuple[Finding, FixPlan]]]:
    """The fixable findings, grouped by plan (a deferred ``try`` fixes several at once)."""
    groups: dict[int, list[tuple[Finding, FixPlan]]] = {}
    for finding, raw in result.pairs:
        if raw.fix is not None:
            groups.setdefault(id(raw.fix), []).append((finding, raw.fix))
    return list(groups.values())


def _rewrite(
    result: CheckResult,
    groups: list[list[tuple[Finding, FixPlan]]],
    config: Config,
    filename: str,
    index: ProjectIndex | None,
    *,
    tolerated: list[Finding],
) -> tuple[str, list[Finding]]:
    """The text with these plans applied, verified (``tolerated``: findings deliberately left),
    and what the verification's re-check of it found."""
    assert result.analysis is not None
    plans = [plan for group in groups for _, plan in group]
    try:
        new_module = apply_fixes(result.analysis.module, plans, result.analysis.module_bindings, config.style)
        new_text = new_module.code
        again = verify(
            new_text, config, filename=filename, original=result.text, index=index, tolerated=tolerated
        )
    except RecursionError:
        raise FixError("too deeply nested to rewrite (RecursionError)") from None
    return new_text, again.findings


def verify(
    text: str,
    config: Config,
    *,
    filename: str = "<string>",
    original: str | None = None,
    index: ProjectIndex | None = None,
    tolerated: Sequence[Finding] = (),
) -> CheckResult:
    """The checks every rewrite must pass before it may be written; returns the re-check.

    It parses (libcst, and ``compile()`` when this interpreter could compile
    the original), re-checking finds nothing fixable (but the ``tolerated``
    findings, left on purpose), and fixing it again changes nothing. The
    re-check's parse is the parse check: one parse.
    """
    try:
        again = check_text(text, config, filename=filename, index=index)
        if again.analysis is None:  # the pre-check did not need to parse it
            parse(text)
    except ParseError as error:
        raise FixError(f"the rewrite does not parse: {error.message}") from None
    try:
        compile(text, filename, "exec", dont_inherit=True)
    except SyntaxError as error:
        if original is None or compiles(original, filename):
            raise FixError(f"the rewrite does not compile: {error.msg} (line {error.lineno})") from None
    allowed = [_unplaced(finding) for finding in tolerated]
    left = []
    for finding in again.findings:
        if not finding.fixable:
            continue
        if _unplaced(finding) in allowed:
            allowed.remove(_unplaced(finding))
        else:
            left.append(finding)
    if left:
        first = left[0]
        raise FixError(f"the rewrite still has a fixable finding: {first.code} at line {first.line}")
    try:
        fixed_again = fix_text(text, config, filename=filename, result=again, index=index).text
    except FixError:
        fixed_again = text  # what is left cannot be fixed: fixing again changes nothing
    if fixed_again != text:
        raise FixError("fixing the rewrite again would change it (not idempotent)")
    return again


def _unplaced(finding: Finding) -> tuple[str, str]:
    """A finding whatever its line: messages name lines (``opened at line 12``) that a fix moves."""
    return finding.code, re.sub(r"\d+", "#", finding.message)


def compiles(text: str, filename: str) -> bool:
    try:
        compile(text, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True
