"""pytest's side of the kit: parametrize a test over cases × their checks, as scikit-learn's
``parametrize_with_checks`` does. pytest is imported when these functions run (from a test), never
by ``import nasearch.testing``: a plug-in that does not test need not install it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from nasearch.testing.checks import Check, CheckSkipped
from nasearch.testing.evaluators import EVALUATOR_CHECKS, EvaluatorCase
from nasearch.testing.optimizers import OPTIMIZER_CHECKS, OptimizerCase
from nasearch.testing.predictors import PREDICTOR_CHECKS, PredictorCase
from nasearch.testing.spaces import SPACE_CHECKS, SpaceCase

F = TypeVar("F", bound=Callable[..., object])
#: the case type of a check
C = TypeVar("C")

#: case type -> its checks
CHECKS: dict[type, tuple[Check[Any], ...]] = {
    SpaceCase: SPACE_CHECKS,
    PredictorCase: PREDICTOR_CHECKS,
    OptimizerCase: OPTIMIZER_CHECKS,
    EvaluatorCase: EVALUATOR_CHECKS,
}


def checks_of(case: object) -> tuple[Check[Any], ...]:
    """The checks of ``case`` (a ``SpaceCase``, ``PredictorCase``, ``OptimizerCase`` or ``EvaluatorCase``)."""
    for kind, checks in CHECKS.items():
        if isinstance(case, kind):
            return checks
    raise TypeError(
        f"{case!r} is no test case: wrap it in SpaceCase, PredictorCase, OptimizerCase or EvaluatorCase"
    )


def skipping(one: Check[C]) -> Check[C]:
    """``one``, with a ``CheckSkipped`` turned into pytest's skip (its reason kept)."""

    def run(case: C) -> None:
        import pytest  # optional: imported by the test that runs the check

        try:
            one(case)
        except CheckSkipped as skip:
            pytest.skip(str(skip))

    return Check(one.name, run, one.doc)


def parametrize_with_checks(cases: Iterable[Any]) -> Callable[[F], F]:
    """Decorator: parametrize a test ``test(case, check)`` over every case and each of its checks,
    with ids ``CASE-CHECK`` (``pytest -k replay`` selects a check); the body calls ``check(case)``.
    A check that does not apply to its case is skipped with the reason. A case is a ``SpaceCase``,
    ``PredictorCase``, ``OptimizerCase`` or ``EvaluatorCase``; a search space may be passed bare."""
    import pytest  # optional: imported by the test module that calls this

    params = []
    for case in cases:
        if not any(isinstance(case, kind) for kind in CHECKS) and hasattr(case, "sample"):
            case = SpaceCase(case)
        for one in checks_of(case):
            params.append(pytest.param(case, skipping(one), id=f"{case.name}-{one.name}"))
    return pytest.mark.parametrize(("case", "check"), params)
