"""``nasearch run`` end to end on the real NB201 tables (serial backend): tracking, resume,
failures, budgets, multi-objective fronts and ``nasearch plot``."""

from __future__ import annotations

import json

import pytest

from nasearch.cli.main import main
from nasearch.curves import load_run, queries_to_optimum
from nasearch.search.tracking import COMPLETE, FAIL, StudyTracker, load_study, storage_url

BASE = """\
name: {name}
seeds: [0, 1]
search_space: {{name: nasbench201}}
evaluator:
  name: {evaluator}
  metric: cifar10-valid/valid_accuracy
  test_metric: cifar10/test_accuracy
optimizer: {optimizer}
budget: {{queries: {queries}}}
parallel: {{backend: serial}}
"""


def config(
    tmp_path,
    name="t",
    evaluator="benchmark",
    optimizer="{name: evolution, population_size: 10, sample_size: 3}",
    queries=30,
    extra="",
):
    path = tmp_path / f"{name}.yaml"
    path.write_text(BASE.format(name=name, evaluator=evaluator, optimizer=optimizer, queries=queries) + extra)
    return str(path)


def run_cli(cfg, out, *sets):
    args = ["run", cfg, "--out", str(out), "--no-progress"]
    for s in sets:
        args += ["--set", s]
    return main(args)


def keys_of(out, study):
    recs = StudyTracker(
        storage_url(None, out), study, json.loads((out / "run.json").read_text())["objectives"]
    ).records()
    return [r.key for r in recs], recs


def test_run_records_every_evaluation_and_resumes_without_repeats(tmp_path, capsys):
    cfg, out = config(tmp_path), tmp_path / "out"
    assert run_cli(cfg, out) == 0
    text = capsys.readouterr().out
    assert "evolution" in text and "run folder" in text
    summary = json.loads((out / "summary.json").read_text())
    assert [(s["study"], s["queries"], s["replayed"]) for s in summary] == [
        ("t/seed-0", 30, 0),
        ("t/seed-1", 30, 0),
    ]
    keys0, recs0 = keys_of(out, "t/seed-0")
    assert len(keys0) == len(set(keys0)) == 30
    assert all(r.state == COMPLETE and r.simulated_seconds > 0 for r in recs0)
    assert summary[0]["best_value"] == max(r.metrics["cifar10-valid/valid_accuracy"] for r in recs0)

    # the same command again: everything replayed, nothing evaluated
    assert run_cli(cfg, out) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert [(s["queries"], s["replayed"]) for s in summary] == [(30, 30), (30, 30)]
    assert keys_of(out, "t/seed-0")[0] == keys0

    # a larger budget continues the same study: the first 30 unchanged, no repeats
    assert run_cli(cfg, out, "budget.queries=45", "seeds=[0]") == 0
    keys, _ = keys_of(out, "t/seed-0")
    assert keys[:30] == keys0 and len(keys) == len(set(keys)) == 45


def test_an_evaluator_that_raises_gives_failed_trials_and_the_search_goes_on(tmp_path):
    cfg = config(tmp_path, evaluator="search_helpers:FlakyBenchmark", optimizer="{name: random}", queries=40)
    out = tmp_path / "out"
    assert run_cli(cfg, out, "seeds=[0]") == 0
    _, recs = keys_of(out, "t/seed-0")
    failed = [r for r in recs if r.state == FAIL]
    assert len(recs) == 40 and 0 < len(failed) < 40
    assert all(r.arch.startswith("|avg_pool_3x3~0|") for r in failed)
    assert all("RuntimeError: simulated training crash on avg_pool_3x3" in r.error for r in failed)
    study = load_study(storage_url(None, out), "t/seed-0")
    assert sum(t.state.name == "FAIL" for t in study.trials) == len(failed)
    assert json.loads((out / "summary.json").read_text())[0]["failures"] == len(failed)


