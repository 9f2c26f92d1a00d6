"""The ``train`` evaluator as a multi-fidelity evaluator: epochs as fidelity, promotion continuing from
the cell's checkpoint (only the missing epochs trained, the same numbers as a straight training), a
damaged checkpoint never used, one clear error per bad ``fidelities`` option, and a scheduled search
with real training that prunes, records intermediate values and resumes without retraining."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest
import torch

from nasearch.api.errors import ConfigError
from nasearch.api.fidelity import Continues, MultiFidelity
from nasearch.config.run_schema import load_run_config
from nasearch.evaluation import checkpoints
from nasearch.evaluation.training import TrainingEvaluator
from nasearch.search_spaces.nasbench201.space import NasBench201Space

torch.set_num_threads(1)
MF = Path(__file__).resolve().parent.parent / "runs" / "digits_multifidelity.yaml"
TINY = {"C": 4, "N": 1}
SAME = ("valid_accuracy", "valid_loss", "test_accuracy", "train_loss", "params", "flops", "epochs")


@pytest.fixture(scope="module")
def space() -> NasBench201Space:
    return NasBench201Space()


@pytest.fixture(scope="module")
def arch(space: NasBench201Space) -> Any:
    return space.sample(np.random.default_rng(3))


def _ev(space: NasBench201Space, folder: Path, **options: Any) -> TrainingEvaluator:
    settings: dict[str, Any] = {"epochs": 3, "fidelities": [1, 3], "network": TINY, "num_threads": 1}
    return TrainingEvaluator(space, checkpoint_dir=str(folder), **{**settings, **options})


@pytest.fixture(scope="module")
def straight(space: NasBench201Space, arch: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A straight 3-epoch training (no checkpoint to continue from)."""
    return _ev(space, tmp_path_factory.mktemp("straight")).evaluate_at(arch, 3)


def test_offers_its_fidelities_and_continues(space: NasBench201Space, tmp_path: Path) -> None:
    ev = _ev(space, tmp_path)
    assert isinstance(ev, MultiFidelity) and isinstance(ev, Continues)
    assert ev.fidelities() == (1.0, 3.0)
    assert TrainingEvaluator(space, epochs=2, network=TINY).fidelities() == (2.0,)  # default: the full one


def test_promotion_trains_only_the_missing_epochs_and_equals_a_straight_training(
    space: NasBench201Space, arch: Any, straight: Any, tmp_path: Path
) -> None:
    ev = _ev(space, tmp_path)
    low = ev.evaluate_at(arch, 1)
    assert (low.info["resumed_from"], low.info["epochs_trained"]) == (0, 1)
    assert sorted(low.info["intermediate_values"]) == [1]
    path = checkpoints.checkpoint_path(tmp_path, space.key(arch))
    assert path.exists()
    assert ev.promotion_cost(arch, 1, 3) == pytest.approx(2 * low.metrics["train_seconds"])
    high = ev.evaluate_at(arch, 3)
    assert (high.info["resumed_from"], high.info["epochs_trained"]) == (1, 2)
    assert sorted(high.info["intermediate_values"]) == [2, 3]  # the learning curve of the new epochs
    assert high.cost_seconds == high.simulated_seconds > 0  # this step's own time
    # continuing 1 -> 3 is exactly the straight 3-epoch training (same seed, CPU, one thread)
    assert {m: high.metrics[m] for m in SAME} == {m: straight.metrics[m] for m in SAME}
    assert straight.info["epochs_trained"] == 3
    # ... and the full training under evaluate (the schedule is the full one at every rung)
    full = ev.evaluate(arch)
    assert {m: full.metrics[m] for m in SAME} == {m: straight.metrics[m] for m in SAME}
    assert not path.exists()  # the full fidelity needs no checkpoint: nothing continues it


def test_a_step_repeated_after_a_kill_trains_nothing_and_gives_the_same_numbers(
    space: NasBench201Space, arch: Any, tmp_path: Path
) -> None:
    """A process killed after writing the checkpoint but before the loop stored the result reruns the step."""
    ev = _ev(space, tmp_path)
    first = ev.evaluate_at(arch, 1)
    again = ev.evaluate_at(arch, 1)
    assert (again.info["resumed_from"], again.info["epochs_trained"]) == (1, 0)
    assert {m: again.metrics[m] for m in SAME} == {m: first.metrics[m] for m in SAME}


