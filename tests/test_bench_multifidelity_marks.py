"""The bound marks of the multi-fidelity tables (≥, ≤, —): a median is censored only where the middle
seed missed the optimum, and a ratio to a censored reference median is an upper bound, or unknown
where both medians are censored; checked on constructed seeds and on the stored sections' rows."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.bench_multifidelity import (
    EARLIER_SECTIONS,
    OLD_MARKS_TEXT,
    RATIO_HEADER,
    REFERENCE_CELL,
    TASKS,
    remark_rows,
    table,
)
from benchmarks.report import store_for
from benchmarks.results import Table
from benchmarks.stats import UNKNOWN_RATIO, bounded_ratio, ratio_mark

CAP = 10 * 3600.0


def _summary(hit_hours: float | None) -> dict[str, Any]:
    end = CAP if hit_hours is None else hit_hours * 3600
    return {
        "time_to_optimum": None if hit_hours is None else hit_hours * 3600,
        "incumbent_curve": [[end, 90.0]],
        "test": 90.0,
        "epochs_trained": 400.0,
        "wall_seconds": 1.0,
    }


def _results(hours: dict[str, list[float | None]]) -> dict[str, dict[int, Any]]:
    return {label: {seed: _summary(h) for seed, h in enumerate(hs)} for label, hs in hours.items()}


def _rows(hours: dict[str, list[float | None]]) -> dict[str, list[Any]]:
    text, _ = table(_results(hours), 4, CAP, 91.0, "abc")
    cells = text.table
    return {str(r[0]): r for r in cells.rows}


def test_a_ratio_to_a_censored_reference_median_is_an_upper_bound_or_unknown():
    """pls_full reached the optimum on 2 of 4 seeds: its median (the mean of the 2nd and 3rd seeds)
    is a lower bound, so a row whose median is observed is at most its printed ratio, and a row whose
    median is censored too has no bound at all."""
    rows = _rows(
        {
            "pls_full": [1.0, 2.0, None, None],
            "surrogate_pls": [1.0, 1.0, 2.0, None],  # median 1.5, observed
            "asha_pls": [1.0, 3.0, 4.0, 5.0],  # all found
            "random_full": [None, None, None, 4.0],  # median censored
        }
    )
    med, mean, ratio = 2, 3, 4
    assert table(_results({"pls_full": [1.0, 2.0]}), 4, CAP, 91.0, "x")[0].table.headers[2:5] == [
        "median h to optimum",
        "mean h to optimum",
        RATIO_HEADER,
    ]
    assert rows["pls_full"][med] == "≥ 6.00"  # (2 + 10) / 2: the cap counts for the unfound seed
    assert rows["pls_full"][ratio] == REFERENCE_CELL
    assert rows["surrogate_pls"][med] == "1.50"  # the middle seeds found it: exact
    assert rows["surrogate_pls"][mean] == "≥ 3.50"  # a seed did not: the mean is a lower bound
    assert rows["surrogate_pls"][ratio].startswith("≤ 0.25 [")  # 1.5 / ≥ 6
    assert rows["asha_pls"][ratio].startswith("≤ 0.58 [")  # 3.5 / ≥ 6
    assert rows["random_full"][ratio] == UNKNOWN_RATIO  # ≥ 10 / ≥ 6 bounds nothing


def test_a_median_is_censored_only_where_the_middle_seed_missed():
    """pls_full found the optimum on 3 of 4 seeds: its median is observed, so the ratios are exact
    where the row's median is observed too (the old tables marked both ≥ for the one unfound seed)."""
    rows = _rows(
        {
            "pls_full": [1.0, 2.0, 4.0, None],  # median 3, observed; mean ≥
            "surrogate_pls": [1.0, 1.0, 2.0, None],
            "random_full": [None, None, 5.0, None],
        }
    )
    assert rows["pls_full"][2:4] == ["3.00", "≥ 4.25"]
    assert rows["surrogate_pls"][4].startswith("0.50 [")  # exact on both sides: no mark
    assert rows["random_full"][2] == "≥ 10.00"
    assert rows["random_full"][4].startswith("≥ 3.33 [")  # ≥ 10 / 3


def test_ratio_marks_are_decided_in_one_place():
    assert [ratio_mark(a, b) for a, b in [(False, False), (True, False), (False, True), (True, True)]] == [
        "",
        "≥ ",
        "≤ ",
        None,
    ]
    assert bounded_ratio([1.0, 2.0], [2.0, 4.0], True, True) == UNKNOWN_RATIO
    assert bounded_ratio([1.0, 2.0], [2.0, 4.0], False, True, n_boot=50).startswith("≤ 0.50 [")


