"""What a new user hit (issue 16): misspelt predictor options, module paths beside the config,
and graph errors that name the space, the method and the cell."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from nasearch.api import Result
from nasearch.api.errors import ArchError, ConfigError
from nasearch.api.graph import ArchGraph
from nasearch.config.registry import PREDICTORS, SEARCH_SPACES
from nasearch.search_spaces.examples.chain import ChainSpace


def test_suggest_names_the_closest_choice_or_nothing() -> None:
    from nasearch.api.errors import suggest

    assert suggest("dims", ["dim", "layers"]) == "; did you mean 'dim'?"
    assert suggest("zzz", ["dim", "layers"]) == ""


@pytest.mark.parametrize(
    ("name", "typo", "meant"),
    [
        ("nnformer", "dims", "dim"),
        ("nnformer", "layer", "layers"),
        ("gin", "dims", "dim"),
        ("ledgformer", "dims", "dim"),
        ("random_forest", "n_estimator", "n_estimators"),
        ("ensemble", "dims", "dim"),
        ("ensemble", "n_job", "n_jobs"),
    ],
)
def test_every_predictor_option_gets_did_you_mean(name: str, typo: str, meant: str) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LeDG-Former's experimental warning (once per process)
        with pytest.raises(ConfigError, match=rf"no option '{typo}'; did you mean '{meant}'\?"):
            PREDICTORS.create(name, **{typo: 8})


# --- module paths -------------------------------------------------------------------------------
SPACE_MODULE = """
from nasearch.search_spaces.examples.chain import ChainSpace


class MySpace(ChainSpace):
    name = "mine"
"""


def _without_cwd_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the ``nasearch`` console script sees: neither '' nor the working directory on sys.path."""
    cwd = os.getcwd()
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".", cwd)])
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))


def test_module_path_resolves_from_the_config_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "myspace_cfgdir.py").write_text(SPACE_MODULE)
    config = folder / "run.yaml"
    config.write_text(
        textwrap.dedent("""
        name: mine
        search_space: {name: "myspace_cfgdir:MySpace", depth: 3}
        evaluator: {name: latency}
        optimizer: {name: random}
        budget: {queries: 2}
    """)
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    _without_cwd_on_path(monkeypatch)
    from nasearch.config.run_schema import load_run_config

    cfg = load_run_config(str(config))
    space = SEARCH_SPACES.create(cfg.search_space.name, **cfg.search_space.options)
    assert type(space).__name__ == "MySpace" and space.depth == 3


def test_module_path_resolves_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "myspace_cwd.py").write_text(SPACE_MODULE)
    monkeypatch.chdir(tmp_path)
    _without_cwd_on_path(monkeypatch)
    assert SEARCH_SPACES.get("myspace_cwd:MySpace").name == "mine"


def test_module_path_that_exists_nowhere_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Exception, match="no_such_module_xyz.*working directory"):
        SEARCH_SPACES.get("no_such_module_xyz:Space")


# --- graph errors -------------------------------------------------------------------------------
class BackEdgeSpace(ChainSpace):
    """A plug-in with a bug: its graph has an edge from the last block back to the first."""

    name = "backedge"

    def to_graph(self, arch):  # type: ignore[no-untyped-def]
        good = super().to_graph(arch)
        adjacency = good.adjacency.copy()
        adjacency[len(arch), 1] = 1
        return ArchGraph(good.ops, adjacency, [dict(a) for a in good.attrs])


def test_a_back_edge_names_the_space_the_method_and_the_cell() -> None:
    from nasearch.optimizers.predictor_evolution import PredictorEvolution

    space = BackEdgeSpace(depth=3)
    opt = PredictorEvolution(
        space,
        objectives=[("score", True)],
        seed=0,
        surrogate={"name": "params_linear"},
        num_init=2,
        k=1,
        pool_size=8,
    )
    with pytest.raises(ArchError) as info:
        for arch in opt.ask(2):
            opt.tell(arch, Result({"score": float(len(space.to_str(arch)))}, 0.0))
        opt.ask(1)
    text = str(info.value)
    assert "'backedge'" in text and "BackEdgeSpace" in text and ".to_graph(" in text
    assert "upper triangular" in text and '[["' in text  # the cell, in its string form


def test_to_graph_returning_something_else_is_named() -> None:
    from nasearch.api.space_calls import to_graph

    class Tuples(ChainSpace):
        def to_graph(self, arch):  # type: ignore[no-untyped-def]
            return (("input", "output"), np.zeros((2, 2)))

    space = Tuples(depth=2)
    with pytest.raises(ArchError, match=r"to_graph\(.*\) returned tuple, not an ArchGraph"):
        to_graph(space, space.sample(np.random.default_rng(0)))
