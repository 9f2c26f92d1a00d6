"""``nasearch.testing`` itself: its checks pass a conforming plug-in, and each fails a plug-in that
breaks the contract, with an AssertionError naming the plug-in and the check."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Hashable
from typing import Any

import numpy as np
import pytest

from nasearch.api import ArchError, Evaluator, PredictorSettings, Result
from nasearch.search_spaces.examples.chain import ChainSpace
from nasearch.testing import (
    SPACE_CHECKS,
    Check,
    CheckSkipped,
    PredictorCase,
    check_evaluator,
    check_optimizer,
    check_predictor,
    check_space,
    example_cells,
)
from nasearch.testing.pytest_checks import parametrize_with_checks, skipping


def _fails(check: str, detail: str = "") -> Any:
    """pytest.raises of the kit's failure of ``check``, its message holding ``detail``."""
    pattern = f"fails the check {re.escape(repr(check))}: .*{re.escape(detail)}"
    return pytest.raises(AssertionError, match=pattern)


class Width(Evaluator):
    """The summed widths of a chain cell (minimised), and a train accuracy that says its split."""

    objective = "width"
    maximize = False

    def evaluate(self, arch: Hashable) -> Result:
        width = float(sum(w for _, _, w in arch))  # type: ignore[attr-defined]
        return Result({"width": width, "train_accuracy": 100.0 - width})


def test_a_conforming_space_passes_and_the_report_names_every_check() -> None:
    report = check_space(ChainSpace(depth=2))  # as the example's docstring shows
    assert list(report) == [one.name for one in SPACE_CHECKS]
    assert check_space(lambda: ChainSpace(depth=1, kernels=[1, 3], widths=[4, 8])) == report  # a factory
    assert report["capability_neighbours"] == "passed" and report["capability_network"] == "passed"
    assert report["capability_benchmark"] == "skipped: chain does not offer benchmark"


class ValueErrorOnBadStrings(ChainSpace):
    def from_str(self, text: str) -> Any:
        try:
            return super().from_str(text)
        except ArchError as exc:
            raise ValueError(str(exc)) from None


class MutateKeepsTheKey(ChainSpace):
    def mutate(self, arch: Any, rng: np.random.Generator) -> Any:
        return arch


class ChosenSettings(ChainSpace):
    """A chain space carrying predictor defaults: ``predictors`` and ``space_options`` as given."""

    def __init__(self, predictors: Any = None, space_options: Any = None, depth: int = 2) -> None:
        super().__init__(depth=depth)
        self.chosen = PredictorSettings(predictors or {}, space_options or {})

    def predictor_defaults(self, metric: str) -> PredictorSettings:
        return self.chosen


def test_a_spaces_predictor_defaults_must_name_registered_predictors_and_valid_options() -> None:
    good = ChosenSettings({"nnformer": {"rank_weight": 0.5}, "mlp": {}}, {"depth": 2}, depth=2)
    assert check_space(good)["capability_predictor_defaults"] == "passed"
    with _fails("capability_predictor_defaults", "unknown predictor 'nnformr'"):
        check_space(ChosenSettings({"nnformr": {}}, depth=2))
    with _fails("capability_predictor_defaults", "rank_weigth"):
        check_space(ChosenSettings({"nnformer": {"rank_weigth": 0.5}}, depth=2))
    with _fails("capability_predictor_defaults", "'prune'"):
        check_space(ChosenSettings({}, {"prune": True}, depth=2))


def test_a_space_that_breaks_the_contract_fails_the_named_check() -> None:
    with _fails("from_str_names_a_bad_string", "raised ValueError, not ArchError"):
        check_space(ValueErrorOnBadStrings(depth=2))
    with _fails("mutate_returns_another_valid_cell"):
        check_space(MutateKeepsTheKey(depth=2))


class Ridge:
    """Ridge regression on op counts (a conforming predictor), optionally broken."""

    def __init__(self, returns_self: bool = True, constant: bool = False) -> None:
        self.returns_self, self.constant = returns_self, constant
        self.coef = np.zeros(1)

    def _x(self, graphs: Any) -> np.ndarray:
        ops = ("conv3x3", "conv1x1", "avgpool")
        return np.asarray([[g.ops.count(op) for op in ops] + [1.0] for g in graphs])

    def fit(self, graphs: Any, y: Any, hardware: Any = None) -> Any:
        x = self._x(graphs)
        self.coef = np.linalg.solve(x.T @ x + np.eye(x.shape[1]), x.T @ np.asarray(y))
        return self if self.returns_self else None

    def predict(self, graphs: Any, hardware: Any = None) -> np.ndarray:
        pred = self._x(graphs) @ self.coef
        return np.full_like(pred, pred.mean()) if self.constant else pred


