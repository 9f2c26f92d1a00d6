"""Our surrogate-guided scheduler on the real NB201 tables: the optimizer re-told each promoted cell's
200-epoch result (``tell_full``, ``Retells``), the forest's two targets (the full-fidelity value or its
gain over the 12-epoch value), and resume of a search whose proposals follow the re-told results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nasearch.api.errors import ConfigError
from nasearch.api.fidelity import Job, Retells
from nasearch.config.loader import Source
from nasearch.config.run_schema import parse_run_config
from nasearch.evaluation.benchmark import BenchmarkEvaluator
from nasearch.optimizers.base import SpaceOptimizer
from nasearch.optimizers.random_search import RandomSearch
from nasearch.schedulers.surrogate import SurrogateScheduler
from nasearch.search.loop import run

METRIC = "cifar10-valid/valid_accuracy"


def _evaluator(space: Any) -> BenchmarkEvaluator:
    return BenchmarkEvaluator(space, metric=METRIC)


def _cfg(scheduler: dict[str, Any], optimizer: dict[str, Any], budget: float = 30_000) -> Any:
    data = {
        "name": "sur",
        "seeds": [0],
        "search_space": {"name": "nasbench201"},
        "evaluator": {"name": "benchmark", "metric": METRIC, "test_metric": "cifar10/test_accuracy"},
        "optimizer": optimizer,
        "scheduler": {"fidelities": [12, 200], **scheduler},
        "budget": {"simulated_seconds": budget},
        "parallel": {"backend": "serial", "workers": 4},
    }
    return parse_run_config(data, Source("<test>"))


def test_retell_replaces_the_first_result_in_place(nb201_space):
    """A cell told its 12-epoch result and re-told its 200-epoch one keeps its place in the history
    with the new score; the best cell follows; a cell never told is told."""
    ev = _evaluator(nb201_space)
    opt = RandomSearch(nb201_space, METRIC, seed=0)
    assert isinstance(opt, Retells)
    archs = opt.ask(3)
    for arch in archs:
        opt.tell(arch, ev.evaluate_at(arch, 12.0))
    low = [ev.evaluate_at(a, 12.0).metrics[METRIC] for a in archs]
    worst = archs[int(np.argmin(low))]
    opt.retell(worst, ev.evaluate_at(worst, 200.0))
    assert [nb201_space.key(a) for a, _ in opt.history] == [nb201_space.key(a) for a in archs]
    full = ev.evaluate_at(worst, 200.0).metrics[METRIC]
    assert full > max(low)  # a 200-epoch result beats every 12-epoch one here
    assert dict((nb201_space.key(a), s) for a, s in opt.history)[nb201_space.key(worst)] == (full,)
    assert nb201_space.key(opt.best(1)[0]) == nb201_space.key(worst)
    fresh = nb201_space.sample(np.random.default_rng(5))
    opt.retell(fresh, None)  # never told: told now (a failure)
    assert len(opt.history) == 4 and opt.history[-1][1] is None


@pytest.mark.parametrize(("tell_full", "shift_full"), [(True, False), (False, False), (True, True)])
def test_tell_full_hands_the_optimizer_every_promoted_cells_200_epoch_result(
    monkeypatch, tmp_path, tell_full, shift_full
):
    """With ``tell_full`` the loop re-tells each cell trained at 200 epochs after its 12-epoch result,
    with that 200-epoch result; without it, the optimizer hears only first results. With
    ``shift_full`` each promotion re-tells every cell promoted so far, itself included, shifted."""
    calls: list[tuple[str, float]] = []

    def spy(self: SpaceOptimizer, arch: Any, result: Any) -> None:
        calls.append((self.space.key(arch), result.metrics[METRIC]))

    monkeypatch.setattr(SpaceOptimizer, "retell", spy)
    sched = {
        "name": "surrogate",
        "eta": 3,
        "min_points": 2,
        "trees": 5,
        "tell_full": tell_full,
        "shift_full": shift_full,
    }
    (report,) = run(_cfg(sched, {"name": "random"}), tmp_path, progress=False, log=lambda m: None)
    from nasearch.search.tracking import load_study, storage_url

    trials = load_study(storage_url(None, tmp_path), report.study).get_trials(deepcopy=False)
    promoted = {
        t.user_attrs["key"]: (
            t.user_attrs["fidelities"]["12"]["value"],
            t.user_attrs["fidelities"]["200"]["value"],
        )
        for t in trials
        if set(t.user_attrs["fidelities"]) == {"12", "200"}
    }
    assert len(promoted) >= 3
    if not tell_full:
        assert calls == []
    elif not shift_full:
        assert sorted(calls) == sorted((k, full) for k, (_, full) in promoted.items())
    else:
        p = len(promoted)
        assert len(calls) == p * (p + 1) // 2 and {k for k, _ in calls} == set(promoted)
        shift = np.median([full - low for low, full in promoted.values()])
        last = dict(calls[-p:])  # the last promotion re-told them all with the final median gain
        assert last == pytest.approx({k: full - shift for k, (_, full) in promoted.items()})


def _fed(space: Any, target: str, n: int = 30) -> tuple[SurrogateScheduler, dict[str, tuple[float, float]]]:
    """A scheduler told 12- and 200-epoch results of ``n`` random NB201 cells and 12-epoch results of
    ``n`` more; ``{key: (12-epoch, 200-epoch)}`` of all of them."""
    ev = _evaluator(space)
    sched = SurrogateScheduler(space, eta=3, min_points=4, trees=20, seed=0, target=target)
    sched.bind([12.0, 200.0], True)
    rng = np.random.default_rng(3)
    values: dict[str, tuple[float, float]] = {}
    for i in range(2 * n):
        arch = space.sample(rng)
        key = space.key(arch)
        if key in values:
            continue
        low, full = (ev.evaluate_at(arch, f).metrics[METRIC] for f in (12.0, 200.0))
        values[key] = (low, full)
        sched.report(Job(key, arch, 12.0, 0), low)
        if i < n:
            sched.report(Job(key, arch, 200.0, 1), full)
    return sched, values


def test_the_value_forest_stays_within_the_full_scores_it_was_trained_on(nb201_space):
    sched, values = _fed(nb201_space, "value")
    trained = [values[k][1] for k in sched.done[1]]
    pred = sched.predicted(0)
    assert set(pred) == set(sched.done[0])
    assert min(trained) - 1e-9 <= min(pred.values()) and max(pred.values()) <= max(trained) + 1e-9


def test_the_gain_forest_adds_a_learnt_gain_to_the_12_epoch_value(nb201_space):
    """Each prediction is the cell's 12-epoch value plus a gain within the trained gains' range, so a
    cell better at 12 epochs than any trained one can be ranked above every trained full score."""
    sched, values = _fed(nb201_space, "gain")
    gains = [values[k][1] - values[k][0] for k in sched.done[1]]
    pred = sched.predicted(0)
    added = [pred[k] - values[k][0] for k in pred]
    assert min(gains) - 1e-9 <= min(added) and max(added) <= max(gains) + 1e-9
    ranked = sched.ranked(0)
    assert ranked == sorted(pred, key=lambda k: (-pred[k], k))
    # the order differs from the 12-epoch order: the architecture changes the gain
    assert ranked != sorted(pred, key=lambda k: (-values[k][0], k))


def test_bad_surrogate_options_give_one_clear_error():
    with pytest.raises(ConfigError, match="target must be one of value, gain"):
        SurrogateScheduler(target="delta")
    with pytest.raises(ConfigError, match="tell_full must be true or false"):
        SurrogateScheduler(tell_full="yes")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="shift_full must be true or false"):
        SurrogateScheduler(shift_full=1)  # type: ignore[arg-type]


def test_a_search_following_re_told_results_resumes_exactly(tmp_path: Path):
    """predictor_local_search (a random-forest surrogate) under the surrogate scheduler with
    ``tell_full``: stopping at a budget and resuming with a larger one gives the uninterrupted run's
    evaluations in the same order, the re-told results included."""
    from nasearch.search.tracking import load_study, storage_url

    sched = {"name": "surrogate", "eta": 3, "min_points": 2, "trees": 5, "tell_full": True, "target": "gain"}
    opt = {"name": "predictor_local_search", "surrogate": {"name": "random_forest"}, "k": 3, "num_init": 6}

    def events(folder: Path) -> list[tuple[str, str, float]]:
        (study,) = [
            s.study_name for s in __import__("optuna").get_all_study_summaries(storage_url(None, folder))
        ]
        trials = load_study(storage_url(None, folder), study).get_trials(deepcopy=False)
        out = {
            (t.user_attrs["key"], f): (e["end"], t.user_attrs["key"], f)
            for t in trials
            for f, e in t.user_attrs["fidelities"].items()
        }
        return sorted(out.values())

    run(_cfg(sched, opt, 30_000), tmp_path / "whole", progress=False, log=lambda m: None)
    run(_cfg(sched, opt, 12_000), tmp_path / "part", progress=False, log=lambda m: None)
    first = events(tmp_path / "part")
    assert any(f == "200" for _, _, f in first)
    run(_cfg(sched, opt, 30_000), tmp_path / "part", progress=False, log=lambda m: None)
    assert events(tmp_path / "part") == events(tmp_path / "whole")


def test_shift_full_re_tells_every_promoted_cell_on_the_12_epoch_scale(nb201_space):
    """``shift_full``: after a promotion, every promoted cell is re-told its 200-epoch value less the
    median 200 - 12 epoch gain of the promoted cells, so a mediocre cell trained fully no longer
    outranks every 12-epoch result; without it, only the finished cell is re-told, unshifted."""
    sched, values = _fed(nb201_space, "gain")
    key = next(iter(sched.done[1]))
    job = Job(key, sched.archs[key], 200.0, 1)
    assert sched.told_full(job, values[key][1]) == {key: (sched.archs[key], values[key][1])}
    sched.shift_full = True
    told = sched.told_full(job, values[key][1])
    assert set(told) == set(sched.done[1])
    shift = np.median([values[k][1] - values[k][0] for k in told])
    assert shift > 0
    for k, (arch, v) in told.items():
        assert arch is sched.archs[k] and v == pytest.approx(values[k][1] - shift)
    lows = [values[k][0] for k in sched.done[0] if k not in told]
    above = sum(low > min(values[k][1] for k in told) for low in lows)
    assert sum(low > min(v for _, v in told.values()) for low in lows) > above  # on one scale now
