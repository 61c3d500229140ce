"""``python -m flake8_oncommit`` works like ``oncommit-fix``."""

from .cli import main

raise SystemExit(main())
