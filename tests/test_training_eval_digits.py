"""runs/digits_train.yaml (real training on Ray workers): it validates, and a shortened copy runs end to end
through the runner."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import torch

from nasearch.config.run_schema import load_run_config
from nasearch.evaluation.training import TrainingEvaluator
from nasearch.search_spaces.nasbench201.space import str_to_arch

DIGITS = Path(__file__).resolve().parent.parent / "runs" / "digits_train.yaml"

torch.set_num_threads(1)


def test_digits_config_is_a_real_search_on_two_ray_workers():
    from nasearch.search.loop import build_evaluator, build_space

    cfg = load_run_config(str(DIGITS))
    assert cfg.parallel.backend == "ray" and cfg.parallel.workers == 2
    assert cfg.optimizers[0].name == "predictor_evolution" and "surrogate" in cfg.optimizers[0].options
    evaluator = build_evaluator(cfg.evaluator, build_space(cfg))
    assert isinstance(evaluator, TrainingEvaluator) and evaluator.dataset == "digits"
    assert evaluator.objective == "valid_accuracy" and evaluator.test_metric == "test_accuracy"


def test_a_shortened_digits_run_runs_end_to_end(tmp_path):
    from nasearch.search.loop import run

    cfg = load_run_config(
        str(DIGITS),
        [
            "budget.queries=4",
            "parallel.backend=serial",
            "evaluator.epochs=1",
            "evaluator.network={C: 4, N: 1}",
            "optimizer.num_init=2",
            "optimizer.k=1",
            "optimizer.surrogate.epochs=2",
        ],
    )
    reports = run(cfg, tmp_path, progress=False, log=lambda _msg: None)
    assert reports[0].queries == 4 and reports[0].failures == 0
    best = reports[0].best_arch
    assert str_to_arch(best) and 0 < reports[0].best_value <= 100
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary[0]["best_arch"] == best
    study = optuna.load_study(study_name=summary[0]["study"], storage=f"sqlite:///{tmp_path / 'study.db'}")
    assert len(study.trials) == 4
    assert max(t.value for t in study.trials) == reports[0].best_value