def test_the_low_fidelity_is_the_first_epochs_of_the_full_schedule(
    space: NasBench201Space, arch: Any, tmp_path: Path
) -> None:
    """At 1 epoch under the 3-epoch cosine schedule, not a 1-epoch schedule of its own (as evaluate(epochs=1))."""
    low = _ev(space, tmp_path).evaluate_at(arch, 1)
    own = _ev(space, tmp_path / "own").evaluate(arch, epochs=1)
    assert low.metrics["train_loss"] != own.metrics["train_loss"]


def test_a_truncated_checkpoint_is_reported_and_never_used(
    space: NasBench201Space, arch: Any, straight: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ev = _ev(space, tmp_path)
    ev.evaluate_at(arch, 1)
    path = checkpoints.checkpoint_path(tmp_path, space.key(arch))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with caplog.at_level(logging.WARNING, logger="nasearch.checkpoints"):
        high = ev.evaluate_at(arch, 3)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and str(path) in warnings[0] and "truncated" in warnings[0]
    assert (high.info["resumed_from"], high.info["epochs_trained"]) == (0, 3)  # retrained from scratch
    assert {m: high.metrics[m] for m in SAME} == {m: straight.metrics[m] for m in SAME}


def test_a_checkpoint_of_other_training_options_is_not_continued(
    space: NasBench201Space, arch: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _ev(space, tmp_path, learning_rate=0.1).evaluate_at(arch, 1)
    with caplog.at_level(logging.WARNING, logger="nasearch.checkpoints"):
        high = _ev(space, tmp_path).evaluate_at(arch, 3)
    assert high.info["resumed_from"] == 0
    assert any("other training options" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("fidelities", "words"),
    [
        ([1, 2], "must end at epochs (3"),
        ([3, 1, 3], "strictly ascending"),
        ([0, 3], "positive whole epochs"),
        ([1.5, 3], "positive whole epochs"),
        ([], "positive whole epochs"),
        ("1,3", "positive whole epochs"),
        ([True, 3], "positive whole epochs"),
    ],
)
def test_bad_fidelities_are_one_clear_error(space: NasBench201Space, fidelities: Any, words: str) -> None:
    with pytest.raises(ConfigError, match="option fidelities") as err:
        TrainingEvaluator(space, epochs=3, fidelities=fidelities, network=TINY)
    assert words in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("fidelities", "words"),
    [
        ({"min": 0}, "min must be >= 1 and below max"),
        ({"min": 9}, "min must be >= 1 and below max"),
        ({"min": 1, "max": 5}, "max must be epochs (9"),
        ({"min": 1.5}, "whole epochs"),
        ({"min": "1"}, "whole epochs"),
        ({}, "whole epochs"),
        ({"min": 1, "step": 2}, "unknown key(s) step"),
    ],
)
def test_a_bad_range_of_epochs_is_one_clear_error(
    space: NasBench201Space, fidelities: Any, words: str
) -> None:
    with pytest.raises(ConfigError, match="option fidelities: a range is") as err:
        TrainingEvaluator(space, epochs=9, fidelities=fidelities, network=TINY)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_a_range_of_epochs_offers_each_epoch_and_schedulers_derive_their_rungs(
    space: NasBench201Space,
) -> None:
    from nasearch.api.fidelity import FidelityRange
    from nasearch.config.blocks import Block
    from nasearch.schedulers.config import build_scheduler, rungs

    ev = TrainingEvaluator(space, epochs=9, fidelities={"min": 1}, network=TINY)
    assert isinstance(ev, FidelityRange) and ev.fidelity_range() == (1.0, 9.0)
    assert ev.fidelities() == tuple(float(e) for e in range(1, 10))  # any whole epoch may be asked for
    assert _ev(space, Path("unused")).fidelity_range() is None  # a list: the list is the ladder

    def ladder(name: str, **options: Any) -> list[float]:
        block = Block(name=name, options=options)
        sched = build_scheduler(block, space, 0, list(ev.fidelities()), True, "<test>", ev.fidelity_range())
        return list(sched.fidelities)

    assert ladder("asha", eta=3) == ladder("successive_halving", eta=3) == [1.0, 3.0, 9.0]
    assert ladder("hyperband", eta=9) == [1.0, 9.0]
    assert ladder("top_k", n_low=4, k=2) == [1.0, 9.0]  # no reduction factor: the range's two ends
    assert ladder("asha", eta=3, fidelities=[2.0, 9.0]) == [2.0, 9.0]  # the block's own list wins
    # the rule: the full fidelity, then 1/eta of it, 1/eta^2 ... in whole epochs, not below the range's min
    assert rungs(1, 12, 3) == [1.0, 4.0, 12.0] and rungs(3, 12, 3) == [4.0, 12.0]
    assert rungs(2, 200, 3) == [2.0, 7.0, 22.0, 67.0, 200.0] and rungs(1, 2, 3) == [1.0, 2.0]


def test_a_scheduled_search_over_a_range_of_epochs(tmp_path: Path) -> None:
    from nasearch.schedulers.store import FIDELITIES_ATTR, SUMMARY_ATTR
    from nasearch.search.loop import run

    sets = ["evaluator.network={C: 4, N: 1}", "evaluator.epochs=4", "evaluator.fidelities={min: 1}"]
    cfg = load_run_config(str(MF), [*sets, "scheduler={name: asha, eta: 2}", "budget.queries=7"])
    (report,) = run(cfg, tmp_path, progress=False, log=lambda _msg: None)
    study = optuna.load_study(study_name=report.study, storage=f"sqlite:///{tmp_path / 'study.db'}")
    assert study.user_attrs[SUMMARY_ATTR]["fidelities"] == [1.0, 2.0, 4.0]  # 4, 4/2, 4/4 epochs
    stored = {f for t in study.get_trials(deepcopy=False) for f in t.user_attrs[FIDELITIES_ATTR]}
    assert stored <= {"1", "2", "4"} and {"1", "2"} <= stored


def test_a_range_in_the_scheduler_block_gives_its_rungs(space: NasBench201Space) -> None:
    """``scheduler.fidelities: {min, max}``: the scheduler's rungs from the block's range with its eta
    (``max`` defaulting to the evaluator's full fidelity), over the epochs the train evaluator offers,
    a list or a range; rungs it does not offer, or a range not ending at the full training, refused."""
    from nasearch.config.loader import Source
    from nasearch.schedulers.config import build_scheduler, scheduler_block

    def ladder(ev: TrainingEvaluator, block: dict[str, Any]) -> list[float]:
        parsed = scheduler_block(block, "scheduler", Source("<test>"))
        span = ev.fidelity_range()
        return list(build_scheduler(parsed, space, 0, list(ev.fidelities()), True, "<test>", span).fidelities)

    every = TrainingEvaluator(space, epochs=9, fidelities={"min": 1}, network=TINY)  # offers 1..9
    assert ladder(every, {"name": "asha", "eta": 3}) == [1.0, 3.0, 9.0]  # the evaluator's range
    assert ladder(every, {"name": "asha", "eta": 3, "fidelities": {"min": 3}}) == [3.0, 9.0]  # the block's
    assert ladder(every, {"name": "asha", "eta": 2, "fidelities": {"min": 2, "max": 9}}) == [2.0, 4.0, 9.0]
    assert ladder(every, {"name": "top_k", "n_low": 4, "k": 2, "fidelities": {"min": 5}}) == [5.0, 9.0]
    listed = TrainingEvaluator(space, epochs=9, fidelities=[1, 3, 9], network=TINY)
    assert ladder(listed, {"name": "successive_halving", "eta": 3, "fidelities": {"min": 3}}) == [3.0, 9.0]
    for block, words in [
        ({"name": "asha", "eta": 2, "fidelities": {"min": 1}}, "offers fidelities 1, 3, 9; 2, 4 requested"),
        ({"name": "asha", "eta": 3, "fidelities": {"min": 1, "max": 3}}, "must end at the full one (9"),
        ({"name": "asha", "eta": 3, "fidelities": {"min": 9}}, "{min: 9} must be below the full fidelity"),
    ]:
        with pytest.raises(ConfigError, match="<test>: ") as err:
            ladder(listed, block)
        assert words in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("{min: 0}", "min must be >= 1 and below max"),
        ("{min: 3, max: 3}", "min must be >= 1 and below max"),
        ("{min: 1.5}", "min and max must be whole epochs"),
        ("{min: true}", "min and max must be whole epochs"),
        ("{max: 3}", "min and max must be whole epochs"),
        ("{min: 1, step: 2}", "unknown key(s) step"),
    ],
)
def test_a_bad_range_in_the_scheduler_block_is_one_clear_error(
    value: str, words: str, tmp_path: Path
) -> None:
    text = MF.read_text().replace(
        "scheduler: {name: successive_halving, eta: 3}", f"scheduler:\n  name: asha\n  fidelities: {value}"
    )
    assert "fidelities: {" in text
    cfg = tmp_path / "range.yaml"
    cfg.write_text(text)
    with pytest.raises(
        ConfigError, match=r"key 'scheduler\.fidelities' \(line \d+\): a range of epochs is"
    ) as err:
        load_run_config(str(cfg))
    assert words in str(err.value) and "\n" not in str(err.value)


