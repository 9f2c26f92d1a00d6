"""Hardware-aware search for an unmeasured device: leave-one-chip-out training, cached predictions,
and fronts re-scored with the measured latency beside the oracle and the params proxy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nasearch.api.errors import ConfigError
from nasearch.config.registry import EVALUATORS
from nasearch.config.run_schema import load_run_config
from nasearch.data.devices import load_devices
from nasearch.optimizers.pareto import hypervolume
from nasearch.search.loop import run
from nasearch.search_spaces.nasbench201.benchmark import HELP_DEVICES
from nasearch.search_spaces.nasbench201.evaluators import PREDICTED, target_spec, training_devices

YAML = Path(__file__).resolve().parent.parent / "runs" / "nb201_zero_shot_pareto.yaml"
TINY_MODEL = (
    "{name: ledgformer, train_cells: 10, seed: 0,"
    " predictor: {epochs: 1, batch_size: 128, log_target: true, threads: 1}}"
)
AMPERE = {
    "vendor": "Nvidia",
    "kind": "GPU",
    "precision": "FP32",
    "peak_tflops": 35.6,
    "memory_bandwidth_gbs": 936,
    "architecture": "Ampere",
    "power_w": 350,
    "batch_size": 32,
}


@pytest.mark.parametrize("target", HELP_DEVICES)
def test_no_setting_of_the_target_chip_is_trained_on(target: str) -> None:
    table = load_devices()
    devices = training_devices(target_spec(target))
    assert target not in devices and devices
    assert all(table[d].chip != table[target].chip for d in devices)
    # every other chip's settings stay in training
    assert {d for d in HELP_DEVICES if table[d].chip != table[target].chip} == set(devices)


def test_a_shared_chip_leaves_with_its_twin_and_a_described_device_holds_nothing_out() -> None:
    assert "essential_ph_1" not in training_devices(target_spec("pixel2"))  # both Snapdragon 835
    assert training_devices(target_spec(AMPERE)) == list(HELP_DEVICES)
    assert not any(
        d.startswith("titan_rtx") for d in training_devices(target_spec(AMPERE), ("Titan RTX (TU102)",))
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"device": "titan_rtx_33"}, "did you mean 'titan_rtx_32'"),
        ({"device": "titan_rtx_32", "latency": "measured"}, "latency must be one of zero_shot, true, params"),
        ({"device": AMPERE, "latency": "true"}, "needs a device from the table"),
        (
            {"device": "titan_rtx_32", "latency_model": {"name": "ledgformer", "train_cell": 5}},
            "did you mean 'train_cells'",
        ),
        ({"device": "titan_rtx_32", "latency_model": {"name": "geomaen"}}, "did you mean 'geomean'"),
        (
            {"device": "titan_rtx_32", "latency_model": {"name": "combination"}},
            "needs measured cells of the target",
        ),
        (
            {"device": "titan_rtx_32", "measured_cells": {"|bogus~0|": 3.0}},
            "measured_cells: '|bogus~0|' is not",
        ),
        ({"device": "titan_rtx_32", "measured_cells": {"0": -1}}, "must map to a positive latency"),
        ({"device": {**AMPERE, "peak_tflops": -1}}, "peak_tflops must be a positive number"),
    ],
)
def test_bad_options_are_one_clear_error_before_any_training(nb201_space, options, message) -> None:
    with pytest.raises(ConfigError, match=message):
        EVALUATORS.create("hardware_aware", space=nb201_space, **options)


def test_shipped_config_runs_and_reports_true_hypervolumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The YAML end to end (a tiny latency model, one seed, random search, 20 queries)."""
    monkeypatch.setenv("NASEARCH_CACHE", str(tmp_path / "cache"))
    cfg = load_run_config(
        str(YAML),
        [
            f"evaluator.latency_model={TINY_MODEL}",
            "seeds=[0]",
            "budget.queries=20",
            "optimizer={name: random}",
        ],
    )
    (report,) = run(cfg, tmp_path / "run", progress=False)
    scores = report.reference_scores
    assert {
        "true_hypervolume",
        "latency_true_hypervolume",
        "latency_params_hypervolume",
        "ratio_to_oracle",
        "latency_params_ratio_to_oracle",
    } <= set(scores)
    assert scores["ratio_to_oracle"] == pytest.approx(
        scores["true_hypervolume"] / scores["latency_true_hypervolume"]
    )
    assert (tmp_path / "run" / "latency_true" / "study.db").is_file()
    assert (tmp_path / "run" / "latency_params" / "study.db").is_file()
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary[0]["reference_scores"]["true_hypervolume"] == scores["true_hypervolume"]

    # the true hypervolume is the found front re-scored with the measured titan_rtx_32 latency
    evaluator = EVALUATORS.create(
        "hardware_aware", space=_space(), **cfg.evaluator.options
    )  # cached: no retraining
    bench = evaluator.space.benchmark()
    true = bench.column("latency/titan_rtx_32")
    points = np.array(
        [[c["cifar10-valid/valid_accuracy"], -true[bench.index(c["arch"])]] for c in report.pareto_front]
    )
    assert hypervolume(points, scores["reference_point"]) == pytest.approx(scores["true_hypervolume"])
    # the search minimised the prediction, and recorded the measurement beside it
    assert evaluator.objectives[1] == (PREDICTED, False)
    record = evaluator.evaluate(report.pareto_front[0]["arch"]).metrics
    assert record[PREDICTED] == pytest.approx(report.pareto_front[0][PREDICTED])
    assert record["latency/titan_rtx_32"] == pytest.approx(true[bench.index(report.pareto_front[0]["arch"])])
    assert (
        len(list((tmp_path / "cache" / "zero_shot_latency").glob("*.npy"))) == 1
    )  # trained once for all runs


