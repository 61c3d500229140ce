"""Text to a libcst tree, guarded: nesting depth, legacy ``async``, a large C stack.

Kept apart from the analysis so that what only parses (the settings scan)
does not import the rules, and so that one place owns the parser thread.
"""

from __future__ import annotations

import ast
import os
import queue
import re
import threading

import libcst as cst

from .errors import ParseError
from .source import repair_legacy_async

__all__ = ["MAX_DEPTH", "ParseError", "check_depth", "parse"]


#: One pass over what nests in a syntax tree: brackets (calls and subscripts
#: chain), line starts, operators, attribute dots, keyword operators.
_SHAPE = re.compile(
    r"[(\[{]|[)\]}]|\n|[-+*/%@|&^~]|\.(?=[^\W\d])|\b(?:and|or|not|lambda|if|else|await|in|is)\b"
)
#: Past these, look closer before handing the text to libcst.
_SUSPICIOUS_BRACKETS = 100
_SUSPICIOUS_OPERATORS = 1000
#: Deeper trees than this are refused: libcst's parser slows down
#: super-linearly on them (a 3,000-call method chain takes 40 s), its Rust
#: stack can overflow (a segfault no ``except`` catches), and the analysis
#: would hit Python's recursion limit anyway.
MAX_DEPTH = 200


def _looks_deep(text: str) -> int:
    """Cheap upper bound: deep brackets, or a huge run of operators in one statement.

    Returns the line where it looks deep, or 0.
    """
    depth = run = 0
    line = 1
    for match in _SHAPE.finditer(text):
        char = match.group()[0]
        if char in "([{":
            depth += 1
            run += 1  # ``a[0][0]...`` and ``f()()...`` nest without going deep in brackets
            if depth > _SUSPICIOUS_BRACKETS:
                return line
        elif char in ")]}":
            depth -= 1
        elif char == "\n":
            line += 1
            if depth <= 0:
                run = 0
        else:
            run += 1
        if run > _SUSPICIOUS_OPERATORS:
            return line
    return 0


def check_depth(text: str) -> None:
    """Raise :class:`ParseError` for text too deeply nested to parse safely."""
    suspect = _looks_deep(text)
    if not suspect:
        return
    too_deep = f"too deeply nested to analyse (more than {MAX_DEPTH} levels)"
    try:
        tree = compile(text, "<file>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (RecursionError, MemoryError):
        raise ParseError(too_deep, suspect) from None
    except (SyntaxError, ValueError) as error:
        if isinstance(error, SyntaxError) and "too many nested" in str(error.msg):
            column = max((error.offset or 1) - 1, 0)
            raise ParseError(f"SyntaxError: {error.msg}", error.lineno or suspect, column) from None
        unparseable = "too deeply nested to analyse safely, and not parseable by this Python"
        raise ParseError(unparseable, suspect) from None
    pending: list[tuple[ast.AST, int, int]] = [(tree, 0, suspect)]
    while pending:
        node, depth, line = pending.pop()
        line = getattr(node, "lineno", line)
        if depth > MAX_DEPTH:
            raise ParseError(too_deep, line)
        pending.extend((child, depth + 1, line) for child in ast.iter_child_nodes(node))


def parse(text: str) -> tuple[cst.Module, frozenset[tuple[int, int]]]:
    """Parse ``text``; on failure, retry once with legacy ``async`` renamed.

    Returns the module and the positions that were renamed (empty when none).
    """
    check_depth(text)
    try:
        return _parse_module(text), frozenset()
    except cst.ParserSyntaxError as error:
        repair = repair_legacy_async(text)
        if repair is not None:
            try:
                return _parse_module(repair.text), repair.positions
            except cst.ParserSyntaxError:
                pass
        raise _explain(text, error) from None
    except (RecursionError, MemoryError) as error:
        raise ParseError(f"too deeply nested ({type(error).__name__})") from None


#: libcst's native parser recurses on the C stack; a thread with a large one
#: turns a shape the depth check did not foresee into a slow parse or an
#: error, never a segfault (only touched pages of it are ever allocated).
_PARSER_STACK_BYTES = 512 * 1024 * 1024


class _Request:
    """One text to parse, and where its tree (or error) is left for the caller."""

    __slots__ = ("done", "result", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.done = threading.Event()
        self.result: object = None


class _ParserThread:
    """One long-lived thread with a large stack that runs every parse of this process.

    Starting a thread per parse cost more than small parses themselves, and
    changing ``threading.stack_size`` around each start affected every
    thread started meanwhile. The stack size is set once, around this
    thread's start. Requests are served one at a time; the tree is left on
    the request and an event set, so a Ctrl-C that lands at any point of
    the caller's wait (even just after the wait returned) loses nothing.
    """

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.requests: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        previous = threading.stack_size(_PARSER_STACK_BYTES)
        try:
            self.thread = threading.Thread(target=self._serve, name="oncommit-parser", daemon=True)
            self.thread.start()
        finally:
            threading.stack_size(previous)

    def _serve(self) -> None:
        while True:
            request = self.requests.get()
            if request.done.is_set():
                continue  # queued twice: a Ctrl-C landed between the put and the caller's flag
            try:
                request.result = cst.parse_module(request.text)
            except BaseException as error:  # handed back to the caller's thread
                request.result = error
            request.done.set()

    def parse(self, text: str) -> cst.Module:
        request = _Request(text)
        # Ctrl-C waits for the parse to end: the interpreter must not exit while
        # the thread is inside the native parser (it would be killed there, and
        # the process abort with SIGABRT instead of exiting with status 130).
        queued = interrupted = False
        while not request.done.is_set():
            try:
                if not queued:
                    self.requests.put(request)
                    queued = True
                request.done.wait()
            except KeyboardInterrupt:
                interrupted = True
        if interrupted:
            raise KeyboardInterrupt
        result = request.result
        if isinstance(result, BaseException):
            raise result
        assert isinstance(result, cst.Module)
        return result


_parser: _ParserThread | None = None
_parser_lock = threading.Lock()


def _parse_module(text: str) -> cst.Module:
    global _parser
    with _parser_lock:
        # A forked child inherits the object but not the thread: start its own.
        if _parser is None or _parser.pid != os.getpid():
            try:
                _parser = _ParserThread()
            except (ValueError, RuntimeError):  # pragma: no cover - platform without stack_size
                return cst.parse_module(text)
        parser = _parser
    return parser.parse(text)


def _explain(text: str, error: cst.ParserSyntaxError) -> ParseError:
    """The interpreter's own message and position when it agrees the text is broken.

    libcst reports where its parser gave up (often the next line); CPython
    points at the offending token with a message users know.
    """
    try:
        compile(text, "<file>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as syntax:
        if syntax.lineno is not None:
            return ParseError(
                f"{type(syntax).__name__}: {syntax.msg}", syntax.lineno, max((syntax.offset or 1) - 1, 0)
            )
    except (ValueError, RecursionError, MemoryError):
        pass
    return ParseError(_one_line(error.message), error.raw_line, error.raw_column)


def _one_line(message: str) -> str:
    return " ".join(message.split())