def test_remarking_a_table_gives_the_marks_the_table_derives():
    """``remark_rows`` reads only the stored rows (found counts); on rows with the marks stripped or
    wrong it gives back exactly what ``table`` prints from the seeds."""
    hours: dict[str, list[float | None]] = {
        "pls_full": [1.0, 2.0, None, None, None],
        "surrogate_pls": [1.0, 1.0, 2.0, None, 3.0],
        "asha_pls": [1.0, 3.0, 4.0, 5.0, 2.0],
        "random_full": [None, None, None, 4.0, None],
    }
    printed = table(_results(hours), 4, CAP, 91.0, "abc")[0].table
    stripped = [
        [str(c).removeprefix("≥ ").removeprefix("≤ ") if i in (2, 3, 4) else c for i, c in enumerate(r)]
        for r in printed.rows
    ]
    stripped[-1][4] = "≥ 1.00 [1.00, 1.00]"  # a number where a mark of "unknown" belongs
    assert remark_rows(printed.headers, stripped) == printed.rows


def _stored(section: str) -> list[Table]:
    tables = [t for _, t in store_for().load(section).tables() if RATIO_HEADER in t.headers]
    assert tables, section
    return tables


@pytest.mark.parametrize("name", sorted([*EARLIER_SECTIONS, *(t.section for t in TASKS.values())]))
def test_the_stored_sections_carry_the_marks_their_counts_give(name: str):
    """Every stored multi-fidelity table is marked as its counts of seeds that reached the optimum say
    (re-marking changes nothing), and its legend is the mended one."""
    section = store_for().load(name)
    assert not any(OLD_MARKS_TEXT in b for b in section.blocks if isinstance(b, str))
    for t in _stored(name):
        assert remark_rows(t.headers, t.rows) == t.rows


def test_the_stored_cifar10_ratios_are_exact_where_both_medians_are_observed():
    """NB201 CIFAR-10 at W = 4: pls_full reached the optimum on 15 of 20 seeds, so its median is observed,
    and so is surrogate_pls's (20/20): 0.54 is exact, not a bound. ImageNet16-120's reference reached it
    on 2 of 10 seeds, a censored median: every ratio there is an upper bound or unknown."""
    w4 = {r["method"]: r for r in _stored("multifidelity")[1].records()}
    assert w4["pls_full"]["optimum trained"] == "15/20"
    assert w4["pls_full"]["median h to optimum"] == "7.67"
    assert w4["pls_full"]["mean h to optimum"] == "≥ 7.71"
    assert w4["surrogate_pls"][RATIO_HEADER] == "0.54 [0.42, 0.79]"
    assert w4["asha_pls"][RATIO_HEADER] == "0.55 [0.43, 0.71]"  # 19/20: its median is observed
    for t in _stored("multifidelity_imagenet16"):
        records = {r["method"]: r for r in t.records()}
        assert records["pls_full"]["optimum trained"] == "2/10"
        assert records["pls_full"]["median h to optimum"].startswith("≥ ")
        assert all(
            r[RATIO_HEADER] in (REFERENCE_CELL, UNKNOWN_RATIO) or r[RATIO_HEADER].startswith("≤ ")
            for r in records.values()
        )


def test_a_run_with_the_dehb_peer_but_no_peers_extra_is_refused_before_any_seed(monkeypatch):
    """The peer's import once failed only after every other method of the first seeds had run."""
    import sys

    from benchmarks.bench_multifidelity import check_peer_installed, main

    monkeypatch.setitem(sys.modules, "dehb", None)  # import dehb raises ImportError
    check_peer_installed(["pls_full", "surrogate_pls"])  # no peer asked: nothing to check
    with pytest.raises(SystemExit, match="dehb_peer needs the peers extra"):
        main(["--seeds", "0", "--methods", "pls_full,dehb_peer", "--no-write"])


def test_the_goals_are_stated_with_their_distances():
    """The section states each of the issue's goals at W = 4 as met, missed by how much, or undecided
    where a censored median sits on the goal's other side."""
    from benchmarks.bench_multifidelity import goals_text, ratio_verdict

    assert ratio_verdict("0.54 [0.42, 0.79]") == "missed by 0.04 (0.54 [0.42, 0.79]; goal ≤ 0.50)"
    assert ratio_verdict("≤ 0.37 [0.2, 0.5]").startswith("met (")
    assert ratio_verdict("≤ 0.60 [0.4, 0.8]").startswith("undecided (")
    assert ratio_verdict("≥ 0.60 [0.4, 0.8]").startswith("missed by 0.10")
    assert ratio_verdict(UNKNOWN_RATIO).startswith("unknown")
    _, figures = table(
        _results(
            {
                "pls_full": [8.0, 8.0, 8.0],
                "surrogate_pls": [3.0, 3.0, 3.0],
                "topk_random": [None, None, 4.0],
                "dehb_peer": [None, None, None],
            }
        ),
        4,
        CAP,
        91.0,
        "abc",
    )
    text = goals_text(figures, 4)
    assert "`pls_full` (predictor_local_search as it ships): met (0.38 [" in text
    assert "ours ÷ peer met (≤ 0.30 [" in text  # 3 / ≥ 10
    assert "(`topk_random`, median ≥ 10.00 h): met, 7.00 h ahead" in text