def _space():  # a fresh space: the evaluator must find the model in the cache, not in memory
    from nasearch.search_spaces.nasbench201.space import NasBench201Space

    return NasBench201Space()


def test_a_device_given_only_by_attributes_is_searched_without_an_oracle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The YAML's commented variant: nothing measured, so the search runs on the prediction alone."""
    monkeypatch.setenv("NASEARCH_CACHE", str(tmp_path / "cache"))
    device = "{" + ", ".join(f"{k}: {v}" for k, v in AMPERE.items()) + "}"
    cfg = load_run_config(
        str(YAML),
        [
            f"evaluator.device={device}",
            f"evaluator.latency_model={TINY_MODEL}",
            "seeds=[0]",
            "budget.queries=10",
            "optimizer={name: random}",
        ],
    )
    (report,) = run(cfg, tmp_path / "run", progress=False)
    assert report.queries == 10 and report.reference_scores == {}
    assert not (tmp_path / "run" / "latency_true").exists()
    assert report.pareto_front and all(cell[PREDICTED] > 0 for cell in report.pareto_front)


def test_the_loop_hands_the_evaluators_known_latency_to_front_ehvi(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the run loop: ``front_ehvi`` gets the evaluator's ``known_values`` (the zero-shot latency of
    any cell, no evaluation spent) and learns only the accuracy."""
    from nasearch.optimizers.front_ehvi import FrontEHVI

    monkeypatch.setenv("NASEARCH_CACHE", str(tmp_path / "cache"))
    lookups: list = []
    fits: list = []
    original = FrontEHVI.use_known_metrics

    def spy(self, lookup):  # noqa: ANN001 - the optimizer's own signature
        lookups.append(lookup)
        fits.append(self.surrogates)
        original(self, lookup)

    monkeypatch.setattr(FrontEHVI, "use_known_metrics", spy)
    cfg = load_run_config(
        str(YAML),
        [
            "seeds=[0]",
            "budget.queries=25",
            "evaluator.references=[]",
            "optimizer={name: front_ehvi, surrogate: {name: random_forest, n_estimators: 10}}",
        ],
    )
    (report,) = run(cfg, tmp_path / "run", progress=False)
    assert len(lookups) == 1
    accuracy, latency = fits[0]
    assert accuracy.fits >= 3 and latency.fits == 0  # 15 guided queries in rounds of 5: latency never learnt
    evaluator = EVALUATORS.create("hardware_aware", space=_space(), **cfg.evaluator.options)
    cells = [c["arch"] for c in report.pareto_front]
    looked_up = np.asarray(lookups[0](cells)[PREDICTED], dtype=float)
    assert np.allclose(looked_up, [c[PREDICTED] for c in report.pareto_front])
    assert np.allclose(looked_up, [evaluator.evaluate(a).metrics[PREDICTED] for a in cells])
