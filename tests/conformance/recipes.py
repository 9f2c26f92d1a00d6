"""What the conformance suites share: a plug-in's recipe (the cheap options it is tested with),
and a loud failure for a registered plug-in that has none, so a new plug-in is tested the day it
registers instead of being skipped."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar

import pytest

T = TypeVar("T")

#: the NB201 objective the suites search and fit on, and the test metric recorded beside it
METRIC = "cifar10-valid/valid_accuracy"
TEST_METRIC = "cifar10/test_accuracy"


def recipe(recipes: Mapping[str, T], kind: str, name: str, where: str) -> T:
    """``recipes[name]``, or a failed test that says which recipe to add and where."""
    if name not in recipes:
        pytest.fail(
            f"{kind} {name!r} is registered but untested: add a conformance recipe for {name} "
            f"(cheap constructor options) to {where}",
            pytrace=False,
        )
    return recipes[name]


def stale_recipes(recipes: Mapping[str, object], names: Iterable[str]) -> list[str]:
    """Recipes for plug-ins no longer registered (a renamed plug-in would otherwise go untested)."""
    return sorted(set(recipes) - set(names))
