"""A rule's documentation from the catalogue: ``oncommit-fix --explain OC101`` and docs/rules.md.

Both read :data:`.rules.RULES` through :func:`rule_section`, so the
terminal and the generated reference say the same thing (as ``ruff rule``
and ruff's docs do).
"""

from __future__ import annotations

from .config import KEYS
from .rules import PARSE_ERROR_CODE, RULES, UNUSED_NOQA_CODE, rule_url

#: What an example message is filled with.
_EXAMPLE = {
    "call": "send_email.delay()",
    "callee": "send_email.delay",
    "names": "order",
    "registered": '"default"',
    "expected": '"billing"',
    "chain": "notify() at line 4 -> send_email.delay() at line 5",
    "where": "transaction.atomic() opened at line 12",
    "kind": "an async def",
    "name": "renew",
    "method": "POST",
}

PSEUDO_CODES = {
    PARSE_ERROR_CODE: [
        f"`{PARSE_ERROR_CODE} cannot parse: ...` / `cannot read: ...` is not a rule: `oncommit-fix`",
        "reports a file it could not decode or parse, and goes on with the others. Only files that",
        'mention what the rules look for are parsed at all (see README, "What gets parsed").',
    ],
    UNUSED_NOQA_CODE: [
        f"`{UNUSED_NOQA_CODE} unused noqa: ...` is not a rule either: `oncommit-fix --report-unused-noqa`",
        "reports an `OC` code in a `# noqa` comment that silences nothing on its line (ruff's RUF100).",
        "Codes of rules the run does not check are not reported.",
    ],
}


#: Per rule, what differs from :data:`_EXAMPLE`.
_EXAMPLE_FOR = {
    "OC105": {"call": "notify()"},
    "OC106": {"where": "the request transaction (ATOMIC_REQUESTS, shop/settings.py:40)"},
    "OC108": {"call": "send_mail()"},
    "OC109": {"call": "cache.delete()"},
    "OC110": {"call": "requests.post()"},
}

#: What switches an opt-in rule on, per setting.
_OPT_IN = {
    "atomic-requests": "On when `atomic-requests` is `true`, or `auto` (the default) finds it on in the "
    "project's settings.",
    "side-effects": "On when `side-effects` names its kind (default: `cache`): `mail` for OC108, "
    "`cache` (invalidations) and `cache-writes` for OC109, `http` for OC110.",
}


def example_message(code: str) -> str:
    return RULES[code].message.format(**{**_EXAMPLE, **_EXAMPLE_FOR.get(code, {})})


def rule_section(code: str) -> list[str]:
    """The Markdown of one rule, from its ``## CODE`` heading on."""
    rule = RULES[code]
    out = [f"## {code}", "", f"`{rule.name}`: {rule.summary}", ""]
    if rule.opt_in:
        out += [_OPT_IN[rule.opt_in], ""]
    out += [
        "Message:",
        "",
        f"    {code} {example_message(code)}",
        "",
        "### Why",
        "",
        rule.why,
        "",
        "### Bad",
        "",
        "```python",
        rule.bad.rstrip("\n"),
        "```",
        "",
        "### Good",
        "",
        "```python",
        rule.good.rstrip("\n"),
        "```",
        "",
        "### Fix",
        "",
        rule.fix,
        "",
    ]
    if rule.options:
        out += ["### Options", ""]
        for option in rule.options:
            out.append(f"- `{option}`: {KEYS[option][2]}")
        out.append("")
    return out


def explain(code: str) -> str | None:
    """The documentation of ``code`` for a terminal, or None for an unknown code."""
    code = code.strip().upper()
    if code in PSEUDO_CODES:
        return "\n".join([f"## {code}", "", *PSEUDO_CODES[code], ""]) + "\n"
    if code not in RULES:
        return None
    return "\n".join([*rule_section(code), f"Reference: {rule_url(code)}", ""]) + "\n"
