"""The argument parser every ``avrobridge`` command uses, and the exit statuses they share.

- Help shows each option's default, and is not wrapped when it goes to a file or a pipe
  (argparse would wrap it to $COLUMNS, or 80).
- A mistake in a subcommand's options prints that subcommand's usage, not the top level's,
  with the closest option name when there is one (``--form``: did you mean ``--from``?).
"""

from __future__ import annotations

import argparse
import contextlib
import contextvars
import difflib
import shutil
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_STATUS_HELP",
    "EXIT_USAGE",
    "HelpFormatter",
    "Parser",
    "fail",
    "positive_int",
    "subject_version",
]

#: The command did what was asked.
EXIT_OK = 0
#: It failed at run time: a broker or registry unreachable, a record that cannot be
#: converted, a check whose answer is no (not compatible, not registered, a live version the
#: target cannot read).
EXIT_FAILED = 1
#: Bad usage or settings: an unknown option, a missing or invalid setting, a local file that
#: is missing or invalid. Nothing was attempted.
EXIT_USAGE = 2

EXIT_STATUS_HELP = """\
exit status (the same for every command):
  0  done
  1  failed at run time: a broker or registry unreachable, a record that cannot be
     converted, a check whose answer is no (incompatible, not registered, a version the
     target cannot read)
  2  bad usage or settings: an unknown option, a missing or invalid setting, a missing or
     invalid local file; nothing was attempted"""

# Where the text being formatted goes: help to stdout, usage with an error to stderr.
_target: contextvars.ContextVar[IO[str] | None] = contextvars.ContextVar("target", default=None)

#: Width used off a terminal: wide enough that no line of help or usage is ever wrapped.
UNWRAPPED = 100_000


@contextlib.contextmanager
def _printing_to(stream: IO[str] | None) -> Iterator[None]:
    token = _target.set(stream)
    try:
        yield
    finally:
        _target.reset(token)


def _width(stream: IO[str] | None) -> int:
    stream = stream if stream is not None else sys.stdout
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        return max(shutil.get_terminal_size().columns - 2, 40)
    return UNWRAPPED


def _shown(value: Any) -> str:
    if value is None:
        return "none"
    if value is True:
        return "on"
    if value is False:
        return "off"
    if isinstance(value, (list, tuple)):
        return ",".join(_shown(v) for v in value)
    if isinstance(value, Path):
        return str(value)
    return str(value)


class HelpFormatter(argparse.HelpFormatter):
    """Defaults in every option's help; no wrapping off a terminal; description and epilog
    paragraphs (and lines indented by two spaces) kept as written."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 32,
        width: int | None = None,
    ) -> None:
        super().__init__(prog, indent_increment, max_help_position, width or _width(_target.get()))

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (
            "default" in text
            or action.default is argparse.SUPPRESS
            or isinstance(action, (argparse._HelpAction, argparse._VersionAction))
        ):
            return text
        positional = not action.option_strings
        if positional and action.nargs not in (argparse.OPTIONAL, argparse.ZERO_OR_MORE):
            return text  # required: nothing to default to
        shown = _shown(action.default).replace("%", "%%")
        return f"{text} (default: {shown})" if text else f"(default: {shown})"

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        out: list[str] = []
        for paragraph in text.split("\n\n"):
            lines = paragraph.split("\n")
            if any(line.startswith("  ") for line in lines[1:]):
                out.append("\n".join(indent + line for line in lines))
            else:
                out.append(super()._fill_text(" ".join(lines), width, indent))
        return "\n\n".join(out)


class Parser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` with the formatter above, for the command and (through
    ``add_subparsers``, which makes subparsers of the same class) every subcommand."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def print_help(self, file: Any = None) -> None:
        with _printing_to(file or sys.stdout):
            super().print_help(file)

    def print_usage(self, file: Any = None) -> None:
        with _printing_to(file or sys.stdout):
            super().print_usage(file)

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            innermost = self.innermost(parsed)
            innermost.error(unrecognized(innermost, extras))
        return parsed

    def innermost(self, parsed: argparse.Namespace) -> argparse.ArgumentParser:
        """The parser of the deepest subcommand `parsed` selected."""
        parser: argparse.ArgumentParser = self
        while True:
            sub = next(
                (a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None
            )
            name = getattr(parsed, sub.dest, None) if sub is not None else None
            if sub is None or name not in sub.choices:
                return parser
            parser = sub.choices[name]

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def unrecognized(parser: argparse.ArgumentParser, extras: list[str]) -> str:
    """argparse's message, with the closest option of `parser` to the first unknown one."""
    message = f"unrecognized arguments: {' '.join(extras)}"
    known = [s for a in parser._actions for s in a.option_strings if s.startswith("--")]
    for arg in extras:
        if arg.startswith("--"):
            close = difflib.get_close_matches(arg.partition("=")[0], known, n=1)
            if close:
                return f"{message} (did you mean {close[0]}?)"
    return message


def fail(prog: str, message: str, status: int = EXIT_FAILED) -> int:
    """Prints ``prog: message`` once to stderr and returns `status` (for a handler's return)."""
    print(f"{prog}: {message}", file=sys.stderr)
    return status


# -- argument types the commands share ---------------------------------------------------------


def positive_int(text: str) -> int:
    """A count of 1 or more; ``_`` or ``,`` may group its digits (100_000, 100,000)."""
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give a number above 0")
    return value


def subject_version(text: str) -> int | str:
    """A subject version: N (from 1), or ``latest`` (also Confluent's -1)."""
    if text.lower() == "latest":
        return "latest"
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a version (N or latest)") from None
    if number == -1:
        return "latest"
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a version (1, 2, ... or latest)")
    return number
