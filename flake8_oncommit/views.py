"""What runs inside a request when ATOMIC_REQUESTS is on, found without importing Django.

A view is a function whose first parameter is ``request`` in a views
module or under a view/route decorator, or a method of a class deriving
from a Django, DRF or django-ninja view class: its HTTP handlers,
``dispatch``, ``form_valid``, DRF's ``perform_*``/``create``/``update``...,
``@action`` methods, and the helpers of the same class those call through
``self``.
"""

from __future__ import annotations

import re
from pathlib import PurePath

import libcst as cst

from .names import dotted_name
from .resolution import Resolver
from .walk import block_body, iter_descendants

#: Module names (the file's stem) that hold views.
_VIEW_MODULE = re.compile(r"^(views?|viewsets|api|apis|endpoints|.*_views?|views_.*)$")
#: Package directories that hold views.
_VIEW_PACKAGES = frozenset({"views", "viewsets", "api", "apis", "endpoints"})

#: Decorators that only go on views (last component of the name).
_VIEW_DECORATORS = frozenset(
    {
        "api_view",
        "action",
        "list_route",
        "detail_route",
        "require_http_methods",
        "require_POST",
        "require_GET",
        "require_safe",
        "login_required",
        "permission_required",
        "staff_member_required",
        "user_passes_test",
        "csrf_exempt",
        "csrf_protect",
        "ensure_csrf_cookie",
        "never_cache",
        "cache_page",
        "vary_on_headers",
        "vary_on_cookie",
        "xframe_options_exempt",
        "sensitive_post_parameters",
        "permission_classes",
        "throttle_classes",
        "authentication_classes",
    }
)
#: ``@router.get(...)`` (django-ninja), ``@route.post(...)`` (ninja-extra).
_ROUTE_METHODS = frozenset({"get", "post", "put", "patch", "delete", "api_operation", "generic"})
_ROUTE_RECEIVER = re.compile(r"(router|route|api|app)$", re.IGNORECASE)

#: Base classes that make a class a view.
_VIEW_BASE_MODULES = (
    "django.views.",
    "django.contrib.auth.views.",
    "rest_framework.views.",
    "rest_framework.viewsets.",
    "rest_framework.generics.",
    "ninja_extra.",
)
_VIEW_BASE_NAME = re.compile(r"(View|ViewSet|Viewset|APIView)$")

#: Django admin runs these inside ``transaction.atomic`` itself (its
#: add/change and delete views), ATOMIC_REQUESTS or not.
ADMIN_BASES = frozenset(
    {
        "django.contrib.admin.ModelAdmin",
        "django.contrib.admin.options.ModelAdmin",
        "django.contrib.gis.admin.GISModelAdmin",
        "django.contrib.gis.admin.OSMGeoAdmin",
    }
)
ADMIN_ATOMIC_METHODS = frozenset(
    {
        "save_model",
        "save_related",
        "save_formset",
        "delete_model",
        "response_add",
        "response_change",
        "response_delete",
        "log_addition",
        "log_change",
        "log_deletion",
    }
)

#: Methods Django, DRF and ninja-extra call while handling a request: the
#: handlers, and the hooks the generic views call from them (a redirect view
#: that enqueues in ``get_redirect_url`` does so inside the request's
#: transaction).
ENTRY_METHODS = frozenset(
    {
        "get",
        "post",
        "put",
        "patch",
        "delete",
        "head",
        "options",
        "trace",
        "dispatch",
        "form_valid",
        "form_invalid",
        "formset_valid",
        "post_save",
        "perform_create",
        "perform_update",
        "perform_destroy",
        "create",
        "update",
        "partial_update",
        "destroy",
        "list",
        "retrieve",
        "delete_object",
        # Hooks Django's generic views call from their handlers.
        "get_redirect_url",
        "get_success_url",
        "get_context_data",
        "get_form",
        "get_form_kwargs",
        "get_initial",
        "get_object",
        "get_queryset",
        "get_template_names",
        "render_to_response",
        # Hooks DRF's APIView/GenericAPIView call around every handler.
        "initial",
        "finalize_response",
        "handle_exception",
        "get_serializer",
        "get_serializer_context",
        "filter_queryset",
        "paginate_queryset",
    }
)


def is_view_module(filename: str) -> bool:
    path = PurePath(filename)
    if _VIEW_MODULE.match(path.stem):
        return True
    return any(part in _VIEW_PACKAGES for part in path.parts[:-1])


def is_view_decorator(decorator: cst.BaseExpression) -> bool:
    target = decorator.func if isinstance(decorator, cst.Call) else decorator
    name = dotted_name(target)
    if name is None:
        return False
    last = name.rsplit(".", 1)[-1]
    if last in _VIEW_DECORATORS:
        return True
    if isinstance(target, cst.Attribute) and last in _ROUTE_METHODS:
        receiver = dotted_name(target.value) or ""
        return bool(_ROUTE_RECEIVER.search(receiver.rsplit(".", 1)[-1]))
    return False


