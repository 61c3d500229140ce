"""Which calls send mail, invalidate or write Django's cache, or change remote state over HTTP.

The tables are :mod:`.effects`; receivers count only when the import table
resolves them to the library (``django.core.cache.cache``, ``caches[...]``,
an ``EmailMessage``, a ``requests.Session``): a ``.send()`` or ``.delete()``
on anything else is not one (Django's session, a queryset, the test client).
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from . import effects as fx
from .effects import Effect
from .names import Binding, Marker
from .resolution import Resolver, argument, string_value

MAIL_MESSAGE = Marker("mail-message")
MAIL_CONNECTION = Marker("mail-connection")
CACHE = Marker("cache")
HTTP_SESSION = Marker("http-session")
#: a request body that asks for a token (``{"grant_type": ...}``)
CREDENTIAL_BODY = Marker("credential-body")


@dataclass(frozen=True)
class SideEffect:
    """A call with an effect a rollback cannot undo."""

    kind: Effect
    #: the HTTP method, for messages
    method: str = ""


class EffectRecognizer(Resolver):
    """Mail, cache and HTTP calls, and what assigning their objects makes a name mean."""

    def effect_marker(self, node: cst.BaseExpression) -> Marker | None:
        """What a value is: ``msg = EmailMessage(...)``, ``c = caches["x"]``, ``s = requests.Session()``."""
        if isinstance(node, cst.Dict):
            return CREDENTIAL_BODY if _asks_for_a_token(node) else None
        if isinstance(node, cst.Subscript):
            return CACHE if self.qualified(node.value) in fx.CACHE_REGISTRIES else None
        if not isinstance(node, cst.Call):
            return None
        callee = self.qualified(node.func)
        if callee in fx.MAIL_MESSAGE_CLASSES:
            return MAIL_MESSAGE
        if callee in fx.MAIL_CONNECTIONS:
            return MAIL_CONNECTION
        if callee in fx.HTTP_SESSIONS:
            return HTTP_SESSION
        return None

    def effect_of(self, call: cst.Call) -> SideEffect | None:
        """The side effect ``call`` has now, or None."""
        func = call.func
        callee = self.qualified(func)
        if callee is not None:
            if callee in fx.MAIL_FUNCTIONS:
                return SideEffect(Effect.MAIL)
            if callee in fx.URLOPEN:
                return SideEffect(Effect.HTTP, "POST") if _urlopen_sends_data(call) else None
            module, _, name = callee.rpartition(".")
            if module in fx.HTTP_MODULES:
                return self._http(call, name)
        if isinstance(func, cst.Attribute):
            return self._method_effect(call, func)
        return None

    def _method_effect(self, call: cst.Call, func: cst.Attribute) -> SideEffect | None:
        method = func.attr.value
        node = func.value
        receiver = self.resolve(node)
        if method == "send" and self._is(node, receiver, MAIL_MESSAGE):
            return SideEffect(Effect.MAIL)
        if method == "send_messages" and self._is(node, receiver, MAIL_CONNECTION):
            return SideEffect(Effect.MAIL)
        if (method in fx.CACHE_INVALIDATIONS or method in fx.CACHE_WRITES) and self._is_cache(node, receiver):
            return SideEffect(Effect.CACHE if method in fx.CACHE_INVALIDATIONS else Effect.CACHE_WRITES)
        if self._is(node, receiver, HTTP_SESSION):
            return self._http(call, method)
        return None

    def _is_cache(self, node: cst.BaseExpression, receiver: Binding | None) -> bool:
        return (isinstance(receiver, str) and receiver in fx.CACHE_OBJECTS) or self._is(node, receiver, CACHE)

    def _is(self, node: cst.BaseExpression, receiver: Binding | None, marker: Marker) -> bool:
        return receiver == marker or self.effect_marker(node) == marker

    def _http(self, call: cst.Call, name: str) -> SideEffect | None:
        """``requests.post(...)``, ``session.delete(...)``, ``requests.request("PUT", ...)``."""
        if name == "request":
            method_arg = call.args[0].value if call.args and call.args[0].keyword is None else None
            method = string_value(method_arg) if method_arg is not None else None
            if method is None:
                return None  # a method chosen at run time: cannot tell
            name = method.lower()
            url_arg = argument(call, "url", 1)
        else:
            url_arg = argument(call, "url", 0)
        url = url_arg.value if url_arg is not None else None
        if name not in fx.HTTP_WRITE_METHODS or self._fetches_a_credential(call, url):
            return None
        return SideEffect(Effect.HTTP, name.upper())

    def _fetches_a_credential(self, call: cst.Call, url: cst.BaseExpression | None) -> bool:
        """A token exchange or a login: its URL says so, or its body has a ``grant_type``.

        The URL may be a constant (``settings.OAUTH_TOKEN_URL``), a name
        assigned one, or the first argument of a URL builder; the body a dict
        or a name assigned one.
        """
        if url is not None and any(hint in self._url_text(url) for hint in fx.CREDENTIAL_HINTS):
            return True
        for arg in call.args:
            if arg.keyword is None or arg.keyword.value not in ("data", "json"):
                continue
            body = arg.value
            if isinstance(body, cst.Dict) and _asks_for_a_token(body):
                return True
            if isinstance(body, cst.Name) and self.resolve(body) == CREDENTIAL_BODY:
                return True
        return False

    def _url_text(self, node: cst.BaseExpression) -> str:
        """What a URL expression says about itself, lower case: its literal text, the constant's name,
        or those of a URL builder's arguments."""
        if isinstance(node, (cst.Name, cst.Attribute)):
            # The constant's own name, not its module's (``auth.tokens.CREATE_URL`` is no token URL).
            own = node.value if isinstance(node, cst.Name) else node.attr.value
            found = self.resolve(node)
            value = found.rpartition(".")[2] if isinstance(found, str) else ""
            return f"{own} {value}".lower()
        if isinstance(node, cst.Call):
            # A URL builder: ``urljoin(BASE, "auth/sign_in")``, ``add_params(TOKEN_URL, {...})``.
            return " ".join(self._url_text(arg.value) for arg in node.args if arg.keyword is None)
        return _literal_text(node).lower()


def _asks_for_a_token(body: cst.Dict) -> bool:
    keys = {string_value(element.key) for element in body.elements if isinstance(element, cst.DictElement)}
    return "grant_type" in keys


def _literal_text(node: cst.BaseExpression) -> str:
    """The literal parts of a string or f-string (``f"{base}/oauth/token"`` -> ``/oauth/token``)."""
    value = string_value(node)
    if value is not None:
        return value
    if isinstance(node, cst.FormattedString):
        return "".join(part.value for part in node.parts if isinstance(part, cst.FormattedStringText))
    if isinstance(node, cst.BinaryOperation):
        return _literal_text(node.left) + _literal_text(node.right)
    return ""


def _urlopen_sends_data(call: cst.Call) -> bool:
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    if len(positional) >= 2:
        return not (isinstance(positional[1].value, cst.Name) and positional[1].value.value == "None")
    return any(arg.keyword is not None and arg.keyword.value == "data" for arg in call.args)
