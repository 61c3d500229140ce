"""The rewrites that could change behaviour: each is fixed and proven, or refused with a reason.

Every case is a small module with ``# fix`` (the finding on that line must be
fixed) or ``# refuse: <reason words>`` (reported, not fixable, the reason
containing those words) or ``# none`` (not reported at all) on the lines
that matter. Fixed modules must pass the behavioural oracle (oracle.py):
the original and the fixed code run under real Django, with commit,
rollback and a failing broker.
"""

from __future__ import annotations

import re
import sys
import textwrap

import pytest

if sys.version_info < (3, 11):  # pragma: no cover - positions need 3.11
    pytest.skip("the oracle locates calls by instruction positions (Python 3.11+)", allow_module_level=True)

from oracle import Program, compare, fix_with_intents

from flake8_oncommit.config import Config, config_from_mapping
from flake8_oncommit.engine import check_text

_MARK = re.compile(r"#\s*(?P<what>fix|refuse|none)\b(?::\s*(?P<reason>.*))?$")

CASES: dict[str, str] = {
    # -- try/except around the enqueue ------------------------------------------
    "try-except-swallows-whole-try-deferred": """
        import logging
        from django.db import transaction
        from shop.tasks import send_welcome

        logger = logging.getLogger(__name__)

        @transaction.atomic
        def signup(user, audit):
            user.save()
            try:
                send_welcome.delay(user.pk)  # fix
            except Exception:
                logger.exception("could not queue the welcome mail")
            audit.record("signed up")
    """,
    "try-except-object-changed-after": """
        from django.db import transaction
        from shop.tasks import send_welcome

        @transaction.atomic
        def signup(user, log):
            try:
                send_welcome.delay(user.pk)  # refuse: changed later
            except Exception:
                log.exception("could not queue the welcome mail")
            user.save()
    """,
    "try-except-two-sends-whole-try-deferred": """
        from django.db import transaction
        from kombu.exceptions import OperationalError
        from shop.tasks import send_welcome, sync_crm

        @transaction.atomic
        def signup(user, log):
            user.save()
            try:
                send_welcome.delay(user.pk)  # fix
                sync_crm.apply_async((user.pk,), countdown=5)  # fix
            except OperationalError as error:
                log.warning("broker down: %s", error)
    """,
    "try-except-in-loop-binds-the-loop-variable": """
        from django.db import transaction
        from shop.tasks import notify

        @transaction.atomic
        def fan_out(orders, log):
            for order in orders:
                order.save()
                try:
                    notify.delay(order.pk)  # fix
                except Exception:
                    log.error("failed for %s", order.pk)
    """,
    "try-except-reraises": """
        from django.db import transaction
        from shop.tasks import send_welcome

        @transaction.atomic
        def signup(user, log, ignore_failures=False):
            user.save()
            try:
                send_welcome.delay(user.id)  # refuse: try/except
            except Exception:
                log.exception("welcome mail")
                if not ignore_failures:
                    raise
    """,
    "try-body-does-more-than-send": """
        from django.db import transaction
        from shop.tasks import send_welcome

        @transaction.atomic
        def signup(user, log):
            try:
                user.save()
                send_welcome.delay(user.id)  # refuse: try/except
                log.info("queued")
            except Exception:
                log.exception("signup")
    """,
    "try-with-else": """
        from django.db import transaction
        from shop.tasks import send_welcome

        @transaction.atomic
        def signup(user, log):
            try:
                send_welcome.delay(user.id)  # refuse: try/except
            except Exception:
                log.exception("signup")
            else:
                user.mark_queued()
    """,
    "outer-try-catches": """
        from django.db import transaction
        from shop.tasks import send_welcome

        def signup(user, log):
            try:
                with transaction.atomic():
                    user.save()
                    send_welcome.delay(user.id)  # refuse: try/except
            except Exception:
                log.exception("signup")
    """,
    "nested-try-outer-handler": """
        from django.db import transaction
        from shop.tasks import send_welcome

        @transaction.atomic
        def signup(user, log):
            try:
                try:
                    send_welcome.delay(user.id)  # refuse: try/except
                except ValueError:
                    log.error("bad value")
                user.save()
            except Exception:
                log.exception("signup")
    """,
    "try-finally-is-not-a-handler": """
        from django.db import transaction
        from shop.tasks import send_welcome

        @transaction.atomic
        def signup(user, log):
            try:
                user.save()
                send_welcome.delay(user.id)  # fix
            finally:
                log.info("done")
    """,
    "send-in-handler-is-not-protected-by-it": """
        from django.db import transaction
        from shop.tasks import alert

        @transaction.atomic
        def charge(order, gateway):
            try:
                gateway.charge(order)
            except ValueError:
                alert.delay(order.pk)  # fix
    """,
    "contextlib-suppress": """
        from contextlib import suppress
        from django.db import transaction
        from shop.tasks import send_welcome

        @transaction.atomic
        def signup(user):
            user.save()
            with suppress(Exception):
                send_welcome.delay(user.id)  # refuse: suppress
    """,
    # -- arguments changed after the enqueue ----------------------------------------
    "payload-item-assigned-later": """
        from django.db import transaction
        from shop.tasks import notify

        @transaction.atomic
        def archive(order):
            payload = {"id": order.pk, "state": "open"}
            notify.delay(payload)  # refuse: changed later
            payload["state"] = "archived"
    """,
    "list-appended-later": """
        from django.db import transaction
        from shop.tasks import notify

        @transaction.atomic
        def archive(orders):
            rows = []
            notify.delay(rows)  # refuse: changed later
            for order in orders:
                rows.append(order.pk)
    """,
    "object-saved-later": """
        from django.db import transaction
        from shop.tasks import notify

        @transaction.atomic
        def archive(order):
            notify.delay(order)  # refuse: changed later
            order.state = "archived"
            order.save()
    """,
    "attribute-value-read-now-is-fine": """
        from django.db import transaction
        from shop.tasks import notify

        @transaction.atomic
        def archive(order):
            notify.delay(order.pk, state=order.state)  # fix
            order.state = "archived"
            order.save()
    """,
    "changed-only-in-another-branch-or-after-return": """
        from django.db import transaction
        from shop.tasks import notify

        @transaction.atomic
        def archive(order, payload, urgent):
            if urgent:
                notify.delay(payload)  # fix
                return order
            else:
                payload["state"] = "later"
            payload["state"] = "archived"
            return None
    """,
    "mutated-in-a-loop-around-the-send": """
        from django.db import transaction
        from shop.tasks import notify

        @transaction.atomic
        def batches(orders):
            batch = []
            for order in orders:
                notify.delay(batch)  # refuse: changed later
                batch.append(order.pk)
    """,
    # -- names bound later in the function --------------------------------------------
    "transaction-imported-later-in-the-function": """
        from django.db import transaction as tx
        from shop.tasks import notify

        @tx.atomic
        def archive(order):
            notify.delay(order.pk)  # fix
            from django.db import transaction
            transaction.on_commit(order.done)
    """,
    "partial-imported-later-in-the-function": """
        from django.db import transaction
        from shop.tasks import notify

        @transaction.atomic
        def archive(order):
            notify.delay(order.pk)  # fix
            from functools import partial
            transaction.on_commit(partial(order.done, 1))
    """,
    "import-module-later-in-the-function": """
        from django.db import transaction
        from shop.tasks import notify

        @transaction.atomic
        def archive(order):
            notify.delay(order.pk)  # fix
            import functools
            return functools.reduce(lambda a, b: a, [1])
    """,
    # -- using= of project wrappers and changing aliases ----------------------------
    "wrapper-alias-from-its-parameter": """
        from contextlib import contextmanager
        from django.db import transaction
        from shop.tasks import notify

        @contextmanager
        def atomic_on(alias):
            with transaction.atomic(using=alias):
                yield

        def archive(order):
            with atomic_on("orders"):
                order.save()
                notify.delay(order.pk)  # fix
    """,
    "wrapper-alias-keyword-and-default": """
        from contextlib import contextmanager
        from django.db import transaction
        from shop.tasks import notify

        @contextmanager
        def atomic_on(alias="billing"):
            with transaction.atomic(using=alias):
                yield

        def archive(order):
            with atomic_on(alias="orders"):
                notify.delay(order.pk)  # fix
            with atomic_on():
                notify.delay(order.pk)  # fix
    """,
    "wrapper-alias-from-a-module-constant": """
        from contextlib import contextmanager
        from django.db import transaction
        from shop.tasks import notify

        ORDERS_DB = "orders"

        @contextmanager
        def atomic_on(alias):
            with transaction.atomic(using=alias):
                yield

        def archive(order):
            with atomic_on(ORDERS_DB):
                notify.delay(order.pk)  # fix
    """,
    "wrapper-alias-from-a-variable": """
        from contextlib import contextmanager
        from django.db import transaction
        from shop.tasks import notify

        @contextmanager
        def atomic_on(alias):
            with transaction.atomic(using=alias):
                yield

        def archive(order, alias):
            with atomic_on(alias.lower()):
                notify.delay(order.pk)  # refuse: using=
    """,
    "wrapper-alias-from-settings": """
        from contextlib import contextmanager
        from django.conf import settings
        from django.db import transaction
        from shop.tasks import notify

        @contextmanager
        def write_tx():
            with transaction.atomic(using=settings.WRITE_DB):
                yield

        def archive(order):
            with write_tx():
                notify.delay(order.pk)  # refuse: database is chosen inside write_tx()
    """,
    "alias-of-an-object-that-changes": """
        from django.db import transaction
        from shop.tasks import notify

        def move(order):
            with transaction.atomic(using=order._state.db):
                order.save(using="billing")
                notify.delay(order.pk)  # refuse: using=
    """,
    # -- arguments that cannot move as written ---------------------------------------
    "bare-generator-argument": """
        from django.db import transaction
        from shop import queue

        @transaction.atomic
        def push(items):
            queue.enqueue_many(x.pk for x in items)  # refuse: generator
            queue.enqueue(items[0].pk)  # fix
    """,
    "starred-generator-is-evaluated-now": """
        from django.db import transaction
        from shop.tasks import notify

        @transaction.atomic
        def push(items):
            notify.delay(*(x.pk for x in items))  # fix
    """,
    # -- look-alikes -------------------------------------------------------------------
    "delay-of-a-module-class-instance": """
        from django.db import transaction

        class Backoff:
            def delay(self, attempt):
                return 2 ** attempt

        class Outbox:
            def __init__(self):
                self.rows = []

            def enqueue(self, row):
                self.rows.append(row)

        @transaction.atomic
        def retry(order):
            backoff = Backoff()
            backoff.delay(order.attempts)  # none
            Outbox().enqueue(order.pk)  # none
            outbox = Outbox()
            outbox.enqueue(order.pk)  # none
    """,
    # -- code that runs, or not, where it stands ---------------------------------------
    "class-body-in-a-block-runs-there": """
        from django.db import transaction
        from shop.tasks import notify

        def build(order):
            with transaction.atomic():
                class Event:
                    sent = notify.delay(order.pk)  # refuse: result
                return Event
    """,
    "default-and-decorator-argument-run-in-the-block": """
        from django.db import transaction
        from shop.tasks import notify, register

        def build(order):
            with transaction.atomic():
                def later(job=notify.delay(order.pk)):  # refuse: result
                    return job

                @register(notify.delay(order.pk))  # refuse: result
                def hook():
                    pass
                return later, hook
    """,
    "type-checking-code-never-runs": """
        from typing import TYPE_CHECKING
        from django.db import transaction
        from shop.tasks import notify

        @transaction.atomic
        def build(order):
            if TYPE_CHECKING:
                notify.delay(order.pk)  # none
            order.save()
    """,
    "exit-stack-enter-context": """
        from contextlib import ExitStack
        from django.db import transaction
        from shop.tasks import notify

        def build(order):
            with ExitStack() as stack:
                stack.enter_context(transaction.atomic())
                order.save()
                notify.delay(order.pk)  # fix
            notify.delay(order.pk)  # none
    """,
    # -- OC103: bind exactly the rebound names ------------------------------------------
    "oc103-lambda-reads-attribute-after-save": """
        from django.db import transaction
        from shop.tasks import notify

        @transaction.atomic
        def create_all(items):
            for item in items:
                transaction.on_commit(lambda: notify.delay(item.pk))  # fix
                item.save()
    """,
    "oc103-lambda-calls-are-kept-at-commit": """
        from django.db import transaction
        from shop.tasks import notify

        @transaction.atomic
        def create_all(items, status):
            for item in items:
                transaction.on_commit(lambda: notify.delay(item.account().pk, status.current))  # fix
    """,
}


