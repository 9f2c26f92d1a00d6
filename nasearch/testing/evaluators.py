"""The Evaluator contract as checks: a typed ``Result``, picklable (Ray ships it) to the same
metrics, metric names that say their split, objectives that name metrics it returns, a known
optimum that is what its cell evaluates to, and, where it offers fidelities, a ladder whose top is
``evaluate``."""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable, Collection, Hashable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from nasearch.api import Evaluator, KnowsOptimum, MultiFidelity, NasearchError, Result
from nasearch.testing.checks import Check, CheckSkipped, check, label, run_checks

#: the data splits a metric computed on data names (``valid_accuracy``, ``cifar10/test_accuracy``)
SPLITS = ("train", "valid", "test")
#: words of metrics computed on a data split (an accuracy, a loss, an error rate)
ON_DATA = ("accuracy", "loss", "error")


def evaluator_objectives(evaluator: Evaluator) -> list[tuple[str, bool]]:
    """``[(metric, maximize)]``: the evaluator's objectives, or its single objective, as it states them."""
    listed = getattr(evaluator, "objectives", None) or [(evaluator.objective, evaluator.maximize)]
    return [tuple(o) for o in listed]


@dataclass
class EvaluatorCase:
    """An evaluator under test (or a zero-argument factory, called once when first needed), the
    cell ``arch`` it evaluates, and the metrics that vary between two runs (wall-clock timings).
    The first evaluation is made once and shared by the checks."""

    evaluator_or_factory: Any
    arch: Hashable
    noisy: Collection[str] = frozenset()
    name: str = ""
    _result: Result | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.name:
            self.name = label(self.evaluator_or_factory)

    @cached_property
    def evaluator(self) -> Any:
        """The evaluator under test (built on first use)."""
        subject = self.evaluator_or_factory
        if isinstance(subject, type) or not hasattr(subject, "evaluate"):
            return subject()
        return subject

    @property
    def result(self) -> Result:
        """The evaluator's result on ``arch`` (evaluated once)."""
        if self._result is None:
            self._result = self.evaluator.evaluate(self.arch)
        return self._result


@check("evaluate_returns_a_result")
def _returns_result(case: EvaluatorCase) -> None:
    """``evaluate`` returns a ``Result`` with named numeric metrics and non-negative costs."""
    result = case.result
    assert isinstance(result, Result), f"evaluate gave a {type(result).__name__}, not a nasearch.api.Result"
    assert result.metrics, "the result has no metrics"
    bad = {k: v for k, v in result.metrics.items() if not (isinstance(k, str) and isinstance(v, int | float))}
    assert not bad, f"metrics that are not str -> number: {bad}"
    assert result.cost_seconds >= 0 and result.simulated_seconds >= 0, "a negative cost"


@check("pickled_evaluator_gives_the_same_metrics")
def _pickled(case: EvaluatorCase) -> None:
    """What Ray does: the unpickled copy evaluates the cell to the same numbers (timings aside)."""
    result = case.result
    again = pickle.loads(pickle.dumps(case.evaluator)).evaluate(case.arch)
    assert set(again.metrics) == set(result.metrics), "the unpickled evaluator returns other metrics"
    steady = sorted(set(result.metrics) - set(case.noisy))
    assert steady, "no metric is reproducible"
    np.testing.assert_allclose(
        [again.metrics[m] for m in steady],
        [result.metrics[m] for m in steady],
        rtol=1e-9,
        err_msg=f"the unpickled evaluator gives other values of {steady}",
    )


@check("metric_names_say_their_split")
def _splits(case: EvaluatorCase) -> None:
    """Every metric computed on data (an accuracy, a loss) names its split (train / valid / test);
    the search never optimises a test metric; the test metric recorded beside the objective is one,
    and is returned."""
    result = case.result
    for metric in (m for m in result.metrics if any(w in m.lower() for w in ON_DATA)):
        assert any(w in metric.lower() for w in SPLITS), f"{metric!r} does not say its split"
    tests = [m for m, _ in evaluator_objectives(case.evaluator) if "test" in m.lower()]
    assert not tests, f"a test metric is an objective: {tests}"
    test_metric = getattr(case.evaluator, "test_metric", None)
    if test_metric is not None:
        assert "test" in test_metric.lower(), f"the test metric {test_metric!r} does not say test"
        assert test_metric in result.metrics, f"the test metric {test_metric!r} is not returned"


