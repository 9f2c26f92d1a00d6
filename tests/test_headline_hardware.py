"""The README's hardware-aware headline is recomputed from the stored latency_models sections."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.headline import section, table
from benchmarks.headline_hardware import FRONT_GOAL, ZERO_SHOT, _default_estimator, _triple, hardware_headline
from benchmarks.results import Store


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def test_every_family_row_is_the_mean_of_its_targets_and_names_each_miss() -> None:
    text = Store()
    zs = section(text, ZERO_SHOT)
    rows = table(zs, "target", "ledgformer")
    assert len(rows) == 27  # every HELP target, not only the GPUs
    default = _default_estimator(zs)
    lines = [
        line
        for line in hardware_headline(text)
        if line.startswith("| ") and "(" in _cells(line)[0] and not line.startswith("| family")
    ]
    families = {_cells(line)[0].split(" (")[0]: _cells(line) for line in lines}
    assert set(families) == {r["family"] for r in rows}
    for family, cells in families.items():
        mine = [_triple(r[default]) for r in rows if r["family"] == family]
        assert cells[0] == f"{family} ({len(mine)})"
        assert float(cells[1]) == pytest.approx(np.mean([t[0] for t in mine if t]), abs=5e-4)
        assert float(cells[2]) == pytest.approx(np.mean([t[2] for t in mine if t]), abs=5e-4)
        misses = [
            r["target"]
            for r in rows
            if r["family"] == family and (_triple(r[default]) or (0, 0, 0))[2] < FRONT_GOAL
        ]
        assert [m.split(" ")[0] for m in cells[3].split(", ")] == (misses or ["none"])


def test_the_zero_shot_cell_format_is_parsed_by_hand() -> None:
    assert _triple("0.853 / 0.971 / 0.981") == (0.853, 0.971, 0.981)
    assert _triple("—") is None


def test_the_search_goal_line_gives_each_target_s_distance_from_the_shipped_front_ehvi_rows() -> None:
    from benchmarks.bench_latency_models import SEARCH_GOAL, SHIPPED_FRONT_LABEL
    from benchmarks.headline_hardware import FRONT

    text = Store()
    rows = [
        r
        for r in table(section(text, FRONT), "target", "budget reaching 90 %")
        if r["optimizer"] == SHIPPED_FRONT_LABEL
    ]
    assert len(rows) == 5  # every GPU target
    (line,) = [x for x in hardware_headline(text) if x.startswith("The shipped `front_ehvi`")]
    shares = {r["target"]: float(r["100 queries"].split(" ")[0]) for r in rows}
    assert f"met on {sum(v >= SEARCH_GOAL for v in shares.values())} of 5 targets" in line
    for target, v in shares.items():
        verdict = "met" if v >= SEARCH_GOAL else f"missed by {SEARCH_GOAL - v:.3f}"
        assert f"{target} {v:.3f} ({verdict})" in line


def test_the_blend_wins_per_family_are_recounted_from_the_estimators_taus() -> None:
    from benchmarks.bench_latency_models import BLEND
    from benchmarks.bench_latency_models import ZERO_SHOT as BASELINES

    text = Store()
    rows = table(section(text, ZERO_SHOT), "target", "ledgformer")
    header = next(line for line in hardware_headline(text) if line.startswith("| family"))
    column = _cells(header).index(f"`{BLEND}` τ > best model-free τ")
    lines = [line for line in hardware_headline(text) if line.startswith("| ") and " (" in _cells(line)[0]]
    for line in lines[1:]:
        family = _cells(line)[0].split(" (")[0]
        mine = [r for r in rows if r["family"] == family]
        wins = sum(_triple(r[BLEND])[0] > max(_triple(r[b])[0] for b in BASELINES) for r in mine)
        assert _cells(line)[column] == f"{wins} of {len(mine)}"
