"""The one exception tree of gmnet.

::

    GmnetError                      every error gmnet raises on purpose
    ├── NetworkFileError            a network, scenario or worldview file is unreadable or invalid
    ├── UnknownNameError (KeyError) an unknown variable, state, parameter, network, scenario, ...
    ├── QuerySyntaxError            a query string that does not parse
    ├── ImpossibleEvidenceError     evidence whose probability under the model is zero
    └── InvalidArgumentError        any other bad argument (sample counts, options, ...)

Every message names the bad item, says what would be valid and, where it helps, how to fix it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence

__all__ = [
    "GmnetError",
    "NetworkFileError",
    "UnknownNameError",
    "QuerySyntaxError",
    "ImpossibleEvidenceError",
    "InvalidArgumentError",
    "did_you_mean",
    "clip_message",
]


class GmnetError(ValueError):
    """Base class of every error gmnet raises on purpose."""


class NetworkFileError(GmnetError):
    """A network (or scenario, worldview) file is unreadable or invalid.

    ``problems`` lists every problem found, each naming file, node and key.
    """

    def __init__(self, path: str, problems: Sequence[str]):
        self.path = str(path)
        self.problems = list(problems)
        count = len(self.problems)
        head = f"{self.path}: {count} problem{'s' if count != 1 else ''}"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems))

    def __reduce__(self):  # picklable (a forked worker's error reaches the caller)
        return type(self), (self.path, self.problems)

    def one_line(self) -> str:
        first = self.problems[0] if self.problems else "invalid"
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        return f"{self.path}: {first}{more}"


class UnknownNameError(GmnetError, KeyError):
    """An unknown name: variable, state, parameter, network, scenario, worldview."""

    def __init__(self, kind: str, name: str, choices: Iterable[str], *, context: str = ""):
        self.kind = kind
        self.name = name
        self.choices = list(choices)
        self.context = context
        where = f" {context}" if context else ""
        message = f"unknown {kind} {name!r}{where}; choose one of: {', '.join(self.choices)}"
        hint = did_you_mean(name, self.choices)
        if hint:
            message += f" (did you mean {hint!r}?)"
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.message

    def __reduce__(self):  # picklable (a forked worker's error reaches the caller)
        return _unknown_name, (type(self), self.kind, self.name, self.choices, self.context)


def _unknown_name(cls, kind, name, choices, context):
    return cls(kind, name, choices, context=context)


class QuerySyntaxError(GmnetError):
    """A query string that does not parse."""


class ImpossibleEvidenceError(GmnetError):
    """The evidence has probability zero under the model (after any intervention)."""


class InvalidArgumentError(GmnetError):
    """Any other invalid argument."""


def did_you_mean(name: str, choices: Iterable[str]) -> str | None:
    """The closest of ``choices`` to ``name``, if one is close enough."""
    matches = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.6)
    return matches[0] if matches else None


MAX_MESSAGE_CHARS = 600
_LONG_RUN = re.compile(r"\S{121,}")


def clip_message(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` on one line, with long inputs it echoes cut: a run of more than 120 characters
    without a space keeps its first 60 and last 20, and a line still over ``limit`` characters
    keeps its beginning and end, saying how much was left out.

    >>> clip_message("unknown variable " + "x" * 1000)[-45:]
    'x...[920 characters]...xxxxxxxxxxxxxxxxxxxx'
    """
    line = " ".join(str(text).split())

    def cut(match: re.Match) -> str:
        run = match.group(0)
        return f"{run[:60]}...[{len(run) - 80} characters]...{run[-20:]}"

    line = _LONG_RUN.sub(cut, line)
    if len(line) > limit:
        head, tail = line[: limit * 2 // 3], line[-(limit // 4):]
        line = f"{head} ...[{len(line) - len(head) - len(tail)} characters]... {tail}"
    return line
