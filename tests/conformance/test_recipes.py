"""The suites' safety net: a registered plug-in without a recipe fails, naming what to add."""

from __future__ import annotations

import pytest

from conformance.recipes import recipe, stale_recipes


def test_a_plugin_without_a_recipe_fails_and_says_what_to_add() -> None:
    with pytest.raises(
        pytest.fail.Exception, match="add a conformance recipe for my_space .* to RECIPES in x.py"
    ):
        recipe({"chain": {}}, "search space", "my_space", "RECIPES in x.py")
    assert recipe({"chain": {"depth": 2}}, "search space", "chain", "RECIPES in x.py") == {"depth": 2}


def test_a_recipe_of_a_plugin_no_longer_registered_is_reported() -> None:
    assert stale_recipes({"old": {}, "chain": {}}, ["chain", "nasbench201"]) == ["old"]
