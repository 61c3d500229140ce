"""The rule catalogue: the single source of codes, messages and documentation.

The flake8 plugin, ``oncommit-fix``, the SARIF output and ``docs/rules.md``
all read this table; a test fails when a code lacks docs or fixtures.
Codes are stable once released.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .effects import WORDS as EFFECT_WORDS
from .effects import Effect
from .queues import WORDS as QUEUE_WORDS


@dataclass(frozen=True)
class Rule:
    """One rule: what it finds, why it matters, and how it is fixed."""

    code: str
    name: str
    #: one-line message template; ``{call}`` and friends are filled per finding
    message: str
    #: a short sentence for rule listings (SARIF ``shortDescription``)
    summary: str
    why: str
    bad: str
    good: str
    fix: str
    fixable: bool
    #: the setting that switches the rule on, for opt-in rules
    opt_in: str | None = None
    #: when that setting turns the rule on, for the reference table
    switched: str = ""
    options: tuple[str, ...] = ()
    #: what a file must mention, besides a transaction, for the rule to find
    #: anything: the text pre-check lets through only files with a word of an
    #: enabled rule (a rule without words would never run)
    words: tuple[str, ...] = ()
    #: a side-effect rule: the ``side-effects`` kinds of which one turns it on
    effects: frozenset[str] = frozenset()


RULES: dict[str, Rule] = {}


def _add(rule: Rule) -> None:
    RULES[rule.code] = rule


def _side_effect(kinds: tuple[Effect, ...], switched: str) -> dict[str, Any]:
    """What every side-effect rule shares: the ``side-effects`` setting turns it on for ``kinds``."""
    return {
        "opt_in": "side-effects",
        "switched": switched,
        "options": ("side-effects",),
        "words": tuple(dict.fromkeys(word for kind in kinds for word in EFFECT_WORDS[kind])),
        "effects": frozenset(kind.value for kind in kinds),
    }


_add(
    Rule(
        code="OC101",
        name="enqueue-in-atomic",
        message=(
            "{call} enqueued inside {where} before commit; a worker "
            "may run it before the data is visible - defer it with "
            "transaction.on_commit()"
        ),
        summary="A task is enqueued inside an atomic block and not deferred.",
        why=(
            "The broker receives the job at once, while the transaction is still "
            "open. A worker can pick it up before COMMIT, look for a row that is "
            "not visible yet (or is stale), and fail, or create a duplicate with "
            "get_or_create. If the transaction rolls back, the job runs for data "
            "that never existed. Tests rarely see it: TestCase wraps every test in "
            "a transaction and eager mode runs tasks inline."
        ),
        bad=(
            "@transaction.atomic\n"
            "def place_order(cart):\n"
            "    order = Order.objects.create(cart=cart)\n"
            "    send_confirmation.delay(order.pk)\n"
        ),
        good=(
            "@transaction.atomic\n"
            "def place_order(cart):\n"
            "    order = Order.objects.create(cart=cart)\n"
            "    transaction.on_commit(partial(send_confirmation.delay, order.pk))\n"
        ),
        fix=(
            "`oncommit-fix` wraps the call: `task.delay(a, b=c)` becomes "
            "`transaction.on_commit(partial(task.delay, a, b=c))` (arguments are "
            "still evaluated where they were), passing `using=` of the innermost "
            "atomic block (read from a project wrapper's arguments when it takes the "
            "alias). With `--style celery`, Celery calls become "
            "`task.delay_on_commit(...)` / `task.apply_async_on_commit(...)`. A send in a "
            "`try` whose handlers would catch its errors is deferred with the whole `try` "
            "statement, as a nested function, when the statement is nothing but the sends. "
            "The fix keeps everything but the moment the job is sent (proven by running "
            "original and fixed code under real Django); where that cannot be shown, the "
            "finding is reported as not fixable with the reason: its result is used or "
            "awaited, a handler would no longer see broker errors, an argument passed by "
            "reference is changed later in the block, the block's database cannot be "
            "repeated at the enqueue, a generator argument."
        ),
        fixable=True,
        options=(
            "enqueue-functions",
            "enqueue-methods",
            "atomic-wrappers",
            "safe-deferrers",
            "transactional-queues",
            "read-only-databases",
            "style",
        ),
        words=QUEUE_WORDS,
    )
)

_add(
    Rule(
        code="OC102",
        name="on-commit-called-enqueue",
        message=(
            "{call} runs now and on_commit() receives its result; the task is "
            "sent before commit and Django raises at run time - pass a callable: "
            "on_commit(partial({callee}, ...))"
        ),
        summary="on_commit() is given the result of an enqueue call instead of a callable.",
        why=(
            "`transaction.on_commit(task.delay(x))` calls `task.delay(x)` first, "
            "immediately, inside the transaction, and hands its return value (an "
            "AsyncResult, a Job, None) to on_commit. The task is already queued "
            "before commit, exactly the race on_commit was meant to prevent, and "
            "Django then raises TypeError because the value is not callable."
        ),
        bad="transaction.on_commit(send_receipt.delay(order.pk))\n",
        good="transaction.on_commit(partial(send_receipt.delay, order.pk))\n",
        fix=(
            "The call becomes a `partial` with the same arguments: "
            "`on_commit(partial(send_receipt.delay, order.pk))`. Keyword arguments "
            "of on_commit itself (`using=`, `robust=`) are kept."
        ),
        fixable=True,
        options=("enqueue-functions", "enqueue-methods"),
        words=("on_commit",),
    )
)

_add(
    Rule(
        code="OC103",
        name="on-commit-late-binding",
        message=(
            "on_commit() callback created in a loop reads {names}, which the loop "
            "rebinds; every callback sees the last value at commit - bind it now "
            "with partial()"
        ),
        summary="An on_commit callback in a loop reads the loop variable late.",
        why=(
            "A lambda or nested function looks its free variables up when it "
            "runs, at commit, not when it is registered. Registered in a loop, "
            "every callback reads the value of the last iteration: the last "
            "object is processed N times and the others never. Not reported when "
            "each iteration opens its own transaction around the callback and none "
            "is open around the loop in the function: that block commits, and runs "
            "the callback, before the next iteration."
        ),
        bad=("for order in orders:\n    transaction.on_commit(lambda: notify.delay(order.pk))\n"),
        good=(
            "for order in orders:\n    transaction.on_commit(lambda order=order: notify.delay(order.pk))\n"
        ),
        fix=(
            "Exactly the names the loop rebinds are bound at registration, every other "
            "read still happens at commit: a lambda gets them as default values "
            "(`lambda item=item: notify.delay(item.pk)`), a nested def passed by name "
            "as parameters bound with `partial`. A lambda with parameters of its own, "
            "or a def that is decorated, takes parameters or is used elsewhere, is "
            "reported as not fixable."
        ),
        fixable=True,
        words=("on_commit",),
    )
)

_add(
    Rule(
        code="OC104",
        name="on-commit-wrong-database",
        message=(
            "on_commit() registered on {registered} inside atomic(using={expected}); "
            "it fires on the wrong commit, or at once - pass using={expected}"
        ),
        summary="on_commit() is registered on another database than the enclosing atomic block.",
        why=(
            "on_commit() attaches the callback to one connection: the default "
            "database unless `using=` says otherwise. Inside "
            '`atomic(using="replica_writer")`, a callback on the default '
            "connection fires immediately when that connection has no "
            "transaction open, or on an unrelated commit, before the data it "
            "needs is committed."
        ),
        bad=(
            'with transaction.atomic(using="billing"):\n'
            '    invoice = Invoice.objects.using("billing").create(total=total)\n'
            "    transaction.on_commit(partial(email_invoice.delay, invoice.pk))\n"
        ),
        good=(
            'with transaction.atomic(using="billing"):\n'
            '    invoice = Invoice.objects.using("billing").create(total=total)\n'
            '    transaction.on_commit(partial(email_invoice.delay, invoice.pk), using="billing")\n'
        ),
        fix=(
            "`using=` of the innermost atomic block is added to the on_commit call "
            "or replaces the wrong one. Only reported when both sides are known "
            "(a literal, or the same expression text)."
        ),
        fixable=True,
        words=("on_commit",),
    )
)

_add(
    Rule(
        code="OC105",
        name="enqueue-through-helper",
        message=(
            "{call} enqueues a task before commit ({chain}); fix it inside the "
            "helper with transaction.on_commit()"
        ),
        summary="Inside an atomic block, a project function is called that enqueues a task.",
        why=(
            "The enqueue is not written in the atomic block, but a helper called "
            "there sends the task: the race is the same as OC101, one call away."
        ),
        bad=(
            "def notify(user):\n"
            "    send_welcome.delay(user.pk)\n"
            "\n"
            "@transaction.atomic\n"
            "def signup(form):\n"
            "    user = form.save()\n"
            "    notify(user)\n"
        ),
        good=("def notify(user):\n    transaction.on_commit(partial(send_welcome.delay, user.pk))\n"),
        fix=(
            "Not automatic: the message names the chain down to the enqueue; fix it there, inside the "
            "helper, with transaction.on_commit(). The chain follows the module's own functions, methods "
            "called through `self`/`cls`, receivers (`@receiver`, `signal.connect`) of the module's "
            "signals, and module-level functions imported from the project's other modules (through the "
            "project index, up to five calls deep). ORM calls that send Django model signals "
            "(`Order.objects.create()`, `order.save()`, `order.delete()`, `order.tags.add()`) are "
            "followed to the project's receivers for that model in any module, and to the model's own "
            "`save()`/`delete()`."
        ),
        fixable=False,
        options=("enqueue-functions", "enqueue-methods", "safe-deferrers"),
        words=(*QUEUE_WORDS, "send"),
    )
)

_add(
    Rule(
        code="OC106",
        name="enqueue-in-atomic-request",
        message=(
            "{call} enqueued in a view, inside {where}; a worker may run it "
            "before commit - defer it with transaction.on_commit()"
        ),
        summary="A view enqueues a task while ATOMIC_REQUESTS makes every request atomic.",
        why=(
            'With `DATABASES[alias]["ATOMIC_REQUESTS"] = True`, Django runs every '
            "view inside one transaction that commits after the response is "
            "built. A task enqueued in the view races that commit exactly as in "
            "OC101, although no atomic block is written in the code."
        ),
        bad=(
            "def signup(request):\n"
            '    user = User.objects.create(email=request.POST["email"])\n'
            "    send_welcome.delay(user.pk)\n"
        ),
        good=(
            "def signup(request):\n"
            '    user = User.objects.create(email=request.POST["email"])\n'
            "    transaction.on_commit(partial(send_welcome.delay, user.pk))\n"
        ),
        fix="As OC101. `@transaction.non_atomic_requests` on a view exempts it.",
        fixable=True,
        opt_in="atomic-requests",
        switched="`atomic-requests`, default `auto`: on when the settings turn ATOMIC_REQUESTS on",
        options=("atomic-requests",),
        words=QUEUE_WORDS,
    )
)

_add(
    Rule(
        code="OC107",
        name="top-level-atomic-requests",
        message=(
            "ATOMIC_REQUESTS set outside DATABASES is ignored by Django, so views are not atomic as "
            "intended; set it inside each DATABASES entry"
        ),
        summary="A settings module assigns ATOMIC_REQUESTS outside DATABASES, where Django ignores it.",
        why=(
            "Django reads ATOMIC_REQUESTS only from each `DATABASES` entry. A "
            "top-level `ATOMIC_REQUESTS = True` (or a class attribute of class-based "
            "settings) does nothing: the views the team "
            "believes atomic are not (or the reverse), so both the transaction "
            "guarantees and the reasoning about task races are wrong."
        ),
        bad='ATOMIC_REQUESTS = True\nDATABASES = {"default": {"ENGINE": "django.db.backends.postgresql"}}\n',
        good=(
            "DATABASES = {\n"
            '    "default": {"ENGINE": "django.db.backends.postgresql", "ATOMIC_REQUESTS": True},\n'
            "}\n"
        ),
        fix="Not automatic: decide what the project wants, then move the key into DATABASES.",
        fixable=False,
        words=("ATOMIC_REQUESTS",),
    )
)

_add(
    Rule(
        code="OC108",
        name="mail-in-atomic",
        message=(
            "{call} sends mail inside {where} before commit; if the transaction rolls back, the mail tells "
            "of data that never existed - defer it with transaction.on_commit()"
        ),
        summary="Mail is sent inside an atomic block, before the commit.",
        why=(
            "The mail leaves at once. If the transaction then rolls back (a later error, a failed "
            "constraint), the recipient was told of an order, an account or a password reset that "
            "does not exist; a link in it points at a row that is not there. Django's documentation "
            "gives an email notification as an example for on_commit()."
        ),
        bad=(
            "from django.core.mail import send_mail\n"
            "\n"
            "@transaction.atomic\n"
            "def register(form):\n"
            "    user = form.save()\n"
            '    send_mail("Welcome", render_welcome(user), None, [user.email])\n'
        ),
        good=(
            "from django.core.mail import send_mail\n"
            "\n"
            "@transaction.atomic\n"
            "def register(form):\n"
            "    user = form.save()\n"
            "    transaction.on_commit(\n"
            '        partial(send_mail, "Welcome", render_welcome(user), None, [user.email])\n'
            "    )\n"
        ),
        fix=(
            "As OC101: the call becomes `transaction.on_commit(partial(send_mail, ...))`, its "
            "arguments evaluated where they were, under the same behavioural contract (not "
            "fixable when its result is used, under a handler that would no longer see its "
            "errors, or when an argument is changed later). Off by default (`side-effects = "
            "mail`): measured on real projects, most mail sent in a transaction went through a "
            "backend that queues it (django-post-office, django-mailer) or told of committed data."
        ),
        fixable=True,
        **_side_effect((Effect.MAIL,), "off unless `side-effects` includes `mail`"),
    )
)

_add(
    Rule(
        code="OC109",
        name="cache-in-atomic",
        message=(
            "{call} changes the cache inside {where} before commit; a concurrent request can cache the "
            "old data again, and a rollback leaves it wrong - defer it with transaction.on_commit()"
        ),
        summary="Django's cache is invalidated (or written) inside an atomic block, before the commit.",
        why=(
            "`cache.delete(key)` inside the transaction: a concurrent request misses the cache, "
            "reads the old row (the new one is not committed yet) and caches it again; after the "
            "commit the cache serves stale data until it expires. On a rollback, a cache written "
            "in the block holds what never happened."
        ),
        bad=(
            "from django.core.cache import cache\n"
            "\n"
            "@transaction.atomic\n"
            "def rename(product, name):\n"
            "    product.name = name\n"
            "    product.save()\n"
            '    cache.delete(f"product:{product.pk}")\n'
        ),
        good=(
            "from django.core.cache import cache\n"
            "\n"
            "@transaction.atomic\n"
            "def rename(product, name):\n"
            "    product.name = name\n"
            "    product.save()\n"
            '    transaction.on_commit(partial(cache.delete, f"product:{product.pk}"))\n'
        ),
        fix=(
            "As OC101: `transaction.on_commit(partial(cache.delete, key))`. Invalidations "
            "(`delete`, `delete_many`, `clear`, `delete_pattern`, `incr_version`, `decr_version`) "
            "on `django.core.cache.cache` or `caches[...]` are reported by default; writes (`set`, "
            "`add`, `set_many`, `get_or_set`, `incr`, `decr`, `touch`) only with `side-effects = "
            "cache-writes`: on real code they were read-through fills and stamps written on purpose. "
            "Through a helper of this or another project module (up to three calls deep), the finding "
            "names the chain and the fix belongs in the helper."
        ),
        fixable=True,
        **_side_effect(
            (Effect.CACHE, Effect.CACHE_WRITES),
            "invalidations on by default, `side-effects = cache`; writes with `cache-writes`",
        ),
    )
)

_add(
    Rule(
        code="OC110",
        name="http-in-atomic",
        message=(
            "{call} sends an HTTP {method} inside {where}; the remote change stays if the transaction rolls "
            "back - move it after the commit (transaction.on_commit, or a task deferred with it)"
        ),
        summary="An outbound HTTP request that changes remote state is made inside an atomic block.",
        why=(
            "The remote service acts at once: it charges a card, creates an account, posts a "
            "message. If the transaction rolls back, the remote side keeps the change and the local "
            "database forgets it. The request also holds the transaction (and its locks) open while "
            "it waits."
        ),
        bad=(
            "@transaction.atomic\n"
            "def subscribe(user, plan):\n"
            "    sub = Subscription.objects.create(user=user, plan=plan)\n"
            '    requests.post(BILLING_URL, json={"user": user.pk, "plan": plan.code})\n'
        ),
        good=(
            "def subscribe(user, plan):\n"
            "    with transaction.atomic():\n"
            "        sub = Subscription.objects.create(user=user, plan=plan)\n"
            '    requests.post(BILLING_URL, json={"user": user.pk, "plan": plan.code})\n'
        ),
        fix=(
            "Not automatic: the response is usually used. Move the request after the block, or "
            "into a task sent with `transaction.on_commit()`. POST, PUT, PATCH and DELETE through "
            "`requests`/`httpx` (functions, sessions, clients) and `urlopen` with data are reported; "
            "GET/HEAD, a method chosen at run time and credential exchanges (token, login URLs, a "
            "`grant_type` body) are not. Off by default (`side-effects = http`)."
        ),
        fixable=False,
        **_side_effect((Effect.HTTP,), "off unless `side-effects` includes `http`"),
    )
)

_add(
    Rule(
        code="OC111",
        name="atomic-without-effect",
        message=(
            "transaction.atomic on {kind} {name}() only wraps creating it, so its body runs "
            "later, outside the transaction - fix it with `with transaction.atomic():` inside"
        ),
        summary="@transaction.atomic decorates an async def or a generator function, where it has no effect.",
        why=(
            "Calling an async def or a generator function only creates a coroutine or a "
            "generator; the decorator opens and commits the transaction around that, and "
            "the body runs later, when the coroutine is awaited or the generator iterated, "
            "outside any transaction. The writes the team believes atomic are not, and an "
            "enqueue inside is sent in autocommit mode (no race, but no atomicity either)."
        ),
        bad=(
            "@transaction.atomic\n"
            "def export_rows(queryset):\n"
            "    for row in queryset:\n"
            "        row.exported = True\n"
            "        row.save()\n"
            "        yield row\n"
        ),
        good=(
            "def export_rows(queryset):\n"
            "    with transaction.atomic():\n"
            "        rows = list(queryset)\n"
            "        for row in rows:\n"
            "            row.exported = True\n"
            "            row.save()\n"
            "    yield from rows\n"
        ),
        fix=(
            "Not automatic: decide where the transaction belongs. For a generator, open "
            "`with transaction.atomic():` inside it around the writes; for an async view, "
            "move the database work into a sync function decorated with `@transaction.atomic` "
            "and call it with `sync_to_async`."
        ),
        fixable=False,
        words=("async def", "yield"),
    )
)

#: The pseudo-code used for files that cannot be read or parsed.
PARSE_ERROR_CODE = "OC000"
#: The pseudo-code of an unused noqa code (``--report-unused-noqa``, ruff's RUF100).
UNUSED_NOQA_CODE = "OC100"

#: The project's home, and the rule reference in it (SARIF ``helpUri``, links on a terminal).
INFORMATION_URI = "https://github.com/flake8-oncommit/flake8-oncommit"
RULES_DOC_URL = f"{INFORMATION_URI}/blob/main/docs/rules.md"


def rule_url(code: str) -> str:
    """Where ``code`` is documented: its section of docs/rules.md."""
    return f"{RULES_DOC_URL}#{code.lower()}"


#: Every code is selected by default; opt-in rules also need their setting. The
#: bare prefix, so that any configured ``ignore`` (``OC1``) is more specific.
DEFAULT_SELECT: frozenset[str] = frozenset({"OC"})