def test_simulated_time_budget(tmp_path):
    cfg = config(tmp_path, optimizer="{name: random}")
    out = tmp_path / "out"
    assert run_cli(cfg, out, "seeds=[0]", "budget={simulated_seconds: 20000}") == 0
    _, recs = keys_of(out, "t/seed-0")
    total = sum(r.simulated_seconds for r in recs)
    assert total >= 20000 and total - recs[-1].simulated_seconds < 20000


def test_several_optimizers_in_one_run_and_plot(tmp_path, capsys):
    cfg = config(
        tmp_path,
        name="cmp",
        queries=40,
        optimizer="""
  - {name: random}
  - {name: local_search, num_init: 5}
  - {name: predictor_evolution, label: pe, surrogate: {name: "search_helpers:RidgeSurrogate"}, k: 5}""",
    )
    out = tmp_path / "out"
    assert run_cli(cfg, out) == 0
    studies = load_run(out)
    assert sorted((s.label, s.seed) for s in studies) == [
        (lab, s) for lab in ("local_search", "pe", "random") for s in (0, 1)
    ]
    assert all(len(s.records) == 40 for s in studies)
    assert studies[0].optimum == pytest.approx(91.60666665)
    summary = json.loads((out / "summary.json").read_text())
    pe = [s for s in summary if s["label"] == "pe"]
    assert all(s["surrogate_fits"] >= 5 and s["surrogate_fit_seconds"] > 0 for s in pe)
    assert all(s["loop_overhead_per_query"] > 0 for s in summary)

    capsys.readouterr()
    assert main(["plot", str(out), "--out", str(tmp_path / "plots")]) == 0
    assert "optimum found in" in capsys.readouterr().out
    png, csv = tmp_path / "plots" / "search_curves.png", tmp_path / "plots" / "search_curves.csv"
    assert png.stat().st_size > 10_000
    import pandas as pd

    frame = pd.read_csv(csv)
    assert len(frame) == 3 * 2 * 40
    mean = pd.read_csv(tmp_path / "plots" / "search_curves_mean.csv")
    last = mean[mean["query"] == 40].set_index("optimizer")
    # best-so-far never decreases; regret is optimum minus best
    for _, group in frame.groupby(["optimizer", "seed"]):
        assert group["best"].is_monotonic_increasing
    assert (last["regret_mean"] - (91.60666665 - last["best_mean"])).abs().max() < 1e-6


def test_queries_to_optimum_counts_the_optimum_cell_or_an_isomorph(nb201_space):
    """The optimum counts as found at the first evaluation of its cell or of any cell with the same
    key (an isomorph, whose recorded accuracy differs); best-so-far and regret follow the records."""
    from nasearch.curves import StudyRun, trajectory
    from nasearch.evaluation.benchmark import BenchmarkEvaluator
    from nasearch.search.tracking import Record

    ev = BenchmarkEvaluator(
        nb201_space, metric="cifar10-valid/valid_accuracy", test_metric="cifar10/test_accuracy"
    )
    value, best_arch = ev.optimum()
    assert value == pytest.approx(91.60666665) and nb201_space.index(best_arch) == 6111
    # the optimum has no isomorph; take a cell that has one as the target of this check
    target = ("nor_conv_3x3", "nor_conv_3x3", "none", "skip_connect", "nor_conv_3x3", "none")
    iso = next(
        a
        for a in nb201_space.enumerate_product()
        if a != target and nb201_space.key(a) == nb201_space.key(target)
    )
    value = ev.evaluate(target).metrics[ev.objective]
    others = [nb201_space.from_index(i) for i in (0, 1, 2)]

    def rec(arch, state=COMPLETE):
        r = ev.evaluate(arch)
        return Record(
            0, nb201_space.to_str(arch), nb201_space.key(arch), state, r.metrics, 0.0, r.simulated_seconds
        )

    def study(records):
        return StudyRun(
            "r", "x", 0, ev.objective, True, ev.test_metric, value, nb201_space.key(target), None, records
        )

    t = trajectory(study([rec(others[0]), rec(others[1], FAIL), rec(iso), rec(others[2])]))
    assert t["found_optimum"].tolist() == [False, False, True, True]
    assert queries_to_optimum(study([rec(others[0]), rec(iso)])) == 2
    assert queries_to_optimum(study([rec(others[0]), rec(others[1])])) is None
    iso_value = ev.evaluate(iso).metrics[ev.objective]
    assert iso_value != value and t["regret"][-1] == pytest.approx(
        value - max(iso_value, *(ev.evaluate(a).metrics[ev.objective] for a in (others[0], others[2])))
    )  # others[1] failed


