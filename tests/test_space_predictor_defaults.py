"""A space's own predictor defaults (issue #23, "defaults are the choice"): NB201 and NB101 carry the
settings their stored selections chose, ``nasearch compare`` fits them where a config names no option
(explicit options > the space's defaults > the predictor's own), the rows record and hash the resolved
options, and the surrogates of guided searches never read them."""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml

from nasearch.api import PredictorSettings
from nasearch.api.errors import ConfigError
from nasearch.compare import CompareConfig, row_options
from nasearch.compare.cli import prepare_compare
from nasearch.compare.defaults import resolve_specs, with_chosen_space_options
from nasearch.config.registry import PREDICTORS, SEARCH_SPACES
from nasearch.config.run_schema import load_run_config
from nasearch.config.space_defaults import space_predictor_settings, with_space_defaults
from nasearch.data.provenance import options_hash

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
ACCURACY = {"nasbench201": "cifar10-valid/valid_accuracy", "nasbench101": "cifar10/test_accuracy"}

#: (space, prune_graph of the selection's cells or None, predictor) -> the stored selections that chose
#: its settings there, oldest first: a later one's ``chosen`` overrides the keys it sets (a selection not
#: stored yet, e.g. the NB101 step budget at 4236 cells, counts once it is)
SELECTIONS: dict[tuple[str, bool | None, str], tuple[str, ...]] = {
    ("nasbench201", True, "nnformer"): ("select_defaults:nnformer_nb201_pruned",),
    ("nasbench201", False, "nnformer"): ("select_defaults:nnformer_nb201_8node",),
    ("nasbench201", True, "ledgformer"): ("select_defaults:ledgformer_nb201",),
    ("nasbench101", None, "nnformer"): (
        "select_defaults:nnformer_nb101",
        "select_defaults:nnformer_nb101_steps",
    ),
}


def _stored() -> dict[str, dict[str, Any]]:
    """Every stored ``select_defaults:*`` selection result, by section."""
    out = {}
    for path in sorted(RESULTS.glob("select_defaults__*.json")):
        data = json.loads(path.read_text())
        out[data["section"]] = data["data"]["result"]
    return out


def _chosen(sections: tuple[str, ...]) -> dict[str, Any]:
    stored = _stored()
    merged: dict[str, Any] = {}
    for section in sections:
        merged.update(stored.get(section, {}).get("chosen", {}))
    assert merged, f"none of {sections} is stored"
    return merged


def _space(name: str, prune: bool | None) -> Any:
    return SEARCH_SPACES.create(name, **({} if prune is None else {"prune_graph": prune}))


