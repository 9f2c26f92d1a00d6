"""Latency estimators on the real HELP tables: what each reads, what it predicts, and the registry."""

from __future__ import annotations

import numpy as np
import pytest

from nasearch.api.errors import ConfigError
from nasearch.config.registry import EVALUATORS
from nasearch.data.devices import load_devices
from nasearch.metrics.front import rank_agreement
from nasearch.search_spaces.nasbench201.benchmark import HELP_DEVICES
from nasearch.search_spaces.nasbench201.latency_models import (
    DEFAULT_ESTIMATOR,
    LATENCY_MODELS,
    FewShotCombination,
    GeometricMean,
    NearestDevice,
    build_task,
    die_of,
    nb201_flops,
    op_counts,
)

MODEL_FREE = [n for n in LATENCY_MODELS.names() if n not in ("ledgformer", "combination")]


def _die_out(target: str) -> list[str]:
    return [d for d in HELP_DEVICES if die_of(d) != die_of(target)]


def test_a_die_leaves_with_every_card_and_setting_on_it() -> None:
    assert {d for d in HELP_DEVICES if die_of(d) == "TU102"} == {
        f"{c}_{b}" for c in ("2080ti", "titan_rtx") for b in (1, 32, 256)
    }
    assert len([d for d in HELP_DEVICES if die_of(d) == "GP102"]) == 9
    assert die_of("pixel2") == die_of("essential_ph_1") != die_of("pixel3")
    assert die_of("gold_6226") != die_of("gold_6240")


@pytest.mark.parametrize("name", [*MODEL_FREE, "combination"])
def test_every_estimator_predicts_every_cell_from_other_dies(nb201_space, name: str) -> None:
    target = load_devices()["titan_rtx_32"]
    bench = nb201_space.benchmark()
    true = np.asarray(bench.column("latency/titan_rtx_32"), dtype=float)
    shots = {int(i): float(true[i]) for i in range(0, 15625, 1563)} if name == "combination" else None
    task = build_task(nb201_space, target, _die_out("titan_rtx_32"), shots)
    pred = LATENCY_MODELS.create(name).estimate(task)
    assert pred.shape == (15625,) and np.isfinite(pred).all() and (pred > 0).all()
    # a latency model of a GPU orders the cells much as the GPU does (params alone: tau ~0.6 here)
    assert rank_agreement(pred, true).kendall_tau > 0.5


def test_the_geometric_mean_is_over_the_target_family_by_hand(nb201_space) -> None:
    target = load_devices()["gold_6226"]
    devices = _die_out("gold_6226")
    task = build_task(nb201_space, target, devices)
    cpus = [d for d in devices if load_devices()[d].family == "CPU"]
    assert (
        [devices[k] for k in GeometricMean().chosen(task)]
        == cpus
        == ["gold_6240", "silver_4114", "silver_4210r"]
    )
    bench = nb201_space.benchmark()
    cell = 1234
    by_hand = np.prod([bench.column(f"latency/{d}")[cell] for d in cpus]) ** (1 / 3)
    assert GeometricMean().estimate(task)[cell] == pytest.approx(by_hand)
    assert len(GeometricMean(family="all").chosen(task)) == len(devices) == 26


def test_the_nearest_device_is_chosen_from_the_description_only(nb201_space) -> None:
    target = load_devices()["titan_rtx_32"]
    task = build_task(nb201_space, target, _die_out("titan_rtx_32"))
    nearest = NearestDevice().nearest(task)
    assert load_devices()[nearest].batch_size == 32 and load_devices()[nearest].kind == "GPU"
    assert "titan_rtx_32" not in task.devices  # its own table is not even in the task
    # the description decides: the same card described at batch 256 gets a batch-256 table
    import dataclasses

    task.target = dataclasses.replace(target, batch_size=256)
    assert load_devices()[NearestDevice().nearest(task)].batch_size == 256


def test_flops_count_every_edge_by_hand(nb201_space) -> None:
    counts = op_counts(nb201_space)
    assert counts.sum(axis=1).tolist() == [6.0] * 15625
    bench = nb201_space.benchmark()
    i = bench.index(("nor_conv_3x3",) * 6)
    # 6 conv3x3 per cell x 5 cells per stage x 2 x 9 x C^2 x H^2 at (16, 32), (32, 16), (64, 8)
    assert nb201_flops(nb201_space)[i] == pytest.approx(6 * 5 * 2 * 9 * 3 * (16 * 16 * 32 * 32) / 1e6)


def test_the_few_shot_combination_recovers_a_scaled_training_table(nb201_space) -> None:
    """Shots from 2 x 1080ti_32's table: the non-negative combination finds that device and the scale."""
    bench = nb201_space.benchmark()
    devices = _die_out("titan_rtx_32")
    source = 2.0 * np.asarray(bench.column("latency/1080ti_32"), dtype=float)
    rng = np.random.default_rng(0)
    shots = {int(i): float(source[i]) for i in rng.choice(15625, size=20, replace=False)}
    task = build_task(nb201_space, load_devices()["titan_rtx_32"], devices, shots)
    model = FewShotCombination(ridge=0.0)
    w, _ = model.weights(task)
    assert devices[int(np.argmax(w))] == "1080ti_32" and w.max() > 0.9
    assert np.median(np.abs(model.estimate(task) / source - 1)) < 0.02