def test_multi_objective_run_reports_front_and_hypervolume(tmp_path, capsys):
    path = tmp_path / "mo.yaml"
    path.write_text("""\
name: mo
seeds: [0]
search_space: {name: nasbench201}
evaluator:
  name: benchmark
  objectives:
    - {metric: cifar10-valid/valid_accuracy, direction: maximize}
    - {metric: latency/pixel3, direction: minimize}
optimizer: {name: optuna, sampler: nsga2, sampler_options: {population_size: 10}}
budget: {queries: 40}
parallel: {backend: serial}
""")
    out = tmp_path / "out"
    assert run_cli(str(path), out) == 0
    assert "Pareto front of" in capsys.readouterr().out
    report = json.loads((out / "summary.json").read_text())[0]
    front = report["pareto_front"]
    assert front and report["hypervolume"] > 0
    accs = [p["cifar10-valid/valid_accuracy"] for p in front]
    lats = [p["latency/pixel3"] for p in front]
    # a front sorted by accuracy (descending) has strictly falling latency
    assert accs == sorted(accs, reverse=True) and all(a > b for a, b in zip(lats, lats[1:]))
    assert load_study(storage_url(None, out), "mo/seed-0").directions[1].name == "MINIMIZE"


def test_config_errors_print_one_line(tmp_path, capsys):
    cfg = config(tmp_path, optimizer="{name: evolution, populaton_size: 10}")
    assert run_cli(cfg, tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did you mean 'population_size'" in err and "line 8" in err


def test_runner_and_curves_agree_on_queries_to_optimum(tmp_path):
    """The run report's "queries to optimum" and the curves' trajectory are computed apart (the
    runner while searching, the curves from the stored trials): on the same run they must agree,
    on seeds that find the optimum and on seeds that do not."""
    cfg, out = config(tmp_path, optimizer="{name: local_search, num_init: 5}", queries=90), tmp_path / "out"
    assert run_cli(cfg, out, "seeds=[0, 1, 2, 3]") == 0
    summary = {s["study"]: s for s in json.loads((out / "summary.json").read_text())}
    studies = load_run(out)
    assert len(studies) == 4
    hits = {}
    for study in studies:
        name = next(k for k, s in summary.items() if s["seed"] == study.seed)
        hits[name] = queries_to_optimum(study)
        assert summary[name]["queries_to_optimum"] == hits[name]
    assert any(h is not None for h in hits.values()) and any(h is None for h in hits.values())


def test_summary_entries_carry_options_hash_version_and_commit(tmp_path):
    cfg, out = config(tmp_path, queries=12), tmp_path / "out"
    assert run_cli(cfg, out) == 0
    first, second = json.loads((out / "summary.json").read_text())
    assert first["options_hash"] == second["options_hash"] and first["version"]
    options = json.loads(first["options"])
    assert (
        options["budget"]["queries"] == 12 and "evolution" in json.dumps(options) and "seeds" not in options
    )
    assert run_cli(cfg, tmp_path / "other", "budget.queries=11") == 0
    assert (
        json.loads((tmp_path / "other" / "summary.json").read_text())[0]["options_hash"]
        != first["options_hash"]
    )