def test_a_scheduled_search_over_the_scheduler_blocks_range(tmp_path: Path) -> None:
    """The shipped digits config with a range in its scheduler block: the search trains at its rungs."""
    from nasearch.schedulers.store import FIDELITIES_ATTR, SUMMARY_ATTR
    from nasearch.search.loop import run

    sets = ["evaluator.network={C: 4, N: 1}", "evaluator.epochs=4", "evaluator.fidelities=[1, 2, 4]"]
    cfg = load_run_config(
        str(MF), [*sets, "scheduler={name: asha, eta: 2, fidelities: {min: 2}}", "budget.queries=3"]
    )
    (report,) = run(cfg, tmp_path, progress=False, log=lambda _msg: None)
    study = optuna.load_study(study_name=report.study, storage=f"sqlite:///{tmp_path / 'study.db'}")
    assert study.user_attrs[SUMMARY_ATTR]["fidelities"] == [2.0, 4.0]  # 4 and 4/2 epochs, not 1
    stored = {f for t in study.get_trials(deepcopy=False) for f in t.user_attrs[FIDELITIES_ATTR]}
    assert "2" in stored and stored <= {"2", "4"} and report.failures == 0


def test_an_unoffered_fidelity_is_refused(space: NasBench201Space, arch: Any, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="fidelity 2 is not offered"):
        _ev(space, tmp_path).evaluate_at(arch, 2)