def _op_target(nb201_space, rng: np.random.Generator, k: int) -> tuple[np.ndarray, dict[int, float]]:
    """A target (a unit-test construction, not a device): 1080ti_32's table times exp(0.3 per 3x3 conv edge
    - 0.2 per pool edge), which no non-negative combination of the training tables gives; k shots of it."""
    bench = nb201_space.benchmark()
    counts = op_counts(nb201_space)
    source = np.asarray(bench.column("latency/1080ti_32"), dtype=float) * np.exp(
        0.3 * counts[:, 3] - 0.2 * counts[:, 4]
    )
    return source, {int(i): float(source[i]) for i in rng.choice(15625, size=k, replace=False)}


def test_the_op_count_correction_recovers_a_per_op_cost_the_devices_lack(nb201_space) -> None:
    source, shots = _op_target(nb201_space, np.random.default_rng(1), 30)
    devices = _die_out("titan_rtx_32")
    task = build_task(nb201_space, load_devices()["titan_rtx_32"], devices, shots)
    w, _ = FewShotCombination(ridge=0.0, op_ridge=1e-6).weights(task)
    d = len(devices)
    per_op = w[d : d + 4] - w[d + 4 :]  # skip, 1x1, 3x3, pool: the + and - columns
    assert per_op[2] == pytest.approx(0.3, abs=0.02) and per_op[3] == pytest.approx(-0.2, abs=0.02)
    corrected = FewShotCombination(ridge=0.0, op_ridge=1e-6).estimate(task)
    plain = FewShotCombination(ridge=0.0).estimate(task)
    assert rank_agreement(corrected, source).spearman_rho > 0.99 > rank_agreement(plain, source).spearman_rho


def test_a_list_of_op_ridges_is_chosen_per_target_by_leave_one_out(nb201_space) -> None:
    source, shots = _op_target(nb201_space, np.random.default_rng(2), 10)
    devices = _die_out("titan_rtx_32")
    target = load_devices()["titan_rtx_32"]
    model = FewShotCombination(op_ridge=[None, 0.1])
    assert model.choose_op_ridge(build_task(nb201_space, target, devices, shots)) == 0.1
    bench = nb201_space.benchmark()
    plain = 2.0 * np.asarray(bench.column("latency/1080ti_32"), dtype=float)
    plain_shots = {i: float(plain[i]) for i in shots}
    assert model.choose_op_ridge(build_task(nb201_space, target, devices, plain_shots)) is None


@pytest.mark.parametrize("bad", [0, -1.0, "x", [], [None, -2.0]])
def test_a_bad_op_ridge_is_one_config_error(bad) -> None:
    with pytest.raises(ConfigError, match="op_ridge"):
        FewShotCombination(op_ridge=bad)


def test_ten_measured_cells_rank_a_cpu_better_than_no_cell(nb201_space) -> None:
    bench = nb201_space.benchmark()
    true = np.asarray(bench.column("latency/gold_6226"), dtype=float)
    rng = np.random.default_rng(3)
    shots = {int(i): float(true[i]) for i in rng.choice(15625, size=10, replace=False)}
    target, devices = load_devices()["gold_6226"], _die_out("gold_6226")
    few = FewShotCombination().estimate(build_task(nb201_space, target, devices, shots))
    zero = GeometricMean(family="all").estimate(build_task(nb201_space, target, devices))
    assert rank_agreement(few, true).spearman_rho > rank_agreement(zero, true).spearman_rho


def test_the_evaluator_uses_the_default_estimator_and_few_shot_cells(nb201_space) -> None:
    ev = EVALUATORS.create("hardware_aware", space=nb201_space, device="titan_rtx_32", references=[])
    assert type(ev.model) is LATENCY_MODELS.get(DEFAULT_ESTIMATOR)
    bench = nb201_space.benchmark()
    true = np.asarray(bench.column("latency/titan_rtx_32"), dtype=float)
    measured = {nb201_space.to_str(bench.arch(i)): float(true[i]) for i in range(0, 15625, 1500)}
    few = EVALUATORS.create(
        "hardware_aware",
        space=nb201_space,
        device="titan_rtx_32",
        references=[],
        latency_model={"name": "combination"},
        measured_cells=measured,
    )
    assert isinstance(few.model, FewShotCombination)
    assert not np.allclose(few.predicted, ev.predicted)


def test_a_bad_estimator_option_is_one_config_error(nb201_space) -> None:
    with pytest.raises(ConfigError, match="family must be 'same' or 'all'"):
        EVALUATORS.create(
            "hardware_aware",
            space=nb201_space,
            device="titan_rtx_32",
            latency_model={"name": "geomean", "family": "gpu"},
        )


def test_the_shipped_yaml_runs_on_its_default_estimator(tmp_path, monkeypatch) -> None:
    """runs/nb201_zero_shot_pareto.yaml as shipped (no model to train): 10 random queries, scored
    against the oracle and the proxy with the measured latency."""
    from pathlib import Path

    from nasearch.config.run_schema import load_run_config
    from nasearch.search.loop import run

    monkeypatch.setenv("NASEARCH_CACHE", str(tmp_path / "cache"))
    yaml = Path(__file__).resolve().parent.parent / "runs" / "nb201_zero_shot_pareto.yaml"
    cfg = load_run_config(str(yaml), ["seeds=[0]", "budget.queries=10", "optimizer={name: random}"])
    assert cfg.evaluator.options["latency_model"]["name"] == DEFAULT_ESTIMATOR
    (report,) = run(cfg, tmp_path / "run", progress=False)
    assert report.queries == 10 and report.reference_scores["true_hypervolume"] >= 0
    assert not (tmp_path / "cache" / "zero_shot_latency").exists()  # nothing was trained