@check("objectives_are_resolved_to_returned_metrics")
def _objectives(case: EvaluatorCase) -> None:
    """The first objective is ``(objective, maximize)``; objectives are distinct, each a returned,
    finite metric with a bool direction."""
    evaluator, result = case.evaluator, case.result
    objectives = evaluator_objectives(evaluator)
    first = (evaluator.objective, evaluator.maximize)
    assert objectives[0] == first, f"objectives[0] is {objectives[0]}, not (objective, maximize) {first}"
    assert len({m for m, _ in objectives}) == len(objectives), f"an objective is listed twice: {objectives}"
    for metric, maximize in objectives:
        assert isinstance(maximize, bool), f"maximize of {metric!r} is {maximize!r}, not a bool"
        assert metric in result.metrics, (
            f"objective {metric!r} is not among the metrics {sorted(result.metrics)}"
        )
        assert math.isfinite(result.metrics[metric]), f"objective {metric!r} is not finite"


@check("a_known_optimum_is_what_its_cell_evaluates_to")
def _optimum(case: EvaluatorCase) -> None:
    """Where the evaluator names the optimum: a finite value, and its cell evaluates to it."""
    evaluator = case.evaluator
    if not isinstance(evaluator, KnowsOptimum):
        raise CheckSkipped(f"{case.name} cannot name the optimum of the space")
    best = case.evaluator.optimum()
    assert best is not None, "optimum() gave None"
    value, arch = best
    assert math.isfinite(value), f"the optimum {value} is not finite"
    if arch is not None:
        got = case.evaluator.evaluate(arch).metrics[case.evaluator.objective]
        assert math.isclose(got, value, rel_tol=1e-6, abs_tol=1e-12), (
            f"the optimum's cell evaluates to {got}, not {value}"
        )


@check("fidelities_are_a_ladder_ending_at_evaluate")
def _fidelities(case: EvaluatorCase) -> None:
    """Where the evaluator offers fidelities (``MultiFidelity``): positive and strictly ascending;
    ``evaluate_at`` the full one gives ``evaluate``'s numbers; the lowest returns the objective and a
    non-negative cost; ``promotion_cost`` is a finite, non-negative number of seconds; a fidelity it
    does not offer is refused with nasearch's one-line error."""
    evaluator, objective = case.evaluator, str(case.evaluator.objective)
    if not isinstance(evaluator, MultiFidelity) or not evaluator.fidelities():
        raise CheckSkipped(f"{case.name} offers no fidelities")
    ladder = list(evaluator.fidelities())
    assert all(f > 0 for f in ladder), f"a fidelity that is not positive: {ladder}"
    assert all(b > a for a, b in zip(ladder, ladder[1:])), f"fidelities not strictly ascending: {ladder}"
    low = evaluator.evaluate_at(case.arch, ladder[0])
    assert isinstance(low, Result) and low.cost_seconds >= 0 and low.simulated_seconds >= 0
    assert math.isfinite(low.metrics[objective]), "the objective is missing or not finite at the lowest"
    cost = evaluator.promotion_cost(case.arch, ladder[0], ladder[-1])
    assert isinstance(cost, int | float) and math.isfinite(cost) and cost >= 0, (
        f"promotion_cost gave {cost!r}"
    )
    full = evaluator.evaluate_at(case.arch, ladder[-1])
    steady = sorted(set(case.result.metrics) - set(case.noisy))
    np.testing.assert_allclose(
        [full.metrics[m] for m in steady],
        [case.result.metrics[m] for m in steady],
        rtol=1e-9,
        err_msg=f"evaluate_at the full fidelity gives other values of {steady} than evaluate",
    )
    try:
        evaluator.evaluate_at(case.arch, ladder[-1] + 0.5)
    except NasearchError as exc:
        assert "\n" not in str(exc), "the error is not one line"
    else:
        raise AssertionError(f"evaluate_at({ladder[-1] + 0.5:g}), a fidelity not offered, was not refused")


#: every check of an evaluator, in the order ``check_evaluator`` runs them
EVALUATOR_CHECKS: tuple[Check[EvaluatorCase], ...] = (
    _returns_result,
    _pickled,
    _splits,
    _objectives,
    _optimum,
    _fidelities,
)


def check_evaluator(
    evaluator_or_factory: Any | Callable[[], Any], arch: Hashable, *, noisy: Collection[str] = ()
) -> dict[str, str]:
    """Run every evaluator check on ``evaluator_or_factory`` (an evaluator, or a zero-argument
    callable making one), evaluating ``arch``; ``noisy`` names metrics that differ between two
    evaluations (timings). Returns ``{check: "passed" | "skipped: why"}``; raises
    ``AssertionError`` at the first failure."""
    case = EvaluatorCase(evaluator_or_factory, arch, frozenset(noisy))
    return run_checks(f"evaluator {case.name!r}", case, EVALUATOR_CHECKS)
