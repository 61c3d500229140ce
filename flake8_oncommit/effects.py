"""Side effects a rollback cannot undo, besides jobs: mail, cache invalidation, outbound HTTP.

Data, as :mod:`.queues` is for task libraries: what sends mail, what
invalidates or writes Django's cache, what changes remote state over HTTP.
The recogniser (:mod:`.side_effects`) reads these tables; the rules are
OC108 (mail), OC109 (cache) and OC110 (HTTP), each switched on by the
``side-effects`` setting (measured on real code: only cache invalidation
was precise enough to be on by default).
"""

from __future__ import annotations

from enum import Enum


class Effect(str, Enum):
    """A kind of side effect, as the ``side-effects`` setting names it."""

    MAIL = "mail"
    CACHE = "cache"
    CACHE_WRITES = "cache-writes"
    HTTP = "http"


#: What ``side-effects`` is when nothing says otherwise.
DEFAULT_EFFECTS = frozenset({Effect.CACHE})

_MAIL = ("django.core.mail", "django.core.mail.message")

#: Functions that send mail now.
MAIL_FUNCTIONS = frozenset(
    f"{module}.{name}"
    for module in ("django.core.mail",)
    for name in ("send_mail", "send_mass_mail", "mail_admins", "mail_managers")
)
#: Message classes whose instances' ``send()`` sends mail now.
MAIL_MESSAGE_CLASSES = frozenset(
    {f"{module}.{name}" for module in _MAIL for name in ("EmailMessage", "EmailMultiAlternatives")}
    | {
        "anymail.message.AnymailMessage",
        "templated_mail.mail.BaseEmailMessage",
        "djmail.template_mail.TemplateMail",
    }
)
#: Factories of mail connections, whose ``send_messages()`` sends now.
MAIL_CONNECTIONS = frozenset({"django.core.mail.get_connection"})

#: Django's cache: the default alias, and the registry ``caches[alias]``.
CACHE_OBJECTS = frozenset({"django.core.cache.cache"})
CACHE_REGISTRIES = frozenset({"django.core.cache.caches"})
#: Methods that invalidate: a concurrent reader may re-cache the old row before the commit.
CACHE_INVALIDATIONS = frozenset(
    {"delete", "delete_many", "clear", "delete_pattern", "incr_version", "decr_version"}
)
#: Methods that write (``cache-writes``): on a rollback the cache holds what never happened.
CACHE_WRITES = frozenset({"set", "set_many", "add", "get_or_set", "incr", "decr", "touch"})

#: HTTP clients: module functions and session/client classes, and the methods that change remote state.
HTTP_MODULES = frozenset({"requests", "httpx"})
HTTP_SESSIONS = frozenset(
    {"requests.Session", "requests.sessions.Session", "requests.session", "httpx.Client", "httpx.AsyncClient"}
)
HTTP_WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
#: ``urllib.request.urlopen(url, data)``: a POST when data is given.
URLOPEN = frozenset({"urllib.request.urlopen"})
#: A request that only fetches a credential (a token exchange, a login) changes nothing the rollback needs.
CREDENTIAL_HINTS = ("token", "oauth", "login", "signin", "sign_in", "sign-in", "/auth/")

#: What a file must mention for each kind (the pre-check).
WORDS: dict[Effect, tuple[str, ...]] = {
    Effect.MAIL: ("mail", "send_messages"),
    Effect.CACHE: ("cache",),
    Effect.CACHE_WRITES: ("cache",),
    Effect.HTTP: ("requests", "httpx", "urlopen"),
}

#: Top-level packages of these libraries: never the project's own.
PACKAGES = frozenset({"requests", "httpx", "urllib", "anymail", "templated_mail", "djmail"})
