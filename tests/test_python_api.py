"""nasearch from Python (issue 26): ``run`` / ``load`` / ``plot`` / ``compare`` on the real NB201 table,
with the same validation and the same run folder as the command line."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import nasearch
from nasearch.api.errors import ConfigError

OBJECTIVE = "cifar10-valid/valid_accuracy"
TEST = "cifar10/test_accuracy"


def _config(name: str = "api", queries: int = 12) -> dict:
    return {
        "name": name,
        "seeds": [0, 1],
        "search_space": {"name": "nasbench201"},
        "evaluator": {"name": "benchmark", "metric": OBJECTIVE, "test_metric": TEST},
        "optimizer": [{"name": "random"}, {"name": "local_search"}],
        "budget": {"queries": queries},
        "parallel": {"backend": "serial"},
    }


@pytest.fixture(scope="module")
def result(tmp_path_factory):  # type: ignore[no-untyped-def]
    """A real two-optimizer, two-seed run, started from a mapping (no Source, no YAML file)."""
    out = tmp_path_factory.mktemp("api") / "run"
    return nasearch.run(_config(), out=out, progress=False)


def test_run_from_a_mapping_returns_every_evaluation(result) -> None:  # type: ignore[no-untyped-def]
    trials = result.trials
    assert len(trials) == 2 * 2 * 12
    for column in (
        "optimizer",
        "seed",
        "query",
        "trial",
        "arch",
        "key",
        "state",
        OBJECTIVE,
        TEST,
        "fidelity",
        "cost_seconds",
        "simulated_seconds",
    ):
        assert column in trials.columns
    assert set(trials["optimizer"]) == {"random", "local_search"} and set(trials["seed"]) == {0, 1}
    assert set(trials["state"]) == {"COMPLETE"}
    assert trials["arch"].str.startswith("|").all()  # NB201 cell strings
    assert (trials["simulated_seconds"] > 0).all()
    assert trials["fidelity"].isna().all()  # no scheduler and no fidelity in the evaluator's config
    # the frame is the study: one row per Optuna trial, values equal to the trial's objective
    study = result.study("random", 1)
    values = [t.values[0] for t in sorted(study.trials, key=lambda t: t.number)]
    rows = trials[(trials["optimizer"] == "random") & (trials["seed"] == 1)].sort_values("query")
    assert rows[OBJECTIVE].tolist() == pytest.approx(values)


def test_incumbents_agree_with_the_trials_and_the_summary(result) -> None:  # type: ignore[no-untyped-def]
    inc = result.incumbents.set_index(["optimizer", "seed"])
    best = result.trials.groupby(["optimizer", "seed"])[OBJECTIVE].max()
    assert inc["value"].to_dict() == pytest.approx(best.to_dict())
    summary = {(e["label"], e["seed"]): e for e in json.loads((result.run_dir / "summary.json").read_text())}
    for (label, seed), row in inc.iterrows():
        entry = summary[(label, seed)]
        assert row["arch"] == entry["best_arch"] and row["test_value"] == pytest.approx(
            entry["incumbent_test"]
        )
        q = result.queries_to_optimum[(label, seed)]
        assert (None if pd.isna(q) else int(q)) == entry["queries_to_optimum"]
    assert inc["optimum_known"].all()


def test_load_reads_the_same_folder_back(result) -> None:  # type: ignore[no-untyped-def]
    loaded = nasearch.load(result.run_dir)
    assert loaded.reports is None
    assert loaded.trials.equals(result.trials)
    assert set(loaded.studies) == {(lab, s) for lab in ("random", "local_search") for s in (0, 1)}
    assert "random, local_search" in repr(loaded)


def test_run_writes_the_same_folder_as_the_cli(result) -> None:  # type: ignore[no-untyped-def]
    for name in (
        "config.yaml",
        "run.json",
        "summary.json",
        "study.db",
        "fingerprint.json",
        "search_curves.png",
    ):
        assert (result.run_dir / name).is_file(), name


def test_plot_returns_the_figure(result, tmp_path) -> None:  # type: ignore[no-untyped-def]
    fig = result.plot(out=tmp_path)
    assert fig.axes and fig.axes[0].get_yscale() == "symlog"  # regret leads
    assert (tmp_path / "search_curves.png").stat().st_size > 10_000


def test_a_bad_mapping_is_one_line_naming_the_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg = _config()
    cfg["budget"] = {"querys": 5}
    with pytest.raises(ConfigError) as info:
        nasearch.run(cfg, out=tmp_path / "bad")
    text = str(info.value)
    assert (
        "\n" not in text
        and "<config mapping>" in text
        and "querys" in text
        and "did you mean 'queries'" in text
    )
    assert not (tmp_path / "bad").exists()


def test_overrides_apply_to_paths_mappings_and_run_configs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import yaml

    from nasearch.python_api import run_config

    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(_config()))
    assert run_config(path, ["budget.queries=3"]).budget.queries == 3
    assert run_config(_config(), ["seeds=[4]"]).seeds == [4]
    cfg = run_config(path)
    assert run_config(cfg, ["budget.queries=7"]).budget.queries == 7 and cfg.budget.queries == 12
    with pytest.raises(ConfigError, match="budget.queries must be >= 1"):
        run_config(cfg, ["budget.queries=0"])
    with pytest.raises(ConfigError, match="YAML path, a mapping or a RunConfig"):
        run_config(42)  # type: ignore[arg-type]


def test_a_trials_fidelity_attribute_is_read(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A scheduler records the fidelity of a trial's value as the trial attribute ``fidelity``."""
    cfg = _config("fid", 3)
    cfg["optimizer"], cfg["seeds"] = {"name": "random"}, [0]
    r = nasearch.run(cfg, out=tmp_path / "fid", progress=False)
    from nasearch.search.tracking import StudyTracker
    from nasearch.search_spaces.nasbench201.space import NasBench201Space

    space = NasBench201Space()
    tracker = StudyTracker(r.storage, "fid/seed-0", r.objectives, space=space)
    arch = space.sample(__import__("numpy").random.default_rng(5))
    from nasearch.api import Result

    tracker.record(arch, Result({OBJECTIVE: 80.0}, 1.0, 2.0), user_attrs={"fidelity": 12})
    frame = r.refresh().trials
    assert frame["fidelity"].iloc[:3].isna().all() and frame["fidelity"].iloc[3] == 12.0


