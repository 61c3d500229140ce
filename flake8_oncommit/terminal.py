"""Colour and links for text output on a terminal.

Colour is on when the stream is a terminal, unless ``NO_COLOR`` is set (to
anything but an empty string) or ``TERM=dumb``; ``FORCE_COLOR`` (non-empty)
turns it on for pipes and CI logs; ``--color always|never`` decides over
all of them. The precedence is Python 3.13's own (``NO_COLOR`` wins over
``FORCE_COLOR``).

Each rule code is an OSC 8 hyperlink to its section of docs/rules.md, which
modern terminals show as a clickable link and others ignore. Links are only
written to a terminal (or with ``FORCE_HYPERLINK=1``): CI log viewers that
render colour often print OSC 8 as garbage.
"""

from __future__ import annotations

import os
from typing import TextIO

from .rules import rule_url

COLOR_CHOICES = ("auto", "always", "never")

_RESET = "\x1b[0m"
_CODES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "cyan": "36",
}


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


def colour_enabled(stream: TextIO, choice: str = "auto") -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    if os.environ.get("TERM") == "dumb":
        return False
    return _isatty(stream)


class Style:
    """How to decorate text for one stream (a no-op when colour is off)."""

    def __init__(self, colour: bool = False, links: bool = False) -> None:
        self.colour = colour
        self.links = links

    @classmethod
    def for_stream(cls, stream: TextIO, choice: str = "auto") -> Style:
        colour = colour_enabled(stream, choice)
        links = colour and (_isatty(stream) or os.environ.get("FORCE_HYPERLINK") == "1")
        return cls(colour, links)

    def paint(self, text: str, *styles: str) -> str:
        if not self.colour or not styles:
            return text
        return f"\x1b[{';'.join(_CODES[style] for style in styles)}m{text}{_RESET}"

    def code(self, code: str) -> str:
        """A rule code in red, linked to its documentation."""
        painted = self.paint(code, "bold", "red")
        if not self.links or not code[2:].isdigit():
            return painted
        return f"\x1b]8;;{rule_url(code)}\x1b\\{painted}\x1b]8;;\x1b\\"


PLAIN = Style()
