"""Reading a file into text and back, and the one source-level repair.

A file is kept as it was found: its encoding (PEP 263 cookie), a UTF-8 BOM
and its line endings survive a rewrite byte for byte. The text handed to the
analysis is the decoded file without the BOM, line endings untouched (libcst
keeps ``\\r\\n`` as it finds it).

``repair_legacy_async`` turns django-q's pre-1.0 ``async(...)`` (a syntax
error since Python 3.7, when ``async`` became a keyword) into ``async_task``,
the name django-q 1.0 gave it, so the call can be parsed, reported and fixed.
"""

from __future__ import annotations

import codecs
import io
import re
import tokenize
from dataclasses import dataclass

BOM = codecs.BOM_UTF8


class SourceError(Exception):
    """A file whose bytes cannot be turned into Python source text."""


@dataclass(frozen=True)
class SourceFile:
    """Decoded text plus what is needed to write it back identically."""

    text: str
    encoding: str
    bom: bool

    def encode(self, text: str) -> bytes:
        data = text.encode(self.encoding)
        return BOM + data if self.bom else data


def decode(data: bytes) -> SourceFile:
    """Decode like the interpreter does: BOM, coding cookie, else UTF-8."""
    if b"\x00" in data:
        raise SourceError("binary file (contains NUL bytes)")
    bom = data.startswith(BOM)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        raise SourceError(str(error)) from None
    if encoding == "utf-8-sig":
        encoding = "utf-8"
    try:
        ascii_compatible = "\n#".encode(encoding) == b"\n#"
    except (LookupError, UnicodeError):
        ascii_compatible = False
    if not ascii_compatible:
        raise SourceError(f"unsupported encoding {encoding}: Python source must be ASCII-compatible")
    body = data[len(BOM) :] if bom else data
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as error:
        if encoding == "utf-8" and not bom and not _COOKIE.search(b"\n".join(data.split(b"\n", 2)[:2])):
            line = body.count(b"\n", 0, error.start) + 1
            raise SourceError(
                f"not UTF-8 (byte 0x{body[error.start]:02x} on line {line}) and no coding cookie "
                "declares another encoding, so Python refuses to import it - re-encode it as UTF-8 "
                "or declare its encoding (PEP 263)"
            ) from None
        raise SourceError(f"cannot decode as {encoding}: {error}") from None
    except LookupError as error:
        raise SourceError(f"cannot decode as {encoding}: {error}") from None
    return SourceFile(text=text, encoding=encoding, bom=bom)


#: PEP 263's coding cookie, in the first two lines.
_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*[-\w.]+", re.MULTILINE)


_LEGACY_ASYNC = re.compile(r"\basync\b(?!\s+(?:def|with|for)\b)")


def has_legacy_async(text: str) -> bool:
    """Cheap test: ``async`` used other than as ``async def/with/for``."""
    return _LEGACY_ASYNC.search(text) is not None


@dataclass(frozen=True)
class Repair:
    """The repaired text and where ``async`` became ``async_task`` (line, col)."""

    text: str
    positions: frozenset[tuple[int, int]]


def repair_legacy_async(text: str) -> Repair | None:
    """Rename django-q's legacy ``async`` name to ``async_task``.

    Renamed: the NAME token ``async`` called (``async(...)``,
    ``tasks.async(...)``) or imported (``from django_q.tasks import async``).
    Left alone: ``async def/with/for``, a parameter or keyword argument
    named ``async`` (``send(x, async=True)``), strings and comments.
    Returns None when nothing changed or the text does not tokenize.
    """
    if not has_legacy_async(text):
        return None
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None
    skipped = (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT)
    significant = [tok for tok in tokens if tok.type not in skipped]
    hits: list[tuple[int, int]] = []
    statement_start = 0
    for index, tok in enumerate(significant):
        if tok.type == tokenize.NEWLINE:
            statement_start = index + 1
            continue
        if tok.type != tokenize.NAME or tok.string != "async":
            continue
        following = significant[index + 1].string if index + 1 < len(significant) else ""
        previous = significant[index - 1].string if index > 0 else ""
        in_from_import = significant[statement_start].string == "from" and any(
            t.string == "import" for t in significant[statement_start:index]
        )
        called = following == "(" and previous != "def"
        imported = in_from_import and previous in ("import", ",", "(") and following != "="
        if called or imported:
            hits.append(tok.start)
    if not hits:
        return None
    lines = text.splitlines(keepends=True)
    for line, col in reversed(hits):
        row = lines[line - 1]
        lines[line - 1] = row[:col] + "async_task" + row[col + len("async") :]
    return Repair(text="".join(lines), positions=frozenset(hits))
