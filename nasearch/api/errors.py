"""The exceptions nasearch raises for bad input: each names the input and what is wrong with it."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable


class NasearchError(Exception):
    """Base class: the CLI prints these as one line, without a traceback."""


class DataError(NasearchError):
    """A benchmark table is missing, unreadable or malformed."""


class ArchError(NasearchError, ValueError):
    """An architecture (string, index, spec or graph) is malformed or not in the space."""


class RegistryError(NasearchError, LookupError):
    """An unknown registry name, or a plug-in class that breaks its contract."""


class ConfigError(NasearchError, ValueError):
    """A YAML run configuration has an unknown key, a wrong type or a bad value."""


class OptionError(ConfigError):
    """A plug-in's option is unknown or has a wrong value: the set-up is wrong, never one cell."""


class DeviceError(ConfigError):
    """A hardware description is wrong: an unknown device, a missing or bad field, a malformed device
    table. The set-up is wrong, never one cell."""


class SetupError(NasearchError):
    """The run's set-up is broken (data, configuration, environment), not one cell: the run stops
    and no cell is recorded as failed. Evaluators may raise it for such causes."""


class StorageError(NasearchError):
    """The run folder or the Optuna storage cannot be read or written (read-only, corrupt, full)."""


class RunLockedError(NasearchError):
    """Another live run holds the run folder."""


class Terminated(SystemExit):
    """The run was told to stop (SIGTERM, a second Ctrl-C): unwinds like Ctrl-C; never an evaluator's
    own ``SystemExit``, which fails its cell instead."""


def shown(value: object, limit: int = 80) -> str:
    """``repr(value)`` for an error message, cut to ``limit`` characters with the full length said
    (an error never echoes a megabyte of input)."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[: limit - 20]}... ({len(text):,} characters)"


#: the longest error line the CLI prints
MAX_LINE = 2000


def one_line(text: str, limit: int = MAX_LINE) -> str:
    """``text`` as one line of at most ``limit`` characters (whitespace runs and newlines folded,
    terminal colour codes removed): what the CLI prints and what a trial stores as its error."""
    flat = " ".join(re.sub(r"\x1b\[[0-9;?]*[ -/]*[@-~]", "", text).split())
    return flat if len(flat) <= limit else f"{flat[: limit - 30]}... ({len(flat):,} characters)"


def suggest(word: str, choices: Iterable[str], n: int = 1) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``choices`` to a misspelt ``word``, else ``""``:
    the one hint every "unknown name/key/option" error appends."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=n)
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