def takes_request_first(node: cst.FunctionDef, *, method: bool) -> bool:
    params = [*node.params.posonly_params, *node.params.params]
    index = 1 if method else 0
    return len(params) > index and params[index].name.value == "request"


def is_function_view(recognizer: Resolver, node: cst.FunctionDef, filename: str) -> bool:
    if not takes_request_first(node, method=False):
        return False
    if is_view_module(filename):
        return True
    return any(is_view_decorator(d.decorator) for d in node.decorators)


def is_view_class(
    recognizer: Resolver,
    node: cst.ClassDef,
    known: frozenset[str] = frozenset(),
    *,
    other_modules: bool = False,
) -> bool:
    """A class deriving from a Django/DRF/ninja view, or from a view class of this module.

    With ``other_modules``, also from a view class the project index finds in
    another module of the project (``class Endpoint(APIView)`` in a base
    module, subclassed in every app): that costs a summary of the module, so
    only OC106 asks.
    """
    for base in node.bases:
        if isinstance(base.value, cst.Name) and base.value.value in known:
            return True
        qualified = recognizer.qualified(base.value)
        if qualified is None:
            continue
        last = qualified.rsplit(".", 1)[-1]
        if "Test" in last:
            continue  # APITestCase and friends
        if qualified.startswith(_VIEW_BASE_MODULES) and last[:1].isupper():
            return True
        if _VIEW_BASE_NAME.search(last):
            return True
        if other_modules and recognizer.project_view_class(qualified):
            return True
    return False


def is_admin_class(recognizer: Resolver, node: cst.ClassDef, known: frozenset[str] = frozenset()) -> bool:
    for base in node.bases:
        if isinstance(base.value, cst.Name) and base.value.value in known:
            return True
        if recognizer.qualified(base.value) in ADMIN_BASES:
            return True
    return False


def admin_actions(recognizer: Resolver, node: cst.ClassDef) -> set[str]:
    """A ModelAdmin's action methods: decorated ``@admin.action`` or named in ``actions = [...]``."""
    found: set[str] = set()
    for statement in block_body(node):
        if isinstance(statement, cst.FunctionDef):
            for decorator in statement.decorators:
                target = (
                    decorator.decorator.func
                    if isinstance(decorator.decorator, cst.Call)
                    else decorator.decorator
                )
                if recognizer.qualified(target) in _ADMIN_ACTION:
                    found.add(statement.name.value)
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if (
                    isinstance(small, cst.Assign)
                    and any(
                        isinstance(t.target, cst.Name) and t.target.value == "actions" for t in small.targets
                    )
                    and isinstance(small.value, (cst.List, cst.Tuple))
                ):
                    for element in small.value.elements:
                        value = element.value
                        if isinstance(value, cst.SimpleString) and isinstance(value.evaluated_value, str):
                            found.add(value.evaluated_value)
                        elif isinstance(value, cst.Name):
                            found.add(value.value)
    return found


_ADMIN_ACTION = frozenset({"django.contrib.admin.action", "django.contrib.admin.decorators.action"})


def methods_reached(node: cst.ClassDef, entries: set[str]) -> frozenset[str]:
    """``entries`` and, transitively, the methods they call as ``self.name(...)``."""
    body = block_body(node)
    methods = {item.name.value: item for item in body if isinstance(item, cst.FunctionDef)}
    covered = {name for name in entries if name in methods}
    pending = list(covered)
    while pending:
        method = methods[pending.pop()]
        for child in iter_descendants(method.body, into_scopes=False):
            if (
                isinstance(child, cst.Call)
                and isinstance(child.func, cst.Attribute)
                and isinstance(child.func.value, cst.Name)
                and child.func.value.value == "self"
            ):
                callee = child.func.attr.value
                if callee in methods and callee not in covered:
                    covered.add(callee)
                    pending.append(callee)
    return frozenset(covered)


def request_methods(recognizer: Resolver, node: cst.ClassDef) -> frozenset[str]:
    """Methods of a view class that run inside the request's transaction.

    The entry points Django/DRF call, methods carrying a view or route
    decorator, and, transitively, the methods they call as ``self.name(...)``.
    """
    body = block_body(node)
    entries = {
        statement.name.value
        for statement in body
        if isinstance(statement, cst.FunctionDef)
        and (
            statement.name.value in ENTRY_METHODS
            or any(is_view_decorator(d.decorator) for d in statement.decorators)
        )
    }
    return methods_reached(node, entries)