def test_the_shipped_multifidelity_config_validates() -> None:
    from nasearch.search.loop import build_evaluator, build_space

    cfg = load_run_config(str(MF))
    assert cfg.scheduler is not None and cfg.scheduler.name == "successive_halving"
    evaluator = build_evaluator(cfg.evaluator, build_space(cfg))
    assert isinstance(evaluator, TrainingEvaluator) and evaluator.dataset == "digits"
    assert evaluator.fidelities() == (1.0, 3.0)


def test_a_scheduled_search_trains_prunes_and_resumes_without_retraining(tmp_path: Path) -> None:
    from nasearch.schedulers.loop import summary_lines
    from nasearch.schedulers.store import FIDELITIES_ATTR, SUMMARY_ATTR
    from nasearch.search.loop import run

    overrides = ["evaluator.network={C: 4, N: 1}", "evaluator.epochs=3", "evaluator.fidelities=[1, 3]"]
    overrides.append("scheduler.eta=2")
    cfg = load_run_config(str(MF), [*overrides, "budget.queries=2"])
    first = run(cfg, tmp_path, progress=False, log=lambda _msg: None)  # two cells at 1 epoch, then stop
    assert first[0].evaluated == 2 and first[0].failures == 0
    cfg = load_run_config(str(MF), [*overrides, "budget.queries=6"])
    second = run(cfg, tmp_path, progress=False, log=lambda _msg: None)
    assert (second[0].replayed, second[0].evaluated, second[0].sessions) == (2, 6, 2)
    study = optuna.load_study(study_name=second[0].study, storage=f"sqlite:///{tmp_path / 'study.db'}")
    trials = study.get_trials(deepcopy=False)
    # the better of the first two cells, pruned when the first session ended, is promoted by the second
    # from its checkpoint in the run folder (a new trial repeats its 1-epoch result); no step is trained twice
    steps = {
        (t.user_attrs["key"], f): e["epochs_trained"]
        for t in trials
        for f, e in t.user_attrs[FIDELITIES_ATTR].items()
    }
    assert len(steps) == 6 and all(
        v == {"1": 1.0, "3": 2.0}[f] for (_, f), v in steps.items()
    )  # 1 -> 3: 2 epochs
    summary = study.user_attrs[SUMMARY_ATTR]
    assert (
        summary["epochs_trained"] == 8.0
    )  # 4 cells x 1 epoch + 2 promotions x 2: none retrained from scratch
    assert summary["optimum_known"] is False  # no benchmark table: no "time to the optimum" line
    (line,) = summary_lines(
        f"sqlite:///{tmp_path / 'study.db'}", [{"study": study.study_name, "label": "r", "seed": 0}]
    )
    assert (
        "optimum" not in line and "simulated wall time" in line and "2.7 full-training equivalents" in line
    )  # 8 epochs / 3
    states = [t.state for t in trials]
    assert optuna.trial.TrialState.PRUNED in states and optuna.trial.TrialState.COMPLETE in states
    for t in trials:
        assert 1 in t.intermediate_values  # every cell's 1-epoch result
        events = t.user_attrs[FIDELITIES_ATTR]
        if t.state == optuna.trial.TrialState.COMPLETE:
            assert set(events) == {"1", "3"} and t.intermediate_values[3] == t.value
            assert sorted(t.intermediate_values) == [1, 2, 3]  # the promotion's learning curve: epoch 2 too
    # the promoted cells continued from checkpoints in the run folder, which are gone at full fidelity
    folder = tmp_path / "checkpoints"
    assert folder.is_dir()
    complete = {t.user_attrs["key"] for t in trials if t.state == optuna.trial.TrialState.COMPLETE}
    stopped = {t.user_attrs["key"] for t in trials} - complete
    assert len(complete) == 2 and len(stopped) == 2
    assert len(list(folder.rglob("*.pt"))) == len(stopped)  # kept: a grown budget may still promote them


