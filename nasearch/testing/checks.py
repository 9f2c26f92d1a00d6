"""The kit's building blocks: a named check, the skip a check raises when its subject lacks what it
tests, and running every check of a subject with failures that name the subject and the check.

Usable without pytest: a check is a plain function that raises ``AssertionError``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Generic, TypeVar

C = TypeVar("C")


class CheckSkipped(Exception):
    """Raised by a check that does not apply to its subject (a capability the space does not offer,
    a predictor without ``predict_std``); its message says why."""


@dataclass(frozen=True)
class Check(Generic[C]):
    """One conformance check: ``check(case)`` returns, raises ``AssertionError``, or ``CheckSkipped``."""

    name: str
    run: Callable[[C], None]
    doc: str = ""

    def __call__(self, case: C) -> None:
        self.run(case)

    def __repr__(self) -> str:
        return self.name


def check(name: str) -> Callable[[Callable[[C], None]], Check[C]]:
    """Decorator: make ``fn(case)`` a ``Check`` named ``name`` (its docstring says what it checks)."""

    def deco(fn: Callable[[C], None]) -> Check[C]:
        return Check(name, fn, (fn.__doc__ or "").strip())

    return deco


def label(subject: object) -> str:
    """A short name of what is under test, for test ids and messages: its ``name`` attribute (a
    registered space's), else its ``__name__`` (a class, a function; a ``partial``'s function), else
    its class name."""
    name = getattr(subject, "name", None)
    if isinstance(name, str) and name:
        return name
    if isinstance(subject, partial):
        return label(subject.func)
    return str(getattr(subject, "__name__", None) or type(subject).__name__)


def run_checks(label: str, case: C, checks: Iterable[Check[C]]) -> dict[str, str]:
    """Run every check on ``case``: ``{check: "passed" | "skipped: why"}``; the first failure is
    re-raised as an ``AssertionError`` that names ``label`` and the check."""
    report: dict[str, str] = {}
    for one in checks:
        try:
            one(case)
        except CheckSkipped as skip:
            report[one.name] = f"skipped: {skip}"
        except AssertionError as exc:
            raise AssertionError(f"{label} fails the check {one.name!r}: {exc}") from exc
        else:
            report[one.name] = "passed"
    return report


def raises(error: type[BaseException], call: Callable[[], object], what: str) -> None:
    """Assert that ``call()`` raises ``error`` (``what`` says what was called, for the message)."""
    try:
        call()
    except error:
        return
    except Exception as exc:  # noqa: BLE001 - any other error is the finding
        raise AssertionError(f"{what} raised {type(exc).__name__}, not {error.__name__}: {exc}") from exc
    raise AssertionError(f"{what} did not raise {error.__name__}")
