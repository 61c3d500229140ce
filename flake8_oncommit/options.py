"""flake8 options: the same keys as ``[tool.flake8-oncommit]``, prefixed ``oncommit-``.

The plugin reads ``[tool.flake8-oncommit]`` of the nearest ``pyproject.toml``
too (not with ``--isolated``), so a team configures both front ends once;
an ``oncommit-*`` flake8 option wins over the same key there.

Which files and which codes are flake8's business (``--select``,
``--extend-ignore``, ``--exclude``, ``per-file-ignores``, noqa), so those
keys are not flake8 options. What the pyproject says about them still
applies to the plugin: its ``select``/``ignore`` decide what the engine
reports (a specific flake8 ``--select OC105`` re-enables a code the file
ignores; a broad ``--select OC`` does not), its ``per-file-ignores`` apply,
and files its ``exclude``/``extend-exclude`` match get no OC finding.

A bad value stops flake8 with a message naming the option and exit status
2; so does an ``oncommit-*`` key in the flake8 config that this plugin does
not know (flake8 itself would silently ignore a typo).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from .config import (
    ATOMIC_REQUESTS_MODES,
    KEYS,
    Config,
    ConfigError,
    config_from_mapping,
    find_pyproject,
    load_pyproject,
)
from .settings_scan import project_root, with_project_settings

PREFIX = "oncommit-"
#: keys handled by flake8 itself (rule and file selection), or that mean
#: nothing when flake8 chooses the files
_FLAKE8_OWNED = (
    "select",
    "ignore",
    "exclude",
    "extend-exclude",
    "per-file-ignores",
    "respect-gitignore",
    "force-exclude",
)


def flake8_keys() -> list[str]:
    return [key for key in KEYS if key not in _FLAKE8_OWNED]


def register_flake8_options(option_manager: Any) -> None:
    for key in flake8_keys():
        _, _, help_text = KEYS[key]
        extra: dict[str, object] = {}
        if key == "atomic-requests":
            # ``--oncommit-atomic-requests`` alone means true, as for oncommit-fix.
            extra = {"nargs": "?", "const": "true"}
        option_manager.add_option(
            f"--{PREFIX}{key}",
            default=None,
            parse_from_config=True,
            help=f"flake8-oncommit: {help_text}",
            **extra,
        )


def _bare_atomic_requests(options: Any) -> None:
    """``flake8 --oncommit-atomic-requests app/views.py``: argparse gave the path as the value.

    Its optional value takes the next word; when that word is not a mode
    but an existing path, the flag stood alone (true) and the path goes
    back to the files to check.
    """
    value = getattr(options, "oncommit_atomic_requests", None)
    if not isinstance(value, str) or value.strip().lower() in ATOMIC_REQUESTS_MODES:
        return
    if os.path.exists(value):
        options.oncommit_atomic_requests = "true"
        options.filenames = [*(getattr(options, "filenames", None) or []), value]


def _fail(message: str) -> NoReturn:
    print(f"flake8-oncommit: configuration error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _check_config_keys(options: Any) -> None:
    """Reject ``oncommit-*`` keys in the flake8 config that are not ours."""
    try:
        from flake8.options.config import load_config

        parser, _ = load_config(
            config=getattr(options, "config", None),
            extra=list(getattr(options, "append_config", None) or []),
            isolated=_isolated(options),
        )
    except Exception:  # flake8 internals moved: skip the extra check
        return
    if not parser.has_section("flake8"):
        return
    known = {PREFIX + key for key in flake8_keys()}
    for option in parser.options("flake8"):
        name = option.replace("_", "-")
        if name.startswith(PREFIX) and name not in known:
            _fail(f"unknown option {option!r} in the flake8 configuration; known: {', '.join(sorted(known))}")


def config_from_flake8(options: Any, *, settings: bool = True) -> Config:
    """The plugin's configuration from flake8's options; with ``settings``, completed from the
    project's settings modules (the plugin does that itself, through its project scan)."""
    _check_config_keys(options)
    _bare_atomic_requests(options)
    base = _pyproject_config(options)
    values: dict[str, object] = {}
    for key in flake8_keys():
        value = getattr(options, (PREFIX + key).replace("-", "_"), None)
        if value is not None:
            values[key] = value
    try:
        config = config_from_mapping(values, "flake8 option", base)
    except ConfigError as error:
        _fail(str(error).replace("flake8 option: ", f"--{PREFIX}", 1))
    if settings:
        config, _ = with_project_settings(config, project_root_of(options))
    return config


def _pyproject_config(options: Any) -> Config:
    """``[tool.flake8-oncommit]`` of the nearest pyproject.toml, with flake8's specific selections."""
    if _isolated(options):
        return Config()
    found = find_pyproject(_start_of(options))
    if found is None:
        return Config()
    try:
        config = load_pyproject(found)
    except ConfigError as error:
        _fail(str(error))
    specific = {
        entry.strip().upper()
        for name in ("select", "extend_select")
        for entry in (getattr(options, name, None) or ())
        if isinstance(entry, str) and entry.strip().upper().startswith("OC") and len(entry.strip()) > 2
    }
    if not specific:
        return config
    return dataclasses.replace(
        config, select=config.select | specific, ignore=frozenset(config.ignore - specific)
    )


def _isolated(options: Any) -> bool:
    """flake8 ``--isolated``: no configuration file at all.

    flake8 parses it in a preliminary pass and leaves it out of the options
    plugins see (there it is always False), so the command line is read too.
    """
    return bool(getattr(options, "isolated", False)) or "--isolated" in sys.argv[1:]


def _start_of(options: Any) -> Path:
    names = getattr(options, "filenames", None) or ["."]
    filenames = [os.path.abspath(name) for name in names if name != "-"]
    start = Path(os.path.commonpath(filenames)) if filenames else Path.cwd()
    return start if start.is_dir() else start.parent


def project_root_of(options: Any) -> Path:
    """The project the files flake8 was given belong to."""
    return project_root(_start_of(options))
