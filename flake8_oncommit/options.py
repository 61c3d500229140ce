"""flake8 options: the same keys as ``[tool.flake8-oncommit]``, prefixed ``oncommit-``.

Rule selection is flake8's own (``--select``, ``--extend-ignore``, noqa), so
``select``/``ignore`` are not repeated here. A bad value stops flake8 with a
message naming the option and exit status 2; so does an ``oncommit-*`` key
in the flake8 config that this plugin does not know (flake8 itself would
silently ignore a typo).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from .config import KEYS, Config, ConfigError, config_from_mapping
from .settings_scan import project_root, with_project_settings

PREFIX = "oncommit-"
#: keys handled by flake8 itself
_FLAKE8_OWNED = ("select", "ignore")


def flake8_keys() -> list[str]:
    return [key for key in KEYS if key not in _FLAKE8_OWNED]


def register_flake8_options(option_manager: Any) -> None:
    for key in flake8_keys():
        _, _, help_text = KEYS[key]
        option_manager.add_option(
            f"--{PREFIX}{key}",
            default=None,
            parse_from_config=True,
            help=f"flake8-oncommit: {help_text}",
        )


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
            isolated=bool(getattr(options, "isolated", False)),
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
    values: dict[str, object] = {}
    for key in flake8_keys():
        value = getattr(options, (PREFIX + key).replace("-", "_"), None)
        if value is not None:
            values[key] = value
    try:
        config = config_from_mapping(values, "flake8 option")
    except ConfigError as error:
        _fail(str(error).replace("flake8 option: ", f"--{PREFIX}", 1))
    if settings:
        config, _ = with_project_settings(config, project_root_of(options))
    return config


def project_root_of(options: Any) -> Path:
    """The project the files flake8 was given belong to."""
    names = getattr(options, "filenames", None) or ["."]
    filenames = [os.path.abspath(name) for name in names if name != "-"]
    start = Path(os.path.commonpath(filenames)) if filenames else Path.cwd()
    return project_root(start)
