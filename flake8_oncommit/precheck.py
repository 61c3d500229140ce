"""Cheap text tests that let most files skip the parse.

Parsing with libcst is the expensive step (about 8x ``ast.parse``). A file
can only hold a finding if it mentions an atomic block, an ``on_commit``
call or ``ATOMIC_REQUESTS`` (or, with atomic-requests on, a view), and a
word of an enabled rule (each rule in :mod:`.checks` names its words: the
queue libraries' send words, ``on_commit``, ``ATOMIC_REQUESTS``...).
Substring tests on the raw text answer that in microseconds; a false
"maybe" only costs a parse.
"""

from __future__ import annotations

import functools
import re
import sys
from typing import TYPE_CHECKING

from .config import Config, last_parts
from .libraries import NOT_PROJECT_PACKAGES
from .rules import RULES

if TYPE_CHECKING:
    from .index import ProjectIndex

#: Words present in any file where a transaction context can appear.
_CONTEXT_WORDS = ("atomic", "on_commit", "ATOMIC_REQUESTS")


def context_words(config: Config, wrappers: tuple[str, ...] = ()) -> tuple[str, ...]:
    """What code that opens or defers to a transaction mentions: ``atomic``, ``on_commit``,
    ``ATOMIC_REQUESTS``, the configured wrappers and deferrers, the project's ``wrappers``."""
    return _CONTEXT_WORDS + last_parts(config.atomic_wrappers | config.safe_deferrers) + wrappers


#: What every view has: a ``request`` first parameter (functions, handlers)
#: or a view base class.
_VIEW_HINT = re.compile(r"\(\s*(?:self\s*,\s*)?request\b|View|Controller|rest_framework|ninja")


#: What every admin class's module says (``admin.ModelAdmin``, ``BaseAdmin``).
_ADMIN_HINT = "Admin"


#: ``from x.y import``, ``from . import``, ``import x.y``: the imported module.
_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+(\.+[\w.]*|[\w.]+)[ \t]+import\b|import[ \t]+([\w.]+))", re.MULTILINE
)
_LIBRARIES = NOT_PROJECT_PACKAGES | frozenset(getattr(sys, "stdlib_module_names", ()))


#: A method with an empty body (``pass``, ``...``, ``raise NotImplementedError``, a bare
#: ``return``, a docstring first): a hook, which subclasses anywhere may override.
_HOOK = re.compile(
    r"^[ \t]+def[ \t]+\w+\(\s*self\b[^)]*\)[^:\n]*:[ \t]*(?:#[^\n]*)?\n"
    r"(?:[ \t]*(?:\"\"\"[\s\S]*?\"\"\"|'\'\'[\s\S]*?'\'\')[ \t]*\n)?"
    r"[ \t]*(?:pass\b|\.\.\.|raise[ \t]+NotImplementedError\b|return(?:[ \t]+None)?[ \t]*$)"
    r"|^[ \t]+def[ \t]+\w+\(\s*self\b[^)]*\)[^:\n]*:[ \t]*(?:pass|\.\.\.)[ \t]*$",
    re.MULTILINE,
)


def defines_a_hook(text: str) -> bool:
    """Whether ``text`` defines a method with an empty body: a block that calls it through
    ``self`` may run an override in another module (OC105), with no word of its own."""
    return _HOOK.search(text) is not None


def imports_from_the_project(text: str) -> bool:
    """Whether ``text`` imports a module that is neither a known library nor stdlib.

    Such a module may hold a helper that enqueues (OC105 across modules),
    so a file that opens a transaction and calls it needs no enqueue word.
    """
    for match in _IMPORT.finditer(text):
        module = match.group(1) or match.group(2)
        if module.startswith(".") or module.split(".", 1)[0] not in _LIBRARIES:
            return True
    return False


def could_have_findings(
    text: str,
    config: Config,
    wrappers: tuple[str, ...] = (),
    *,
    project: bool = False,
    words: tuple[str, ...] | None = None,
) -> bool:
    """False only when ``text`` certainly holds no finding under ``config``.

    ``words`` are the enabled rules' own (:func:`rule_words`, the default):
    a file must mention one. ``wrappers`` are the names of the project's own
    atomic wrappers (from the project index): a file using one needs no
    ``atomic`` of its own. With ``project`` (a project index is at hand), a
    file that imports from the project may call its helpers inside a block
    (OC105), with no word of its own.
    """
    if words is None:
        words = rule_words(config)
    words_of_context = context_words(config, wrappers)
    # Under ATOMIC_REQUESTS any view runs inside the request's transaction.
    in_view = config.atomic_requests != "false" and _VIEW_HINT.search(text) is not None
    # Django's admin runs ``save_model`` and its kin in a transaction of its own.
    in_admin = _ADMIN_HINT in text
    if not in_view and not in_admin and not any(word in text for word in words_of_context):
        return False
    if any(word in text for word in words):
        return True
    return project and config.selects("OC105") and (imports_from_the_project(text) or defines_a_hook(text))


def rule_words(config: Config) -> tuple[str, ...]:
    """What a file must mention (besides a transaction) for a rule ``config`` enables to find anything.

    The rules' own words (their catalogue entries), and what ``config`` adds:
    its enqueue functions and methods name sends too.
    """
    return _rule_words(config)


@functools.lru_cache(maxsize=32)
def _rule_words(config: Config) -> tuple[str, ...]:
    # A configuration is frozen: computed once for each.
    found = [word for code, rule in RULES.items() if config.enables(code) for word in rule.words]
    if any(config.enables(code) for code in ("OC101", "OC105", "OC106")):
        found += [name.rsplit(".", 1)[-1] for name in config.enqueue_functions if name]
        found += list(config.enqueue_methods)
    return tuple(dict.fromkeys(found))


def passes_precheck(text: str, config: Config, index: ProjectIndex | None) -> bool:
    """The pre-check with the enabled rules' words, asking for the project's wrapper names only
    when they decide.

    Wrapper names only add words, so a file that passes without them passes
    with them: most files never need the (project-wide) list.
    """
    words = rule_words(config)
    project = index is not None
    if could_have_findings(text, config, project=project, words=words):
        return True
    if index is None:
        return False
    wrappers = index.wrapper_names()
    return bool(wrappers) and could_have_findings(text, config, wrappers, project=project, words=words)
