"""nasearch.testing: the conformance checks a plug-in author runs on their own search space,
predictor, optimizer or evaluator — the same checks nasearch's own suites (tests/conformance/) run
on every built-in plug-in.

Each kind has a case (what is under test and its cheap recipe), a tuple of named checks, and a
``check_*`` function that runs them all and raises ``AssertionError`` naming the failed check —
usable without pytest::

    from nasearch.testing import check_space
    check_space(MySpace(depth=3))

With pytest, ``parametrize_with_checks([...])`` makes one test per case and check (pytest is
imported only when it runs).
"""

from __future__ import annotations

from nasearch.testing.checks import Check, CheckSkipped, run_checks
from nasearch.testing.evaluators import EVALUATOR_CHECKS, EvaluatorCase, check_evaluator
from nasearch.testing.optimizers import OPTIMIZER_CHECKS, OptimizerCase, check_optimizer
from nasearch.testing.predictors import PREDICTOR_CHECKS, Cells, PredictorCase, check_predictor, example_cells
from nasearch.testing.pytest_checks import parametrize_with_checks
from nasearch.testing.spaces import CAPABILITY_CHECKS, SPACE_CHECKS, SpaceCase, check_space

__all__ = [
    "CAPABILITY_CHECKS",
    "Cells",
    "Check",
    "CheckSkipped",
    "EVALUATOR_CHECKS",
    "EvaluatorCase",
    "OPTIMIZER_CHECKS",
    "OptimizerCase",
    "PREDICTOR_CHECKS",
    "PredictorCase",
    "SPACE_CHECKS",
    "SpaceCase",
    "check_evaluator",
    "check_optimizer",
    "check_predictor",
    "check_space",
    "example_cells",
    "parametrize_with_checks",
    "run_checks",
]
