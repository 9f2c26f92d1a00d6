"""The suites' safety net: a plug-in of ours without a recipe fails, naming what to add; a plug-in
installed beside nasearch without one is skipped, never failed (its own package tests it with
``nasearch.testing``)."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from conformance.recipes import is_ours, recipe, stale_recipes
from nasearch.config.registry import Registry

SUITES = Path(__file__).resolve().parent


class OtherSpace:
    """A space from another package (registered in process from a module outside nasearch)."""

    def sample(self, rng: np.random.Generator) -> str:
        raise NotImplementedError

    mutate = to_graph = key = to_str = from_str = sample


def _registry() -> Registry:
    ours = {"chain": "nasearch.search_spaces.examples.chain:ChainSpace"}
    spaces = Registry("search space", "nasearch.no_such_group", ours)
    spaces.register("other_space")(OtherSpace)
    return spaces


def test_a_plugin_of_ours_without_a_recipe_fails_and_says_what_to_add() -> None:
    spaces = _registry()
    assert is_ours(spaces, "chain") and not is_ours(spaces, "other_space")
    with pytest.raises(pytest.fail.Exception, match="add a conformance recipe for chain .* to RECIPES in x"):
        recipe({}, spaces, "chain", "RECIPES in x.py")
    assert recipe({"chain": {"depth": 2}}, spaces, "chain", "RECIPES in x.py") == {"depth": 2}


def test_a_plugin_installed_beside_nasearch_without_a_recipe_is_skipped() -> None:
    spaces = _registry()
    with pytest.raises(pytest.skip.Exception, match="'other_space' .*OtherSpace.* beside nasearch"):
        recipe({"chain": {}}, spaces, "other_space", "RECIPES in x.py")
    assert recipe({"other_space": {"n": 1}}, spaces, "other_space", "RECIPES in x.py") == {"n": 1}


def test_a_recipe_of_a_plugin_no_longer_registered_is_reported() -> None:
    assert stale_recipes({"old": {}, "chain": {}}, ["chain", "nasearch.api"]) == ["old"]


#: a package installed beside nasearch: one plug-in of every kind, under a name no recipe knows, whose
#: every method raises (a suite that ran one of its checks on them would fail)
OTHER_PACKAGE = """
from nasearch.compare import register_protocol
from nasearch.config.registry import EVALUATORS, OPTIMIZERS, PREDICTORS, SCHEDULERS, SEARCH_SPACES
from nasearch.search_spaces.nasbench201.latency_models import LATENCY_MODELS


class Broken:
    def __init__(self, *args, **kwargs):
        raise AssertionError("a suite built a plug-in it has no recipe for")

    sample = mutate = to_graph = key = to_str = from_str = fit = predict = ask = tell = __init__
    evaluate = next_job = report = estimate = __init__


for registry in (SEARCH_SPACES, PREDICTORS, OPTIMIZERS, EVALUATORS, SCHEDULERS, LATENCY_MODELS):
    registry.register("thirdparty_plugin")(Broken)
register_protocol("thirdparty_plugin")(Broken)
"""


def test_the_suites_skip_a_plugin_installed_beside_nasearch(tmp_path: Path) -> None:
    """Every conformance suite, run with another package's plug-ins registered (one per registry, no
    recipe here): each suite has cases for them, and every one is skipped, none failed."""
    (tmp_path / "other_package.py").write_text(OTHER_PACKAGE)
    report = tmp_path / "report.xml"
    select = ["-p", "other_package", "-k", "thirdparty_plugin", "-q", "-p", "no:cacheprovider"]
    command = [sys.executable, "-m", "pytest", str(SUITES), *select, f"--junitxml={report}"]
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run(command, cwd=SUITES.parents[1], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    outcomes: Counter[tuple[str, str]] = Counter()
    for case in ET.parse(report).getroot().iter("testcase"):
        results = [child for child in case if child.tag in ("failure", "error", "skipped")]
        outcome = results[0].tag if results else "passed"
        if outcome == "skipped":
            assert "installed beside nasearch" in results[0].get("message", ""), results[0].get("message")
        outcomes[case.get("classname", "").rsplit(".", 1)[-1], outcome] += 1
    suites = {p.stem for p in SUITES.glob("test_*_contract.py")}
    assert {suite for suite, outcome in outcomes if outcome == "skipped"} == suites
    assert {outcome for _, outcome in outcomes} == {"skipped"}, outcomes
