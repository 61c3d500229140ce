"""Which dotted name a file is imported as, and what a relative import names.

Pure path arithmetic, without libcst: the project scan and the index use it
before anything is parsed.
"""

from __future__ import annotations

import os
from pathlib import Path


def module_name_of(path: Path) -> tuple[str, Path]:
    """The dotted name a file is imported as, and the directory it is relative to.

    Walks up while directories are packages (``__init__.py``), as the
    interpreter's ``sys.path`` entry would see it.
    """
    path = Path(os.path.abspath(path))
    parts = [path.stem] if path.stem != "__init__" else []
    directory = path.parent
    while (directory / "__init__.py").is_file() and directory.parent != directory:
        parts.insert(0, directory.name)
        directory = directory.parent
    return ".".join(parts), directory


def absolute_name(qualified: str, module: str, is_package: bool) -> str:
    """``..core.tracing.x`` seen from ``module`` -> ``pkg.core.tracing.x``."""
    if not qualified.startswith("."):
        return qualified
    level = len(qualified) - len(qualified.lstrip("."))
    rest = qualified[level:]
    package = module.split(".") if is_package else module.split(".")[:-1]
    if level - 1 > len(package):
        return qualified
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, rest] if rest else base)
