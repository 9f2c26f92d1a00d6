"""Testing the example plug-ins with ``nasearch.testing``, as you test your own: the checks nasearch
runs on its built-in spaces, predictors, optimizers and evaluators, one pytest test per plug-in and
check. Run it with ``python -m pytest docs/examples/test_my_plugins.py`` (``-k replay`` picks a check).
"""

from __future__ import annotations

from functools import partial

from my_evaluator import ParamCount
from my_optimizer import MutateBest
from my_predictor import OpCountRidge
from my_space import StagesSpace

from nasearch.testing import (
    EvaluatorCase,
    OptimizerCase,
    PredictorCase,
    SpaceCase,
    check_space,
    parametrize_with_checks,
)

SPACE = StagesSpace(stages=4)
EVALUATOR = ParamCount(SPACE, width=8)


@parametrize_with_checks(
    [
        # the space, and the options of a small network for its `network` capability
        SpaceCase(SPACE, network={"width": 8}),
        # make(seed=...) gives a fresh predictor; fitted on the kit's example cells (or your own cells=...)
        PredictorCase(partial(OpCountRidge, alpha=1.0)),
        # the evaluator and a cell to evaluate; `noisy`: metrics that vary between runs (timings)
        EvaluatorCase(EVALUATOR, SPACE.from_str("[[3, 3, 1], [5, 3, 1], [3, 6, 2], [7, 1, 1]]")),
        # built as the runner builds it; MutateBest may propose a cell twice (the loop drops repeats)
        OptimizerCase(partial(MutateBest, restarts_after=5), SPACE, EVALUATOR, unique=False),
    ]
)
def test_my_plugins(case, check):  # type: ignore[no-untyped-def]
    check(case)


def test_without_pytest_helpers() -> None:
    """The same checks as plain functions: a report, or an AssertionError naming the failed check."""
    report = check_space(StagesSpace(stages=2), network={"width": 8})
    assert report["samples_are_valid_cells"] == "passed"
    assert report["capability_enumerate"].startswith("skipped")  # StagesSpace does not enumerate