def _built(name: str, options: dict[str, object]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LeDG-Former is experimental
        return PREDICTORS.create(name, **options).train_config


@pytest.mark.parametrize(("space", "prune", "predictor"), list(SELECTIONS))
def test_a_spaces_defaults_are_its_stored_choice(space: str, prune: bool | None, predictor: str) -> None:
    """A predictor named with no option on a space trains as the space's latest stored selection chose:
    a new selection that changes the choice fails here until the space follows."""
    chosen = _chosen(SELECTIONS[space, prune, predictor])
    settings = space_predictor_settings(_space(space, prune), ACCURACY[space])
    train = _built(predictor, with_space_defaults(settings, predictor, {}))
    assert (train.max_steps, train.rank_weight) == (chosen["max_steps"], chosen["rank_weight"])


def test_every_stored_selection_is_one_a_space_follows() -> None:
    """A stored selection is listed above (or is a frozen copy of one that is), so none is left unfollowed."""
    listed = {s for sections in SELECTIONS.values() for s in sections}
    for section, result in _stored().items():
        assert section in listed or result.get("frozen_from") in listed, f"{section} is followed by no space"


def test_compare_on_nasbench201_names_no_cell_encoding_and_gets_the_chosen_one() -> None:
    """Issue #23's "done when": `nasearch compare runs/predictors_nb201.yaml --predictors nnformer --sizes
    781 --seeds 0` fits the chosen setting: 16,000 steps, rank_weight 0.2, pruned cells."""
    chosen = _chosen(SELECTIONS["nasbench201", True, "nnformer"])
    job = prepare_compare(
        str(REPO / "runs" / "predictors_nb201.yaml"), predictors=["nnformer"], sizes=[781], seeds=[0]
    )
    raw = yaml.safe_load((REPO / "runs" / "predictors_nb201.yaml").read_text())
    assert "space_options" not in raw and raw["predictors"]["nnformer"] == {}  # nothing repeated by hand
    assert job.config.space_options == {"prune_graph": chosen["prune_graph"]}
    name, options = job.specs["nnformer"]
    assert options == {"max_steps": chosen["max_steps"], "rank_weight": chosen["rank_weight"]}
    assert job.task is not None
    graphs = job.task.graphs_at(range(200))  # cells reach the predictors without `none` nodes
    assert all("none" not in g.ops for g in graphs) and any(g.n_nodes < 8 for g in graphs)


def test_explicit_options_win_over_the_spaces_which_win_over_the_predictors() -> None:
    config = {
        "name": "precedence",
        "sizes": [50],
        "predictors": {"nnformer": {"rank_weight": 0.5}, "plain": {"name": "nnformer"}, "gin": {}},
    }
    job = prepare_compare(config)
    assert job.specs["nnformer"][1] == {"max_steps": 16000, "rank_weight": 0.5}  # explicit > space
    assert job.specs["plain"][1] == {"max_steps": 16000, "rank_weight": 0.2}  # the space's, any label
    assert job.specs["gin"][1] == {} and _built("gin", {}).rank_weight == 1.0  # the predictor's own
    # a config that names the cell encoding keeps it, and gets that encoding's choice
    full = prepare_compare(config, overrides=["space_options.prune_graph=false"])
    assert full.config.space_options == {"prune_graph": False}
    assert full.specs["plain"][1] == {"max_steps": 16000, "rank_weight": 1.0}
    # latency: the space chose nothing (all 8 nodes: the ops off the paths still run on the device)
    latency = prepare_compare({**config, "train_metric": "latency/1080ti_1"})
    assert latency.config.space_options == {} and latency.specs["plain"][1] == {}


def test_nasbench101_gives_its_neural_models_the_rebalanced_loss() -> None:
    job = prepare_compare(str(REPO / "runs" / "predictors_nb101.yaml"), sizes=[172])
    budgets = {
        label: _built(name, options)
        for label, (name, options) in job.specs.items()
        if label != "random_forest"
    }
    assert {b.rank_weight for b in budgets.values()} == {10.0} and job.config.space_options == {}
    chosen = _chosen(SELECTIONS["nasbench101", None, "nnformer"])
    assert budgets["nnformer"].max_steps == chosen["max_steps"]


def _frozen_rows() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(section, selection result, row) of every stored frozen test row of a selection."""
    return [
        (section, result, row)
        for section, result in _stored().items()
        for rows in result.get("frozen", {}).values()
        for row in rows
    ]


def test_stored_rows_keep_their_hash_when_the_space_supplies_the_settings() -> None:
    """A stored frozen row was measured with its options named explicitly; the same comparison naming
    none (the space's defaults and cell encoding supply them) records the same resolved options, so the
    row's hash still matches: checked on every stored row of each space's current choice, no refit."""
    from benchmarks.defaults.frozen import frozen_config

    checked: set[str] = set()
    for section, result, row in _frozen_rows():
        config, options = frozen_config(
            result, row["protocol"], row["train_size"], row["seed"], held_out=row.get("held_out", 0)
        )
        predictor = result["predictor"]
        assert options_hash(row_options(config, predictor, options)) == row["options_hash"], section
        bare = dataclasses.replace(config, space_options={})
        bare, space = with_chosen_space_options(bare)
        specs = resolve_specs({"p": (predictor, {})}, space, bare.train_metric)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            same = options_hash(row_options(bare, predictor, specs["p"][1])) == row["options_hash"]
        current = {k: v for k, v in result["chosen"].items() if k != "prune_graph"}
        if all(specs["p"][1].get(k, v) == v for k, v in current.items()):  # the space's current choice
            assert same, (section, row)
            checked.add(config.space)
        else:
            assert not same  # a superseded choice: another hash
    assert checked == {"nasbench201", "nasbench101"}


@pytest.mark.parametrize("path", sorted((REPO / "runs").glob("*.yaml")), ids=lambda p: p.name)
def test_search_surrogates_keep_their_own_settings(path: Path) -> None:
    """A guided search's surrogate is built from its YAML block alone: the space's predictor defaults
    (NB101: rank_weight 10) never reach it, so stored search benchmarks keep their settings."""
    raw = yaml.safe_load(path.read_text())
    if "optimizers" not in raw and "optimizer" not in raw:
        pytest.skip("not a search config")
    config = load_run_config(str(path))
    blocks = [b for b in config.optimizers if b.surrogate is not None and b.surrogate.name is not None]
    if not blocks:
        pytest.skip("no surrogate")
    for block in blocks:
        factory = block.surrogate
        assert factory is not None and factory.name is not None
        spec = block.options["surrogate"]
        given = {k: v for k, v in spec.items() if k != "name"} if isinstance(spec, dict) else {}
        given.update(given.pop("options", None) or {})
        assert dict(factory.options) == given  # nothing added to what the YAML says
        built = factory(0)
        train = getattr(built, "train_config", None)
        if train is not None and "rank_weight" not in given:
            assert train.rank_weight == _built(factory.name, {}).rank_weight  # the predictor's own default


def test_a_space_whose_defaults_are_wrong_is_refused_with_one_line() -> None:
    class Broken:
        name = "broken"

        def predictor_defaults(self, metric: str) -> PredictorSettings:
            return PredictorSettings({"nnformer": {"rank_wieght": 2.0}})

    with pytest.raises(ConfigError, match=r"'broken'.*predictor_defaults.*rank_wieght.*rank_weight"):
        space_predictor_settings(Broken(), "accuracy")

    class Unknown(Broken):
        def predictor_defaults(self, metric: str) -> PredictorSettings:
            return PredictorSettings({"nnformr": {}})

    with pytest.raises(ConfigError, match="nnformr"):
        space_predictor_settings(Unknown(), "accuracy")
    assert space_predictor_settings(object(), "accuracy") == PredictorSettings()


def test_compare_config_defaults_are_unchanged_for_a_space_that_carries_none() -> None:
    config = CompareConfig(name="c", sizes=[6], predictors={"x": {}}, space="chain")
    assert with_chosen_space_options(config)[0] is config


def test_compare_from_run_gets_the_runs_spaces_defaults_under_its_own_options(tmp_path: Path) -> None:
    """``--from-run`` knows the run's space: its predictor defaults apply under the options given
    (``max_steps: 300`` of ``--from-run``'s defaults), and the cells stay the run's own (pruned here)."""
    import nasearch
    from nasearch.compare.from_run import prepare_from_run

    run = {
        "name": "pruned",
        "search_space": {"name": "nasbench201", "prune_graph": True},
        "evaluator": {"name": "benchmark", "metric": ACCURACY["nasbench201"]},
        "optimizer": {"name": "random"},
        "budget": {"queries": 12},
        "parallel": {"backend": "serial"},
    }
    nasearch.run(run, out=tmp_path / "run", progress=False, log=lambda _: None)
    job = prepare_from_run(tmp_path / "run", predictors=["nnformer", "mlp"], log=lambda _: None)
    assert job.specs == {
        "nnformer": ("nnformer", {"max_steps": 300, "rank_weight": 0.2}),
        "mlp": ("mlp", {"max_steps": 300}),
    }
    assert job.task is not None and job.task.space.prune_graph is True
