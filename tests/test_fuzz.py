"""Property-based fuzzing: the checker never crashes, the fixer never breaks code.

A short run is part of the normal suite; ``pytest -m slow tests/test_fuzz.py``
runs the long one (see README, Development).
"""

from __future__ import annotations

import ast
import contextlib
import os
import sys

import hypothesmith
import libcst as cst
import pytest
from django_programs import django_module
from executable_programs import executable_module
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flake8_oncommit import Config, ParseError, check_source, fix_source
from flake8_oncommit.analysis import analyse

SHORT = int(os.environ.get("ONCOMMIT_FUZZ_EXAMPLES", "150"))
LONG = int(os.environ.get("ONCOMMIT_FUZZ_LONG_EXAMPLES", "3000"))
COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
}
#: The short runs in the normal suite are the same every time (no flaky CI);
#: the long runs (-m slow) explore freely.
SHORT_RUN = {**COMMON, "derandomize": True}
CONFIGS = [Config(), Config(style="celery"), Config(atomic_requests="true")]


def assert_fix_is_sound(source: str, config: Config) -> None:
    """The fixer's contract on one text: parses, rechecks clean, fixed point."""
    try:
        cst.parse_module(source)
    except (cst.ParserSyntaxError, RecursionError):
        return
    try:
        findings = check_source(source, config=config)
    except ParseError:
        return
    fixed = fix_source(source, config=config)
    cst.parse_module(fixed)
    try:
        ast.parse(source)
    except SyntaxError:
        pass
    else:
        compile(fixed, "<fuzz>", "exec", dont_inherit=True)
    assert not [f for f in check_source(fixed, config=config) if f.fixable]
    assert fix_source(fixed, config=config) == fixed
    if not any(f.fixable for f in findings):
        assert fixed == source


def assert_fix_behaves(source: str) -> None:
    """The differential property: the fixed program does what the original intended (oracle.py)."""
    from oracle import Program, compare, fix_with_intents

    fixed, intents = fix_with_intents(source, Config())
    if not intents:
        return
    differences = compare(Program(source, "generated"), fixed, intents)
    assert not differences, f"{source}\n--- fixed\n{fixed}\n" + "\n\n".join(str(d) for d in differences[:2])


def analyse_everything(source: str) -> None:
    """Run the analysis itself (past the text pre-check) on any parseable text."""
    try:
        module = cst.parse_module(source)
    except (cst.ParserSyntaxError, RecursionError):
        return
    for config in CONFIGS:
        with contextlib.suppress(RecursionError):
            analyse(module, config, atomic_requests=True)


@pytest.mark.heavy
@settings(max_examples=SHORT, **SHORT_RUN)
@given(django_module(), st.sampled_from(CONFIGS))
def test_django_shaped_programs(source: str, config: Config) -> None:
    compile(source, "<generated>", "exec", dont_inherit=True)  # the generator's own contract
    assert_fix_is_sound(source, config)


@pytest.mark.heavy
@settings(max_examples=SHORT, **SHORT_RUN)
@given(hypothesmith.from_grammar())
def test_grammar_generated_code_never_crashes(source: str) -> None:
    analyse_everything(source)
    assert_fix_is_sound(source, Config())


@pytest.mark.heavy
@settings(max_examples=max(SHORT // 3, 20), **SHORT_RUN)
@given(hypothesmith.from_node())
def test_node_generated_code_never_crashes(source: str) -> None:
    analyse_everything(source)
    assert_fix_is_sound(source, Config())


@pytest.mark.heavy
@pytest.mark.skipif(sys.version_info < (3, 11), reason="the oracle needs instruction positions (3.11+)")
@settings(max_examples=SHORT, **SHORT_RUN)
@given(executable_module())
def test_executable_programs_behave_as_intended(source: str) -> None:
    assert_fix_is_sound(source, Config())
    assert_fix_behaves(source)


@pytest.mark.slow
@pytest.mark.skipif(sys.version_info < (3, 11), reason="the oracle needs instruction positions (3.11+)")
@settings(max_examples=LONG, **COMMON)
@given(executable_module())
def test_executable_programs_behave_as_intended_long(source: str) -> None:
    assert_fix_is_sound(source, Config())
    assert_fix_behaves(source)


@pytest.mark.slow
@settings(max_examples=LONG, **COMMON)
@given(django_module(), st.sampled_from(CONFIGS))
def test_django_shaped_programs_long(source: str, config: Config) -> None:
    assert_fix_is_sound(source, config)


@pytest.mark.slow
@settings(max_examples=LONG, **COMMON)
@given(hypothesmith.from_grammar())
def test_grammar_generated_code_long(source: str) -> None:
    analyse_everything(source)
    assert_fix_is_sound(source, Config())


@pytest.mark.slow
@settings(max_examples=max(LONG // 3, 20), **COMMON)
@given(hypothesmith.from_node())
def test_node_generated_code_long(source: str) -> None:
    analyse_everything(source)
    assert_fix_is_sound(source, Config())
