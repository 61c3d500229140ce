"""A hypothesis strategy for Django-shaped modules: atomic blocks, enqueues, on_commit.

The programs are syntactically valid Python built from the shapes the
rules care about, nested at random: decorated functions and methods, ``with
transaction.atomic(...)`` blocks, loops, branches, nested defs, lambdas,
enqueues of every library as statements and as used values, ``on_commit``
in its right and wrong forms, comments and ``# noqa``, several import
spellings, CRLF or LF line endings.
"""

from __future__ import annotations

from hypothesis import strategies as st

IMPORT_VARIANTS = [
    ["from django.db import transaction"],
    ["from django.db import transaction as tx"],
    ["from django.db import transaction", "from functools import partial"],
    ["import functools", "from django.db import transaction"],
    ["from django.db.transaction import atomic, on_commit"],
    ["from django.db import connection, connections, transaction"],
    ["from django.db import models, transaction", "from functools import partial, wraps"],
    [],
]
EXTRA_IMPORTS = [
    "from django_q.tasks import async_task",
    "from celery import chain, group",
    "from shop.tasks import send_email, sync_crm",
    "from shop import tasks",
    "import dramatiq",
    "from django.utils.decorators import method_decorator",
]

TASKS = ["send_email", "sync_crm", "tasks.rebuild", "self.task"]
ARGS = [
    "",
    "x",
    "obj.pk",
    "item, flag=True",
    "*args, **kwargs",
    "order.pk,\n        reason='x'",
    "f'{x}'",
    "[i for i in xs]",
]
#: Positional-only argument lists (inside tuples and lists).
POSITIONAL = ["x", "obj.pk", "item, 1", "f'{x}'", "order.pk,\n        item"]
ENQUEUES = [
    "{t}.delay({a})",
    "{t}.apply_async(({p},), countdown=3)",
    "async_task('shop.jobs.run', {a})",
    "queue.enqueue(work, {a})",
    "chain({t}.s({a}), {t}.s()).delay()",
    "({t}.s() | {t}.s())()",
    "app.send_task('x', args=[{p}])",
    "{t}.send({a})",
    "{t}.enqueue({a})",
]
NOT_ENQUEUES = ["{t}.s({a})", "print({a})", "obj.save()", "signal.send(sender=None)", "{t}.delay"]


def _tx(imports: list[str]) -> tuple[str, str]:
    """How this module spells the atomic decorator and on_commit."""
    text = " ".join(imports)
    if "as tx" in text:
        return "tx.atomic", "tx.on_commit"
    if "import atomic, on_commit" in text:
        return "atomic", "on_commit"
    return "transaction.atomic", "transaction.on_commit"


@st.composite
def enqueue(draw: st.DrawFn) -> str:
    template = draw(st.sampled_from(ENQUEUES))
    return template.format(
        t=draw(st.sampled_from(TASKS)), a=draw(st.sampled_from(ARGS)), p=draw(st.sampled_from(POSITIONAL))
    )


@st.composite
def statement_lines(draw: st.DrawFn, depth: int, atomic: str, on_commit: str) -> list[str]:
    """One statement (possibly compound), as lines indented from column 0."""
    kinds = ["enqueue", "assign", "return", "plain", "on_commit", "comment", "rebind"]
    if depth < 3:
        kinds += ["with", "for", "if", "def", "try", "while"]
    kind = draw(st.sampled_from(kinds))
    comment = draw(st.sampled_from(["", "", "  # keep", "  # noqa", "  # noqa: OC101", "  # noqa: E501"]))
    if kind == "enqueue":
        return [draw(enqueue()) + comment]
    if kind == "assign":
        return [f"result = {draw(enqueue())}"]
    if kind == "return":
        return [f"return {draw(enqueue())}"]
    if kind == "plain":
        template = draw(st.sampled_from(NOT_ENQUEUES))
        return [template.format(t=draw(st.sampled_from(TASKS)), a=draw(st.sampled_from(ARGS)))]
    if kind == "comment":
        return draw(st.sampled_from([["# a comment", "pass"], ["pass"], ["x = 1; y = 2"]]))
    if kind == "rebind":
        return [draw(st.sampled_from(["item = load(item)", "obj = Model.objects.create()", "x += 1"]))]
    if kind == "on_commit":
        form = draw(
            st.sampled_from(
                [
                    "{oc}(lambda: {e})",
                    "{oc}({e})",
                    "{oc}(partial(send_email.delay, x))",
                    "{oc}(functools.partial(sync_crm.delay, x), using='other')",
                    "{oc}(_callback)",
                    "connections['other'].on_commit(lambda: {e})",
                    "connection.on_commit(lambda: {e})",
                    "{oc}(lambda item=item: {e})",
                ]
            )
        )
        return [form.format(oc=on_commit, e=draw(enqueue()))]
    body = draw(block(depth + 1, atomic, on_commit))
    indented = ["    " + line if line else line for line in body]
    if kind == "with":
        using = draw(st.sampled_from(["", "using='other'", "'other'", "using=db", "durable=True"]))
        head = draw(
            st.sampled_from([f"with {atomic}({using}):", f"with ctx, {atomic}({using}):", "with ctx:"])
        )
        return [head, *indented]
    if kind == "for":
        return ["for item in items:", *indented]
    if kind == "while":
        return ["while pending():", *indented]
    if kind == "if":
        other = draw(block(depth + 1, atomic, on_commit))
        return ["if flag:", *indented, "else:", *["    " + line if line else line for line in other]]
    if kind == "try":
        return ["try:", *indented, "except Exception:", "    pass"]
    name = draw(st.sampled_from(["_callback", "_send", "helper"]))
    return [f"def {name}():", *indented]


@st.composite
def block(draw: st.DrawFn, depth: int, atomic: str, on_commit: str) -> list[str]:
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        lines += draw(statement_lines(depth, atomic, on_commit))
    return lines


@st.composite
def function_lines(draw: st.DrawFn, atomic: str, on_commit: str, method: bool) -> list[str]:
    decorator = draw(
        st.sampled_from(
            [
                "",
                f"@{atomic}",
                f"@{atomic}()",
                f"@{atomic}(using='other')",
                f"@method_decorator({atomic})" if method else f"@{atomic}",
            ]
        )
    )
    name = draw(st.sampled_from(["place_order", "post", "helper", "sync", "form_valid"]))
    params = (
        "self, item, items, flag, obj, x, xs, order, db, ctx"
        if method
        else "item, items, flag, obj, x, xs, order, db, ctx"
    )
    asynchronous = draw(st.sampled_from(["", "", "async "]))
    body = draw(block(1, atomic, on_commit))
    lines = [decorator] if decorator else []
    lines.append(f"{asynchronous}def {name}({params}):")
    lines += ["    " + line if line else line for line in body]
    return lines


@st.composite
def django_module(draw: st.DrawFn) -> str:
    """A whole module's text."""
    imports = list(draw(st.sampled_from(IMPORT_VARIANTS)))
    imports += draw(st.lists(st.sampled_from(EXTRA_IMPORTS), max_size=3, unique=True))
    atomic, on_commit = _tx(imports)
    lines = [draw(st.sampled_from(['"""A module."""', "# -*- coding: utf-8 -*-", ""]))]
    lines += imports
    lines += ["", ""]
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            lines += ["class Service:"]
            lines += [
                "    " + line if line else line for line in draw(function_lines(atomic, on_commit, True))
            ]
        else:
            lines += draw(function_lines(atomic, on_commit, False))
        lines += ["", ""]
    newline = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    return newline.join(line.rstrip() for line in lines).rstrip() + newline
