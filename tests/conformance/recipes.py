"""What the conformance suites share: a plug-in's recipe (the cheap options it is tested with), and
what happens to a registered plug-in without one. One of ours (a built-in, or an entry point into a
``nasearch.`` module) fails, naming the recipe to add, so a new plug-in of ours is tested the day it
registers; one installed beside nasearch (another package's entry point, or a class registered in
process from elsewhere) is skipped with the reason: its own package tests it with ``nasearch.testing``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

#: the NB201 objective the suites search and fit on, and the test metric recorded beside it
METRIC = "cifar10-valid/valid_accuracy"
TEST_METRIC = "cifar10/test_accuracy"


def source(registry: Any, name: str) -> str:
    """Where ``registry`` finds ``name``: a module path, an entry point's value, or ``module:Class``."""
    return str(registry.sources().get(name, "?"))


def is_ours(registry: Any, name: str) -> bool:
    """Whether ``name`` is one of nasearch's own plug-ins (its code lives in a ``nasearch.`` module)."""
    return source(registry, name).startswith("nasearch.")


def skip_unless_ours(registry: Any, name: str) -> None:
    """Skip the test of a plug-in installed beside nasearch: our suites test only our own."""
    if not is_ours(registry, name):
        pytest.skip(
            f"{registry.kind} {name!r} ({source(registry, name)}) is installed beside nasearch, not part of "
            "it: its own package tests it with nasearch.testing"
        )


def recipe(recipes: Mapping[str, T], registry: Any, name: str, where: str) -> T:
    """``recipes[name]``; for a plug-in of ours without one, a failed test that says which recipe to
    add and where; for a plug-in installed beside nasearch without one, a skip."""
    if name not in recipes:
        skip_unless_ours(registry, name)
        pytest.fail(
            f"{registry.kind} {name!r} is registered but untested: add a conformance recipe for {name} "
            f"(cheap constructor options) to {where}",
            pytrace=False,
        )
    return recipes[name]


def stale_recipes(recipes: Mapping[str, object], names: Iterable[str]) -> list[str]:
    """Recipes for plug-ins no longer registered (a renamed plug-in would otherwise go untested)."""
    return sorted(set(recipes) - set(names))
