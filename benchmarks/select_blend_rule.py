"""Choose ``blend``'s recipe-selection rule by nested leave-one-die-out, never reading the outer target's die.

Run ``python -m benchmarks.select_blend_rule``. For each die of the 27 HELP settings as the outer hold-out,
every candidate rule of ``latency_blend_rules.RULES`` (declared and committed before this ran) gets its
nested score on the *other* dies only (``latency_blend_rules.nested_scores``: each setting outside the
outer die in turn is a middle target, its own die held out as well; the rule picks its recipe from the
remaining settings, each an inner pseudo-target with its own hold-out; the score is the τ of that recipe
on the middle target, on blend's 3,000-cell sample, averaged over the middle targets). The outer target's
measurements are never read, so the choice for its die is leak-free.

How the choice is frozen (declared before the run): when every die's choice is the same rule, that rule
becomes blend's default (for each target it is the rule its own die-free evidence picked); otherwise
blend's default becomes the per-target choice itself (the nested score over the task's training
settings, computed inside blend). Writes the section ``latency_blend_rule``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from benchmarks.bench_latency_models import git_state


def main(argv: list[str] | None = None) -> None:
    from benchmarks.report import machine_line, markdown_table, write_section
    from nasearch.data.devices import load_devices
    from nasearch.search_spaces.nasbench201.benchmark import HELP_DEVICES
    from nasearch.search_spaces.nasbench201.latency_blend import DescribedBlend, RecipeTaus
    from nasearch.search_spaces.nasbench201.latency_blend_rules import (
        PREVIOUS_RULE,
        RULES,
        choose_rule,
        nested_scores,
    )
    from nasearch.search_spaces.nasbench201.latency_models import build_task, die_of, params_flops_features
    from nasearch.search_spaces.nasbench201.space import NasBench201Space

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.select_blend_rule", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--allow-dirty", action="store_true", help="run from uncommitted code (not written)")
    args = parser.parse_args(argv)
    commit, dirty = git_state()
    if dirty and not args.allow_dirty:
        raise SystemExit("select_blend_rule: the tree has uncommitted changes; commit first")
    start = time.perf_counter()
    space = NasBench201Space()
    table = load_devices()
    devices = list(HELP_DEVICES)
    task = build_task(space, table[devices[0]], devices)  # every table; the target is never read
    blend = DescribedBlend(**PREVIOUS_RULE.options())  # the grid and the cell sample blend uses
    taus = RecipeTaus(
        [table[d] for d in devices],
        task.measured,
        params_flops_features(space),
        blend.grid,
        blend.sample(task),
    )
    dies = [die_of(d) for d in devices]
    previous = RULES.index(PREVIOUS_RULE)
    rows: list[list[Any]] = []
    choices: dict[str, str] = {}
    means_by_die: dict[str, list[float]] = {}
    for die in dict.fromkeys(dies):
        universe = [k for k, d in enumerate(dies) if d != die]
        scores = nested_scores(taus, dies, universe)
        means = np.nanmean(scores, axis=0)
        chosen = choose_rule(scores)
        order = np.argsort(-means, kind="stable")
        choices[die] = chosen.label()
        means_by_die[die] = [float(m) for m in means]
        rows.append(
            [
                die,
                ", ".join(d for d, x in zip(devices, dies) if x == die),
                len(universe),
                float(means[previous]),
                chosen.label(),
                float(means[RULES.index(chosen)]),
                "; ".join(f"{RULES[j].label()} {means[j]:.3f}" for j in order[1:4]),
            ]
        )
        print(
            f"{die}: {chosen.label()} {means[RULES.index(chosen)]:.4f} (previous {means[previous]:.4f}), "
            f"{time.perf_counter() - start:.0f} s",
            flush=True,
        )
    unanimous = len(set(choices.values())) == 1
    minutes = (time.perf_counter() - start) / 60
    overall = np.mean([means_by_die[d] for d in means_by_die], axis=0)
    verdict = (
        f"Every die's choice is the same rule, {next(iter(choices.values()))} (s / b / hold-out): "
        "it becomes blend's default."
        if unanimous
        else f"The dies choose {len(set(choices.values()))} different rules: blend's default becomes the "
        "per-target choice itself (the nested score over the task's training settings, inside blend)."
    )
    md = [
        "## Blend's recipe-selection rule, chosen by nested leave-one-die-out "
        "(`python -m benchmarks.select_blend_rule`)\n\n"
        f"{machine_line()} Commit of the measurement: `{commit}`. {minutes:.1f} min.\n\n"
        "`blend` (section `latency_models_zero_shot`) chooses its recipe per target from pseudo-targets, "
        "its training settings with their own die held out. A **selection rule** says how: the vote "
        "bandwidth s (a pseudo-target's vote ∝ exp(−distance ÷ s), inf: all alike), the weight b of the "
        "batch-size term in that distance, and the inner hold-out (`die`: the pseudo-target's whole die, "
        "`self`: the pseudo-target alone). The "
        f"{len(RULES)} candidate rules (s ∈ 0.25, 0.5, 1, 2, inf × b ∈ 1, 4 × hold-out ∈ die, self; "
        "`latency_blend_rules.RULES`) were declared and committed before this ran. For each die as the "
        "outer hold-out, each rule is scored on the **other dies only**: each setting outside it in turn "
        "is a middle target with its own die held out too, the rule picks its recipe for it from the "
        "remaining settings, and scores the τ of that recipe on it (blend's 3,000-cell sample); *nested "
        "τ* is the mean over the middle targets. The outer die's measurements are never read, so the "
        "choice for its settings is leak-free. Rule label: s / b / hold-out; the previous default is "
        f"{PREVIOUS_RULE.label()}.\n",
        markdown_table(
            [
                "outer die held out",
                "its settings",
                "middle targets",
                f"previous rule ({PREVIOUS_RULE.label()}) nested τ",
                "chosen rule",
                "its nested τ",
                "next best rules (nested τ)",
            ],
            rows,
        ),
        "\nMean nested τ over the dies, per rule: "
        + "; ".join(f"{r.label()} {v:.3f}" for r, v in sorted(zip(RULES, overall), key=lambda x: -x[1]))
        + ".\n\n"
        + verdict,
    ]
    data = {"choices": choices, "unanimous": unanimous, "rules": [r.label() for r in RULES]}
    if dirty:
        print("\n".join(str(p) for p in md))
        return
    write_section("latency_blend_rule", md, data=data, measured=[commit])


if __name__ == "__main__":
    main()