def _steps(db: Path) -> dict[tuple[str, str], float]:
    """Every stored step of the killed/resumed runs: (cell, fidelity) -> value (read-only, while it runs)."""
    import json
    import sqlite3

    if not db.exists():
        return {}
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
            rows = con.execute(
                "select t.trial_id, a.key, a.value_json from trials t join trial_user_attributes a "
                "on a.trial_id = t.trial_id where a.key in ('key', 'fidelities')"
            ).fetchall()
    except sqlite3.OperationalError:
        return {}
    keys = {tid: json.loads(v) for tid, k, v in rows if k == "key"}
    return {
        (keys[tid], f): e["value"]
        for tid, k, v in rows
        if k == "fidelities" and tid in keys
        for f, e in json.loads(v).items()
    }


def test_kill_9_during_real_training_then_resume_loses_and_repeats_nothing(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from nasearch.cli.main import main

    sets = [
        "evaluator.network={C: 4, N: 1}",
        "evaluator.epochs=2",
        "evaluator.fidelities=[1, 2]",
        "scheduler.eta=2",
    ]
    sets.append("budget.queries=9")
    args = [a for s in sets for a in ("--set", s)]
    out, whole = tmp_path / "out", tmp_path / "whole"
    proc = subprocess.Popen(
        [sys.executable, "-m", "nasearch", "run", str(MF), "--out", str(out), "--no-progress", *args],
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None and len(_steps(out / "study.db")) < 4:
        time.sleep(0.05)
    assert proc.poll() is None, (
        f"the run ended before it could be killed: {proc.stderr.read().decode()[-2000:]}"
    )
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    killed = _steps(out / "study.db")
    assert 4 <= len(killed) < 9
    assert main(["run", str(MF), "--out", str(out), "--no-progress", *args]) == 0
    assert main(["run", str(MF), "--out", str(whole), "--no-progress", *args]) == 0
    resumed = _steps(out / "study.db")
    assert len(resumed) == 9  # no (cell, fidelity) stored twice
    assert killed.items() <= resumed.items()  # nothing stored before the kill was lost
    assert resumed == _steps(whole / "study.db")  # the same steps and numbers as an uninterrupted run
