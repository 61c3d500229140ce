"""A hypothesis strategy for Django-shaped programs the behavioural oracle can run.

Unlike :mod:`django_programs` (syntax in all its forms), these programs are
meant to execute: every loop ends, every name is either defined or a stub.
They mix the shapes where a deferral could change behaviour: ``try`` with
handlers that swallow, re-raise or come with ``else``/``finally``; loops
registering ``on_commit`` lambdas; arguments mutated after the enqueue;
imports later in the function; nested blocks on several databases, replica
blocks, savepoints rolled back; ``contextlib.suppress``; ``ExitStack``;
wrappers with a database parameter; ``on_commit`` misused (OC102-OC104).
"""

from __future__ import annotations

from hypothesis import strategies as st

HEADER = [
    "import logging",
    "from contextlib import ExitStack, contextmanager, suppress",
    "from django.db import transaction",
    "from shop.tasks import send_email, sync_crm",
    "from shop import queue",
    "",
    "logger = logging.getLogger(__name__)",
    "",
    "",
    "class Abort(Exception):",
    "    pass",
    "",
    "",
    "@contextmanager",
    "def atomic_on(alias):",
    "    with transaction.atomic(using=alias):",
    "        yield",
    "",
    "",
]

#: Arguments: values read now, objects passed by reference, containers.
ARGS = ["obj.pk", "item", "item.pk", "payload", "x", "[item.pk, x]", "{'id': obj.pk}", "*items", "obj"]
SENDS = [
    "send_email.delay({a})",
    "sync_crm.apply_async(({a},), countdown=1)",
    "queue.enqueue(send_email, {a})",
    "send_email.delay({a}, kind='k')",
]
MUTATIONS = [
    "payload['state'] = 'done'",
    "obj.state = 'archived'",
    "obj.save()",
    "items.append(obj)",
    "x = x + 1",
    "item = obj",
    "payload = {'fresh': True}",
    "logger.info('step %s', x)",
]
BLOCKS = [
    "with transaction.atomic():",
    "with transaction.atomic(using='other'):",
    "with transaction.atomic(using='replica'):",
    "with transaction.atomic(savepoint=False):",
    "with atomic_on('other'):",
    "with atomic_on('default'):",
]
DECORATORS = ["", "@transaction.atomic", "@transaction.atomic(using='other')", "@atomic_on('other')"]
ON_COMMITS = [
    "transaction.on_commit(lambda: send_email.delay(item.pk))",
    "transaction.on_commit(lambda: send_email.delay(item, x))",
    "transaction.on_commit(send_email.delay(x))",
    "transaction.on_commit(lambda: sync_crm.delay(obj.pk), using='other')",
    "transaction.on_commit(lambda: logger.info('committed %s', x))",
]


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line if line else line for line in lines]


@st.composite
def statements(draw: st.DrawFn, depth: int) -> list[str]:
    """One statement, possibly compound, indented from column 0."""
    kinds = ["send", "send", "send", "mutate", "mutate", "on_commit", "late_import"]
    if depth < 3:
        kinds += ["block", "block", "try", "for", "if", "rollback", "suppress", "exit_stack", "nested_def"]
    kind = draw(st.sampled_from(kinds))
    if kind == "send":
        return [draw(st.sampled_from(SENDS)).format(a=draw(st.sampled_from(ARGS)))]
    if kind == "mutate":
        return [draw(st.sampled_from(MUTATIONS))]
    if kind == "on_commit":
        return [draw(st.sampled_from(ON_COMMITS))]
    if kind == "late_import":
        return [draw(st.sampled_from(["from functools import partial", "from django.db import transaction"]))]
    body = draw(block(depth + 1))
    if kind == "block":
        return [draw(st.sampled_from(BLOCKS)), *_indent(body)]
    if kind == "for":
        return [draw(st.sampled_from(["for item in items:", "for x in range(2):"])), *_indent(body)]
    if kind == "if":
        other = draw(block(depth + 1))
        return ["if flag:", *_indent(body), "else:", *_indent(other)]
    if kind == "try":
        handler = draw(
            st.sampled_from(
                [
                    ["except Exception:", "    logger.exception('failed')"],
                    ["except Exception:", "    logger.exception('failed')", "    raise"],
                    ["except ValueError:", "    logger.warning('value')"],
                    ["except Exception as error:", "    logger.error('failed: %s', error)"],
                ]
            )
        )
        tail = draw(st.sampled_from([[], ["else:", "    logger.info('sent')"], ["finally:", "    x = 0"]]))
        return ["try:", *_indent(body), *handler, *tail]
    if kind == "rollback":
        return [
            "try:",
            "    with transaction.atomic():",
            *_indent(_indent(body)),
            "        raise Abort()",
            "except Abort:",
            "    pass",
        ]
    if kind == "suppress":
        return [
            draw(st.sampled_from(["with suppress(Exception):", "with suppress(KeyError):"])),
            *_indent(body),
        ]
    if kind == "exit_stack":
        return [
            "with ExitStack() as stack:",
            "    stack.enter_context(transaction.atomic())",
            *_indent(body),
        ]
    return ["def _callback():", *_indent(body), "transaction.on_commit(_callback)"]


@st.composite
def block(draw: st.DrawFn, depth: int) -> list[str]:
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        lines += draw(statements(depth))
    return lines


@st.composite
def executable_module(draw: st.DrawFn) -> str:
    """A module with one or two functions the oracle calls."""
    lines = list(HEADER)
    for name in ("run", "other")[: draw(st.integers(1, 2))]:
        decorator = draw(
            st.sampled_from(
                ["", "@transaction.atomic", "@transaction.atomic(using='other')", "@atomic_on('other')"]
            )
        )
        if decorator:
            lines.append(decorator)
        lines.append(f"def {name}(obj, item, items, payload, x, flag):")
        lines += _indent(draw(block(1)))
        lines += ["", ""]
    return "\n".join(lines).rstrip() + "\n"
