"""Blend's recipe-selection rules and their nested leave-one-die-out score, on the real HELP tables."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nasearch.data.devices import load_devices
from nasearch.metrics.front import rank_agreement
from nasearch.search_spaces.nasbench201.benchmark import HELP_DEVICES
from nasearch.search_spaces.nasbench201.latency_blend import DescribedBlend, RecipeTaus, held_out
from nasearch.search_spaces.nasbench201.latency_blend_rules import (
    RULES,
    SelectionRule,
    choose_rule,
    nested_scores,
    rule_recipe,
)
from nasearch.search_spaces.nasbench201.latency_models import build_task, die_of, params_flops_features

#: a small grid (nearest device, mean of every table, params/FLOPs alone) keeps the tests quick
SMALL = {"bandwidths": [0.0, math.inf], "pf_weights": [0.0, 1.0], "batch_weights": [1.0]}
#: a universe of two CPUs, two phones and two GP102 cards (one die: they leave together)
UNIVERSE = ("gold_6226", "gold_6240", "pixel3", "samsung_a50", "1080ti_32", "titanxp_32")


def _taus(space, measured: np.ndarray | None = None) -> tuple[RecipeTaus, list[str]]:
    table = load_devices()
    devices = list(HELP_DEVICES)
    task = build_task(space, table[devices[0]], devices)
    blend = DescribedBlend(**SMALL)
    taus = RecipeTaus(
        [table[d] for d in devices],
        task.measured if measured is None else measured,
        params_flops_features(space),
        blend.grid,
        blend.sample(task),
    )
    return taus, [die_of(d) for d in devices]


def test_a_recipe_s_tau_is_the_rank_agreement_of_its_prediction_on_the_sample(nb201_space) -> None:
    taus, dies = _taus(nb201_space)
    x = HELP_DEVICES.index("pixel3")
    held = held_out(x, dies, "die") | {HELP_DEVICES.index("essential_ph_1")}
    row = taus.taus(x, held)
    # recipe 0 is the nearest device (h 0, alpha 0): its τ is that of the nearest table outside ``held``
    rest = [d for k, d in enumerate(HELP_DEVICES) if k not in held]
    task = build_task(nb201_space, load_devices()["pixel3"], rest)
    pred = DescribedBlend(**SMALL).predict(task, taus.grid[0])
    s = taus.sample
    assert row[0] == pytest.approx(rank_agreement(pred[s], taus.measured[x, s]).kendall_tau, abs=1e-9)
    assert taus.taus(x, held) is row  # cached per (setting, held-out set)


def test_the_nested_rule_picks_what_blend_itself_picks_for_the_middle_target(nb201_space) -> None:
    taus, dies = _taus(nb201_space)
    universe = [HELP_DEVICES.index(d) for d in UNIVERSE]
    table = load_devices()
    for rule in (SelectionRule(1.0, 1.0, "die"), SelectionRule(0.5, 4.0, "self")):
        for u in universe:
            training = [HELP_DEVICES[k] for k in universe if dies[k] != dies[u]]
            task = build_task(nb201_space, table[HELP_DEVICES[u]], training)
            own, _ = DescribedBlend(**SMALL, **rule.options()).choose(task)  # type: ignore[arg-type]
            assert taus.grid[rule_recipe(rule, taus, dies, u, universe)] == own


def test_the_nested_score_never_reads_the_settings_outside_the_universe(nb201_space) -> None:
    taus, dies = _taus(nb201_space)
    universe = [HELP_DEVICES.index(d) for d in UNIVERSE]
    rules = RULES[:4] + (SelectionRule(0.5, 4.0, "self"),)
    before = nested_scores(taus, dies, universe, rules)
    assert before.shape == (len(UNIVERSE), len(rules)) and np.isfinite(before).all()
    shuffled = taus.measured.copy()
    rng = np.random.default_rng(0)
    outside = [k for k in range(len(HELP_DEVICES)) if k not in universe]
    for k in outside:
        shuffled[k] = rng.permutation(shuffled[k])
    after = nested_scores(_taus(nb201_space, shuffled)[0], dies, universe, rules)
    np.testing.assert_array_equal(after, before)
    # shuffling one setting inside the universe changes the scores: the check can fail
    inside = taus.measured.copy()
    inside[universe[1]] = rng.permutation(inside[universe[1]])
    assert not np.allclose(nested_scores(_taus(nb201_space, inside)[0], dies, universe, rules), before)


def test_the_rule_chosen_has_the_best_mean_nested_score_the_first_of_equals() -> None:
    scores = np.array([[0.5, 0.7, 0.7], [0.6, 0.6, 0.6], [0.2, 0.1, 0.1]])
    rules = RULES[:3]
    assert choose_rule(scores, rules) == rules[1]
    assert choose_rule(scores[:, [0, 2]], (rules[0], rules[2])) == rules[2]
    # a middle target no rule could be scored on (nothing left to train on) counts for none
    assert choose_rule(np.array([[np.nan, 0.2], [0.5, 0.4]]), rules[:2]) == rules[0]


def test_the_candidates_were_declared_once_each_the_previous_rule_first() -> None:
    assert len(RULES) == len(set(RULES)) == 20
    assert RULES[0] == SelectionRule(1.0, 1.0, "die")
    assert {r.holdout for r in RULES} == {"die", "self"}


def test_kendall_taus_is_scipy_s_tau_b_row_by_row(nb201_space) -> None:
    from scipy.stats import kendalltau

    from nasearch.metrics.ranking import kendall_taus

    taus, _ = _taus(nb201_space)
    s = taus.sample
    truth = taus.logs[HELP_DEVICES.index("pixel3"), s]
    preds = np.stack(
        [
            taus.logs[HELP_DEVICES.index("pixel2"), s],
            np.round(taus.logs[HELP_DEVICES.index("gold_6240"), s], 1),  # many ties
            -taus.logs[HELP_DEVICES.index("raspi4"), s],
            np.ones(s.size),  # constant: no τ
        ]
    )
    got = kendall_taus(truth, preds)
    for row, value in zip(preds[:3], got[:3]):
        assert value == float(kendalltau(row, truth).statistic)
    assert got[2] < 0 and np.isnan(got[3])
    # the private helper it uses may move in a later scipy: then it falls back to kendalltau itself
    import sys

    sys.modules["scipy.stats._stats"], saved = None, sys.modules["scipy.stats._stats"]  # type: ignore[assignment]
    try:
        fallback = kendall_taus(truth, preds)
    finally:
        sys.modules["scipy.stats._stats"] = saved
    np.testing.assert_allclose(fallback, got, rtol=0, atol=1e-12, equal_nan=True)


def test_nested_selection_applies_the_rule_with_the_best_nested_score(nb201_space) -> None:
    table = load_devices()
    task = build_task(nb201_space, table["silver_4114"], list(UNIVERSE))
    blend = DescribedBlend(**SMALL, selection="nested")  # type: ignore[arg-type]
    rule = blend.rule(task)
    dies = [die_of(d) for d in UNIVERSE]
    assert rule == choose_rule(nested_scores(blend.taus(task), dies, range(len(dies))))
    fixed = DescribedBlend(**SMALL, **rule.options())  # type: ignore[arg-type]
    assert blend.choose(task)[0] == fixed.choose(task)[0]
    np.testing.assert_array_equal(blend.estimate(task), fixed.estimate(task))


def test_the_default_selection_follows_the_stored_nested_choice() -> None:
    """select_blend_rule's declared policy: one rule for every die becomes the fixed default, otherwise
    blend chooses the rule per target (``selection: nested``)."""
    from benchmarks.results import Store

    data = Store().load("latency_blend_rule").data or {}
    choices = data["choices"]
    assert len(choices) == len({die_of(d) for d in HELP_DEVICES})  # every die was an outer hold-out
    blend = DescribedBlend()
    if data["unanimous"]:
        rule = next(r for r in RULES if r.label() == next(iter(choices.values())))
        assert blend.selection == "fixed"
        assert SelectionRule(blend.selection_bandwidth, blend.vote_batch_weight, blend.holdout) == rule
    else:
        assert len(set(choices.values())) > 1 and blend.selection == "nested"
