"""Candidate rules by which ``blend`` picks its recipe, and their nested leave-one-die-out score.

A *selection rule* says how ``blend`` turns its pseudo-targets' τ into one recipe: how fast a pseudo-target's
vote fades with its description distance from the target (``selection_bandwidth``; ``inf``: every vote
alike), how much the batch size counts in that distance (``vote_batch_weight``), and what leaves training
with a pseudo-target (``holdout``: its whole die, as the target's; or only itself). ``RULES`` is the set
declared before any nested score was computed (``benchmarks/select_blend_rule.py`` scores them).

The nested score of a rule for an outer target never reads the outer target's die: over the *universe*
(every setting outside that die, the outer target's training settings), each setting ``u`` in turn is a
middle target with its die held out too; the rule picks a recipe for ``u`` from inner pseudo-targets ``v``
(the universe outside ``u``'s die, each with its own hold-out), and is scored by the τ of that recipe on
``u``. The rule's score is the mean over the middle targets. It depends on the outer target's die only,
so every setting of a die gets the same choice.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasearch.search_spaces.nasbench201.latency_blend import (
    HOLDOUT,
    SELECTION_BANDWIDTH,
    VOTE_BATCH_WEIGHT,
    RecipeTaus,
    held_out,
    vote_means,
)


@dataclass(frozen=True)
class SelectionRule:
    """How the pseudo-targets' τ become one recipe: vote bandwidth, batch weight in the vote distance,
    inner hold-out (``die`` or ``self``)."""

    selection_bandwidth: float
    vote_batch_weight: float
    holdout: str

    def options(self) -> dict[str, Any]:
        """The ``blend`` options that apply this rule (``selection: fixed``)."""
        return {
            "selection": "fixed",
            "selection_bandwidth": self.selection_bandwidth,
            "vote_batch_weight": self.vote_batch_weight,
            "holdout": self.holdout,
        }

    def label(self) -> str:
        """``s / b / holdout``, as the tables print it."""
        return f"{self.selection_bandwidth:g} / {self.vote_batch_weight:g} / {self.holdout}"


#: the rule blend used before this selection, ``selection: fixed``'s default (the first: ties keep it)
PREVIOUS_RULE = SelectionRule(SELECTION_BANDWIDTH, VOTE_BATCH_WEIGHT, HOLDOUT)
#: the candidates, declared (and committed) before their nested scores were computed
RULES: tuple[SelectionRule, ...] = (
    PREVIOUS_RULE,
    *(
        SelectionRule(s, b, h)
        for h in ("die", "self")
        for b in (1.0, 4.0)
        for s in (0.25, 0.5, 1.0, 2.0, math.inf)
        if SelectionRule(s, b, h) != PREVIOUS_RULE
    ),
)


def rule_recipe(
    rule: SelectionRule, taus: RecipeTaus, dies: Sequence[str], target: int, universe: Sequence[int]
) -> int:
    """The grid index of the recipe ``rule`` picks for setting ``target`` from the pseudo-targets in
    ``universe`` outside ``target``'s die, each predicted without the settings outside ``universe``,
    ``target``'s die and its own hold-out."""
    outside = frozenset(range(len(dies))) - frozenset(universe)
    base = outside | held_out(target, dies, "die")
    held = {v: base | held_out(v, dies, rule.holdout) for v in universe if v not in base}
    pseudo = [v for v, h in held.items() if len(h) < len(dies)]  # each with something to train on
    if not pseudo:
        return 0
    scores = np.stack([taus.taus(v, held[v]) for v in pseudo])
    means = vote_means(
        taus.specs[target],
        [taus.specs[v] for v in pseudo],
        scores,
        rule.selection_bandwidth,
        rule.vote_batch_weight,
    )
    return int(np.argmax(means))


def nested_scores(
    taus: RecipeTaus, dies: Sequence[str], universe: Sequence[int], rules: Sequence[SelectionRule] = RULES
) -> np.ndarray:
    """(middle targets, rules): τ on each setting ``u`` of ``universe`` (its die held out) of the recipe
    each rule picks for it from the rest of ``universe``; ``taus`` covers every setting, and those outside
    ``universe`` are never read."""
    outside = frozenset(range(len(dies))) - frozenset(universe)
    out = np.full((len(universe), len(rules)), float("nan"))
    for i, u in enumerate(universe):
        held = outside | held_out(u, dies, "die")
        if len(held) == len(dies):
            continue
        row = taus.taus(u, held)
        for j, rule in enumerate(rules):
            out[i, j] = row[rule_recipe(rule, taus, dies, u, universe)]
    return out


def choose_rule(scores: np.ndarray, rules: Sequence[SelectionRule] = RULES) -> SelectionRule:
    """The rule with the best mean nested score over the middle targets (the first of equals)."""
    return rules[int(np.argmax(np.nanmean(scores, axis=0)))]
