"""The slice (:mod:`flake8_oncommit.slicing`) never hides a finding the whole text has.

The engine analyses a copy of each file with the bodies of functions that
cannot matter blanked, and the whole file only when the copy has a finding.
Every fixture is checked both ways, under the default rules and under every
rule with every side effect, with and without the project index.
"""

from __future__ import annotations

import dataclasses

import pytest
from fixture_format import FIXTURES as FIXTURES_ROOT
from fixture_format import Fixture, all_fixtures

from flake8_oncommit import engine
from flake8_oncommit.config import Config, config_from_mapping
from flake8_oncommit.slicing import sliced

FIXTURES = all_fixtures()

_EVERYTHING = {"select": ["OC1"], "side-effects": ["mail", "cache", "http"]}


def _findings(fixture: Fixture, config: Config, *, project: bool, slicing: bool, monkeypatch) -> list[tuple]:
    with monkeypatch.context() as patch:
        if not slicing:
            patch.setattr(engine, "sliced", lambda *args: None)
        index = None
        if project:
            index = engine.project_index(FIXTURES_ROOT, config)
            index.wrapper_names()  # known, as the CLI and the plugin make them: the slice may use them
        result = engine.check_text(fixture.text, config, filename=str(fixture.path), index=index)
    return [(f.line, f.column, f.code, f.message, f.fixable) for f in result.findings]


@pytest.mark.parametrize("everything", [False, True], ids=["default", "every-rule"])
@pytest.mark.parametrize("fixture", FIXTURES, ids=[fixture.name for fixture in FIXTURES])
def test_the_slice_finds_what_the_whole_text_does(fixture: Fixture, everything: bool, monkeypatch) -> None:
    # Views under ATOMIC_REQUESTS are never sliced: compare where the slice is used.
    settings = {"atomic-requests": "false", **(_EVERYTHING if everything else {})}
    config = config_from_mapping({**fixture.config, **settings}, fixture.name)
    for project in (False, True):
        whole = _findings(fixture, config, project=project, slicing=False, monkeypatch=monkeypatch)
        assert _findings(fixture, config, project=project, slicing=True, monkeypatch=monkeypatch) == whole


_MODULE = '''\
"""Orders."""
from django.db import transaction

from shop.tasks import send_receipt


def untouched(order):
    """No transaction here."""
    total = sum(line.price for line in order.lines)
    return total


@transaction.atomic
def place(order):
    order.save()
    notify(order)


def notify(order):
    relay(order)


def relay(order):
    send_receipt.delay(order.pk)


class Service:
    def __init__(self, order):
        self.order = order

    def idle(self):
        return self.order.pk

    def run(self):
        with transaction.atomic():
            self.order.save()
'''


def test_functions_without_a_transaction_are_blanked_in_place() -> None:
    config = dataclasses.replace(Config(), select=frozenset({"OC101"}), atomic_requests="false")
    part = sliced(_MODULE, config)
    assert part is not None
    lines, original = part.splitlines(), _MODULE.splitlines()
    assert len(lines) == len(original)
    kept = [number for number, (new, old) in enumerate(zip(lines, original), 1) if new == old]
    assert "    ..." in lines and "    total = sum(line.price for line in order.lines)" not in lines
    # Signatures, decorators, blocks and __init__ stay, each on its own line.
    for text in (
        "def untouched(order):",
        "@transaction.atomic",
        "    order.save()",
        "        self.order = order",
    ):
        assert original.index(text) + 1 in kept
    # The lexical rules follow no call: the helpers lose their bodies.
    assert "    send_receipt.delay(order.pk)" not in lines
    assert "        return self.order.pk" not in lines


def test_rules_that_follow_calls_keep_what_a_block_calls() -> None:
    config = dataclasses.replace(Config(), select=frozenset({"OC105"}), atomic_requests="false")
    part = sliced(_MODULE, config)
    assert part is not None
    # place() names notify(), which names relay(): both kept; idle() is named by nobody.
    assert "    relay(order)" in part and "    send_receipt.delay(order.pk)" in part
    assert "        return self.order.pk" not in part