def test_the_evaluators_configured_fidelity_fills_the_column(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg = _config("fid12", 3)
    cfg["optimizer"], cfg["seeds"] = {"name": "random"}, [0]
    cfg["evaluator"] = {"name": "benchmark", "metric": OBJECTIVE, "fidelity": 12}
    frame = nasearch.run(cfg, out=tmp_path / "f12", progress=False).trials
    assert (frame["fidelity"] == 12.0).all()
    assert any(c.endswith("@12ep") for c in frame.columns) or frame[OBJECTIVE].notna().any()


def test_compare_from_a_run_returns_rows_and_curves(result, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cmp = nasearch.compare(
        from_run=result,
        predictors=["random_forest"],
        sizes=[10, 20],
        seeds=[0, 1],
        out=tmp_path / "cmp",
        log=lambda _: None,
    )
    assert len(cmp.results) == 4 and set(cmp.results["train_size"]) == {10, 20}
    curves = cmp.curves.set_index(["predictor", "train_size"])
    assert (curves["kendall_tau_count"] == 2).all()
    tau = cmp.results.groupby("train_size")["kendall_tau"].mean()
    assert curves.loc[("random_forest", 10), "kendall_tau_mean"] == pytest.approx(tau[10])
    assert cmp.plot().axes[0].get_xscale() == "log"
    assert (tmp_path / "cmp" / "results.csv").is_file()


def test_compare_from_a_mapping(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg = {
        "name": "cmpmap",
        "sizes": [20],
        "seeds": [0],
        "predictors": {"random_forest": {}},
        "protocol": "random",
        "test_subsample": 200,
        "space_options": {"prune_graph": True},
    }
    cmp = nasearch.compare(cfg, out=tmp_path / "m", log=lambda _: None)
    assert len(cmp.results) == 1 and math.isfinite(cmp.results["kendall_tau"].iloc[0])
    with pytest.raises(ConfigError, match="sizes"):
        nasearch.compare({**cfg, "sizes": [1]}, out=tmp_path / "m2")


def test_import_nasearch_stays_cheap() -> None:
    code = (
        "import sys, nasearch; heavy = [m for m in ('pandas', 'optuna', 'torch', 'matplotlib', 'ray') "
        "if m in sys.modules]; print(','.join(heavy)); nasearch.load"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        nasearch.nope  # noqa: B018


def test_the_api_reads_a_folder_the_cli_wrote(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import yaml

    from nasearch.cli.main import main

    cfg = _config("cli", 4)
    cfg["seeds"] = [0]
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--no-progress"]) == 0
    r = nasearch.load(tmp_path / "o")
    assert len(r.trials) == 8 and r.incumbents["queries"].tolist() == [4, 4]
    assert Path(r.run_dir) == tmp_path / "o"


def test_failed_evaluations_are_rows_with_their_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg = _config("flaky", 30)
    cfg["seeds"], cfg["optimizer"] = [0], {"name": "random"}
    cfg["evaluator"] = {"name": "search_helpers:FlakyBenchmark", "metric": OBJECTIVE, "test_metric": TEST}
    r = nasearch.run(cfg, out=tmp_path / "flaky", progress=False)
    trials = r.trials
    failed = trials[trials["state"] == "FAIL"]
    assert len(trials) == 30 and 0 < len(failed) < 30
    assert failed["error"].str.contains("simulated training crash").all() and failed[OBJECTIVE].isna().all()
    assert failed["failure"].eq("cell").all()
    assert r.incumbents["failures"].tolist() == [len(failed)]
