"""The text pre-check: skips what cannot hold a finding, never what can."""

from __future__ import annotations

import pytest
from fixture_format import all_fixtures

from flake8_oncommit.config import Config, config_from_mapping
from flake8_oncommit.precheck import could_have_findings

ON = Config(atomic_requests="true")
WRAPPER = frozenset({"db.atomic_write"})


@pytest.mark.parametrize(
    ("text", "config", "expected"),
    [
        ("def price(a, b):\n    return a * b\n", Config(), False),
        ("from django.db import transaction\n", Config(), False),  # nothing can be sent
        ("@transaction.atomic\ndef f():\n    t.delay()\n", Config(), True),
        ("transaction.on_commit(f())\n", Config(), True),
        ("ATOMIC_REQUESTS = True\n", Config(), True),
        ("def helper(x):\n    t.delay(x)\n", Config(), False),
        ("def helper(x):\n    t.delay(x)\n", ON, False),  # not a view
        ("def signup(request):\n    t.delay(1)\n", ON, True),
        ("def post(self, request, pk):\n    t.delay(pk)\n", ON, True),
        ("class V(CreateView):\n    def form_valid(self, form):\n        t.delay(1)\n", ON, True),
        ("with atomic_write():\n    t.delay()\n", Config(atomic_wrappers=WRAPPER), True),
        # Django's admin runs save_model in its own transaction, whatever ATOMIC_REQUESTS says.
        (
            "class A(admin.ModelAdmin):\n    def save_model(self, request, obj, form, change):\n"
            "        t.delay(obj.pk)\n",
            Config(atomic_requests="false"),
            True,
        ),
        ("with atomic_write():\n    offload()\n", Config(enqueue_functions=frozenset({"x.offload"})), True),
    ],
)
def test_precheck(text: str, config: Config, expected: bool) -> None:
    assert could_have_findings(text, config) is expected


@pytest.mark.parametrize("fixture", [f for f in all_fixtures() if f.expectations], ids=lambda f: f.name)
def test_precheck_lets_every_fixture_with_findings_through(fixture) -> None:  # type: ignore[no-untyped-def]
    # A fixture in a package is checked with the project index, as in a project.
    project = "/" in fixture.name
    config = config_from_mapping(fixture.config, fixture.name)
    assert could_have_findings(fixture.text, config, project=project)


HELPER_CALLER = (
    "from django.db import transaction\n{imports}\n\n@transaction.atomic\ndef f(x):\n    helper(x)\n"
)


@pytest.mark.parametrize(
    ("imports", "with_index", "expected"),
    [
        ("from shop.notify import helper", True, True),  # may enqueue through the helper (OC105)
        ("from .notify import helper", True, True),
        ("import shop.notify as helper", True, True),
        ("from shop.notify import helper", False, False),  # no index: nothing to follow
        ("from django.utils import timezone as helper", True, False),  # libraries only
        ("from os.path import join as helper", True, False),
    ],
)
def test_precheck_lets_project_helper_callers_through_with_an_index(
    imports: str, with_index: bool, expected: bool
) -> None:
    text = HELPER_CALLER.format(imports=imports)
    assert could_have_findings(text, Config(), project=with_index) is expected


def test_every_rule_names_its_words() -> None:
    """A rule without pre-check words would never see a file (the pre-check needs one of them)."""
    from flake8_oncommit.rules import RULES

    assert [code for code, rule in RULES.items() if not rule.words] == []


def test_a_side_effect_rule_needs_its_kind_for_its_words() -> None:
    from flake8_oncommit.precheck import rule_words

    assert "httpx" not in rule_words(Config())
    assert "httpx" in rule_words(Config(side_effects=frozenset({"http"})))