def test_a_finding_is_reported_from_the_whole_text() -> None:
    """The slice only decides "no finding": a finding comes with the whole module's tree."""
    config = dataclasses.replace(Config(), select=frozenset({"OC105"}), atomic_requests="false")
    result = engine.check_text(_MODULE, config)
    assert [finding.code for finding in result.findings] == ["OC105"]
    assert result.analysis is not None and result.analysis.module.code == _MODULE


def test_no_finding_means_no_tree_of_the_whole_text() -> None:
    """A result from the slice carries no analysis: nothing parsed the whole text (the fixer's
    verification then parses it itself)."""
    config = dataclasses.replace(Config(), select=frozenset({"OC101"}), atomic_requests="false")
    result = engine.check_text(_MODULE, config)
    assert result.findings == [] and result.analysis is None and result.text == _MODULE


@pytest.mark.parametrize(
    "text",
    [
        "def f(): return 1\n",  # the body shares the def's line
        "def f(x):\n    global COUNT\n    COUNT = x\n",  # rebinds a module name
        "async with x:\n    pass\n",  # not a module this interpreter's ast reads: libcst decides
        "x = 1\n",  # no function at all
    ],
)
def test_nothing_to_blank(text: str) -> None:
    assert sliced(text, dataclasses.replace(Config(), atomic_requests="false")) is None


def test_line_numbers_are_pythons_not_splitlines() -> None:
    """A form feed (a page break in old modules) or CRLF endings do not shift lines."""
    text = "import x\n\x0c\ndef a():\r\n    return 1\r\n\r\ndef b():\n    with x.atomic():\n        pass\n"
    part = sliced(text, dataclasses.replace(Config(), atomic_requests="false"))
    assert part == "import x\n\x0c\ndef a():\r\n    ...\r\n\r\ndef b():\n    with x.atomic():\n        pass\n"


def test_views_under_atomic_requests_are_not_sliced() -> None:
    config = dataclasses.replace(Config(), atomic_requests="true")
    assert sliced(_MODULE, config) is None


_SIGNALS = """\
from django.apps import AppConfig
from django.db import models, transaction
from django.db.models.signals import post_save

from shop.tasks import sync


class Order(models.Model):
    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        sync.delay(self.pk)


class Shipment(models.Model):
    def label(self):
        return f"shipment {self.pk}"


def on_shipment(sender, instance, **kwargs):
    sync.delay(instance.pk)


class ShopConfig(AppConfig):
    def ready(self):
        post_save.connect(on_shipment, sender=Shipment)


def place():
    with transaction.atomic():
        Order.objects.create()
        Shipment.objects.create()
"""


def test_what_django_runs_unnamed_is_kept_when_calls_are_followed(tmp_path, monkeypatch) -> None:
    """``Order.objects.create()`` runs ``save()``; ``ready()`` connects a receiver by name."""
    package = tmp_path / "shop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "tasks.py").write_text(
        "from celery import shared_task\n\n\n@shared_task\ndef sync(pk):\n    pass\n"
    )
    module = package / "models.py"
    module.write_text(_SIGNALS)
    config = dataclasses.replace(Config(), atomic_requests="false")
    part = sliced(_SIGNALS, config)
    assert part is not None and 'return f"shipment {self.pk}"' not in part
    assert "        sync.delay(self.pk)" in part and "    sync.delay(instance.pk)" in part

    def findings(slicing: bool) -> list[tuple[int, str]]:
        with monkeypatch.context() as patch:
            if not slicing:
                patch.setattr(engine, "sliced", lambda *args: None)
            index = engine.project_index(tmp_path, config)
            index.wrapper_names()
            result = engine.check_text(_SIGNALS, config, filename=str(module), index=index)
        return [(finding.line, finding.code) for finding in result.findings]

    assert findings(True) == findings(False) == [(30, "OC105"), (31, "OC105")]
