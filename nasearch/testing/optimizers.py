"""The Optimizer contract as checks, on a space and an evaluator you pass: the ask/tell contract
(at most n cells of the space, no cell proposed twice nor one told before, failures told as None),
and exact replay (what resume does: a fresh optimizer told the same history and given the original's
snapshot proposes the same next cells)."""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from nasearch.api import AnySpace, Evaluator, Optimizer, Result
from nasearch.search.resume import restore, snapshot
from nasearch.testing.checks import Check, check, label, run_checks
from nasearch.testing.evaluators import evaluator_objectives

History = list[tuple[Hashable, Result | None]]


@dataclass
class OptimizerCase:
    """An optimizer under test: ``make(space=..., objectives=..., seed=...)`` returns a fresh one
    (the class itself, or ``functools.partial(MyOptimizer, **options)``: how the runner builds it);
    ``space`` and ``evaluator`` what it searches; ``objectives`` ``[(metric, maximize)]`` (default:
    the evaluator's). ``unique``: it never proposes a cell asked or told before (the built-ins' bar);
    with False, a repeat is dropped unevaluated, as the loop does, and something new must come within
    three asks (the loop ends a seed that proposes nothing new three times in a row)."""

    make: Callable[..., Optimizer]
    space: AnySpace
    evaluator: Evaluator
    objectives: Sequence[tuple[str, bool]] | None = None
    name: str = ""
    unique: bool = True

    def __post_init__(self) -> None:
        if not self.name:
            self.name = label(self.make)

    def fresh(self, seed: int) -> Optimizer:
        """A new optimizer seeded with ``seed``."""
        objectives = list(self.objectives or evaluator_objectives(self.evaluator))
        return self.make(space=self.space, objectives=objectives, seed=seed)


def _assert_is_arch(space: AnySpace, arch: Hashable) -> None:
    """``arch`` is a cell of ``space``: its string parses back to it and it has a graph."""
    text = space.to_str(arch)
    assert space.to_str(space.from_str(text)) == text, f"asked {text!r}, which does not round-trip"
    space.to_graph(arch)


def search(
    opt: Optimizer, case: OptimizerCase, told: int, batch: int, fail_every: int, seen: set[str]
) -> History:
    """Ask/tell until ``told`` results are told, ``batch`` in flight, every ``fail_every``-th one a
    failure (None). Checks each ask on the way: at most n cells, cells of the space, and never a
    key in ``seen`` (everything asked or told before; updated in place) unless ``case.unique`` is
    False, when a repeat is dropped unevaluated, as the loop does."""
    space = case.space
    history: History = []
    in_flight: list[Hashable] = []
    stale = 0  # asks in a row with nothing new and nothing in flight
    while len(history) < told:
        want = min(batch - len(in_flight), told - len(history) - len(in_flight))
        asked = opt.ask(want)
        assert len(asked) <= want, f"ask({want}) returned {len(asked)} cells"
        for arch in asked:
            _assert_is_arch(space, arch)
            key = space.key(arch)
            if key in seen:
                assert not case.unique, f"re-proposed {space.to_str(arch)} (asked or told before)"
                continue
            seen.add(key)
            in_flight.append(arch)
        if not in_flight:
            assert not case.unique, "proposed nothing with nothing in flight"
            stale += 1
            assert stale < 3, "proposed nothing new three times in a row (the loop would end the seed)"
            continue
        stale = 0
        arch = in_flight.pop(0)
        failed = fail_every and len(history) % fail_every == fail_every - 1
        result = None if failed else case.evaluator.evaluate(arch)
        opt.tell(arch, result)
        history.append((arch, result))
    return history


def next_cells(opt: Optimizer, space: AnySpace, n: int = 4) -> list[str]:
    """The next ``n`` proposals, one ask at a time (a round may hold fewer than n), as strings."""
    return [space.to_str(arch) for _ in range(n) for arch in opt.ask(1)]


@check("ask_tell_contract")
def _ask_tell(case: OptimizerCase) -> None:
    """ask(0) is empty; ask(n) gives at most n cells of the space; no cell (by key) is proposed
    twice, nor one told without being asked (a resume's replay); failures (None) are told."""
    space = case.space
    opt = case.fresh(seed=0)
    assert opt.ask(0) == [], "ask(0) is not empty"
    rng = np.random.default_rng(5)
    seen: set[str] = set()
    for i in range(6):  # told without being asked, one of them a failure
        arch = space.sample(rng)
        if space.key(arch) not in seen:
            seen.add(space.key(arch))
            opt.tell(arch, None if i == 2 else case.evaluator.evaluate(arch))
    history = search(opt, case, told=24, batch=3, fail_every=5, seen=seen)
    assert len(history) == 24 and sum(r is None for _, r in history) == 4


@check("replay_gives_the_same_state")
def _replay(case: OptimizerCase) -> None:
    """What resume does: a fresh optimizer told the same history (cells parsed back from their
    strings), then given the original's snapshot (``state_dict`` through JSON, as the study stores
    it), proposes exactly the cells the original proposes next."""
    space = case.space
    original = case.fresh(seed=3)
    history = search(original, case, told=20, batch=1, fail_every=6, seen=set())
    state = snapshot(original)
    replayed = case.fresh(seed=3)
    for arch, result in history:
        replayed.tell(space.from_str(space.to_str(arch)), result)
    if state is not None:
        restore(replayed, json.loads(json.dumps(state)))
    expected = next_cells(original, space)
    assert len(expected) == 4, f"the original proposed {len(expected)} cells in 4 asks of one"
    got = next_cells(replayed, space)
    assert got == expected, f"replayed, it proposes {got}; the original {expected}"


#: every check of an optimizer, in the order ``check_optimizer`` runs them
OPTIMIZER_CHECKS: tuple[Check[OptimizerCase], ...] = (_ask_tell, _replay)


def check_optimizer(
    make: Callable[..., Optimizer],
    space: AnySpace,
    evaluator: Evaluator,
    *,
    objectives: Sequence[tuple[str, bool]] | None = None,
    unique: bool = True,
) -> dict[str, str]:
    """Run every optimizer check on the optimizers ``make(space=, objectives=, seed=)`` returns,
    searching ``space`` scored by ``evaluator`` (cheap: about 60 evaluations); ``unique`` as in
    ``OptimizerCase``. Returns ``{check: "passed" | "skipped: why"}``; raises ``AssertionError`` at
    the first failure."""
    case = OptimizerCase(make, space, evaluator, objectives, unique=unique)
    return run_checks(f"optimizer {case.name!r}", case, OPTIMIZER_CHECKS)