def _marks(source: str) -> dict[int, tuple[str, str]]:
    found = {}
    for number, line in enumerate(source.splitlines(), start=1):
        match = _MARK.search(line)
        if match:
            found[number] = (match["what"], (match["reason"] or "").strip())
    return found


def _source(name: str) -> str:
    return textwrap.dedent(CASES[name]).lstrip("\n")


@pytest.mark.parametrize("name", sorted(CASES))
def test_hazard(name: str) -> None:
    source = _source(name)
    config = Config()
    result = check_text(source, config, filename="case.py")
    by_line: dict[int, list[tuple[bool, str | None]]] = {}
    for finding in result.findings:
        by_line.setdefault(finding.line, []).append((finding.fixable, finding.reason))
    for line, (what, reason) in _marks(source).items():
        found = by_line.pop(line, [])
        where = f"line {line}: {source.splitlines()[line - 1].strip()}"
        if what == "none":
            assert found == [], where
            continue
        assert found, f"{where}: not reported"
        if what == "fix":
            assert all(fixable for fixable, _ in found), f"{where}: not fixable: {found}"
        else:
            assert not any(fixable for fixable, _ in found), f"{where}: fixable"
            assert any(why and reason in why for _, why in found), f"{where}: {found} does not say {reason!r}"
    assert not by_line, f"unexpected findings: {by_line}"
    fixed, intents = fix_with_intents(source, config)
    expected_fixes = sum(1 for what, _ in _marks(source).values() if what == "fix")
    assert len(intents) == expected_fixes, fixed
    if intents:
        differences = compare(Program(source, name), fixed, intents)
        assert not differences, fixed + "\n\n" + "\n\n".join(str(d) for d in differences[:3])
    else:
        assert fixed == source


@pytest.mark.parametrize("name", sorted(CASES))
def test_hazard_fixer_output_is_verified(name: str) -> None:
    """Each fix is a fixed point and re-checks clean (the oracle aside)."""
    source = _source(name)
    config = config_from_mapping({}, name)
    fixed, _ = fix_with_intents(source, config)
    assert fix_with_intents(fixed, config)[0] == fixed
    assert not [f for f in check_text(fixed, config, filename="case.py").findings if f.fixable]