def test_predictor_checks_pass_a_conforming_predictor_and_fail_a_broken_one() -> None:
    report = check_predictor(lambda seed: Ridge())
    assert report["predict_std_is_non_negative_per_cell"].startswith("skipped")
    assert {v for k, v in report.items() if not k.startswith("predict_std")} == {"passed"}
    first = "fit_returns_self_and_predicts_one_finite_float_per_cell"
    with _fails(first, "fit must return self"):
        check_predictor(lambda seed: Ridge(returns_self=False))
    with _fails(first, "the same prediction for every cell"):
        check_predictor(lambda seed: Ridge(constant=True))


def test_example_cells_are_valid_graphs_with_targets_that_vary() -> None:
    cells = example_cells()
    assert [len(part[0]) for part in cells] == [40, 10, 10]
    graphs, y = cells.fit
    assert len({g.key for g in graphs}) > 30 and np.ptp(y) > 1
    assert example_cells(seed=1).fit[1].tolist() != y.tolist()


class Sampler:
    """Random search over a space, proposing no cell twice. Broken variants: ``forgets`` keeps its
    generator where resume cannot see it and no memory of told cells; ``repeat`` proposes cells twice."""

    def __init__(
        self, space: Any, objectives: Any, seed: int = 0, forgets: bool = False, repeat: bool = False
    ) -> None:
        self.space, self.repeat = space, repeat or forgets
        generator = np.random.default_rng(seed)
        if forgets:
            self.hidden = generator
        else:
            self.rng = generator  # resume snapshots a numpy ``rng`` attribute
        self.seen: set[str] = set()

    def ask(self, n: int) -> list[Any]:
        rng = getattr(self, "rng", None) or self.hidden
        out: list[Any] = []
        while len(out) < n:
            arch = self.space.sample(rng)
            if self.repeat or self.space.key(arch) not in self.seen:
                self.seen.add(self.space.key(arch))
                out.append(arch)
        return out

    def tell(self, arch: Any, result: Any) -> None:
        self.seen.add(self.space.key(arch))


def test_optimizer_checks_pass_a_conforming_optimizer_and_fail_a_broken_one() -> None:
    space = ChainSpace(depth=3)
    assert set(check_optimizer(Sampler, space, Width()).values()) == {"passed"}
    with _fails("replay_gives_the_same_state", "replayed, it proposes"):
        check_optimizer(lambda **kw: Sampler(forgets=True, **kw), space, Width())
    with _fails("ask_tell_contract", "re-proposed"):
        check_optimizer(lambda **kw: Sampler(repeat=True, **kw), ChainSpace(depth=1), Width())


class Unsplit(Width):
    def evaluate(self, arch: Hashable) -> Result:
        return Result({"width": 1.0, "accuracy": 50.0})


class ObjectiveMissing(Width):
    objective = "latency_ms"


def test_evaluator_checks_pass_a_conforming_evaluator_and_fail_a_broken_one() -> None:
    arch = ChainSpace(depth=2).sample(np.random.default_rng(0))
    report = check_evaluator(Width(), arch)
    assert report["a_known_optimum_is_what_its_cell_evaluates_to"].startswith("skipped")
    with _fails("metric_names_say_their_split", "'accuracy' does not say its split"):
        check_evaluator(Unsplit, arch)
    with _fails("objectives_are_resolved_to_returned_metrics"):
        check_evaluator(ObjectiveMissing(), arch)


def test_parametrize_with_checks_makes_one_case_per_check_and_skips_with_the_reason() -> None:
    def test(case: Any, check: Any) -> None:
        check(case)

    mark = parametrize_with_checks([ChainSpace(depth=2)])(test).pytestmark[0]  # type: ignore[attr-defined]
    ids = [param.id for param in mark.args[1]]
    assert ids == [f"chain-{one.name}" for one in SPACE_CHECKS]
    with pytest.raises(TypeError, match="no test case"):
        parametrize_with_checks([Width()])

    def offers_nothing(case: Any) -> None:
        raise CheckSkipped("not offered")

    with pytest.raises(pytest.skip.Exception, match="not offered"):
        skipping(Check("offers_nothing", offers_nothing))(PredictorCase(lambda seed: Ridge()))


def test_the_kit_runs_without_pytest() -> None:
    """``import nasearch.testing`` and a ``check_*`` run import no pytest (a plug-in that does not
    test need not install it)."""
    code = (
        "import sys; from nasearch.testing import check_space; "
        "from nasearch.search_spaces.examples.chain import ChainSpace; "
        "report = check_space(ChainSpace(depth=1)); "
        "assert not [m for m in sys.modules if m.split('.')[0] in ('pytest', '_pytest')], 'pytest imported'; "
        "print(report['samples_are_valid_cells'])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "passed", done.stderr[-2000:]
