"""The helpers behind BENCHMARKS.md's headline numbers, checked against hand-computed values."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from benchmarks.bench_optimizers import best_peer_rows, search_rows, searched_on
from benchmarks.stats import RatioCI, bootstrap_ratio, censor, mean_sd, median_queries, restricted_mean


def test_censor_counts_unfound_seeds_as_the_budget():
    assert censor([3, None, 7], 150).tolist() == [3.0, 150.0, 7.0]
    with pytest.raises(ValueError, match="budget"):
        censor([1], 0)


def test_mean_sd_is_the_sample_sd_of_the_finite_values():
    """One "± sd" across BENCHMARKS.md: the sample sd (n - 1), as pandas' std in the predictor tables."""
    import pandas as pd

    assert mean_sd([1.0, 3.0, None, float("nan")]) == "2.00 ± 1.41"  # sqrt(((1-2)^2 + (3-2)^2) / 1)
    assert mean_sd([4.0, 4.5, 7.0]) == f"5.17 ± {pd.Series([4.0, 4.5, 7.0]).std():.2f}"
    assert mean_sd([5.0]) == "5.00 ± 0.00"
    assert mean_sd([None]) == "-"


def test_restricted_mean_and_median_know_their_cap():
    # seeds found it at 10, 30 and never (within 100): min(T, 100) = 10, 30, 100
    assert restricted_mean([10, None, 30], 100) == pytest.approx(140 / 3)
    # a longer pass restricted to a shorter cap: 120 > 100 counts as 100
    assert restricted_mean([10, 120, 30], 100) == pytest.approx(140 / 3)
    assert median_queries([10, None, 30], 100) == 30  # the unfound seed is the slowest: the median is exact
    assert median_queries([10, None, None], 100) is None  # the median lies beyond the cap
    assert median_queries([10, 20, 30, None], 100) == 25
    assert median_queries([10, 20, None, None], 100) is None


def test_bootstrap_of_a_constant_paired_ratio_has_no_width():
    ci = bootstrap_ratio([1, 2, 3, 4], [2, 4, 6, 8], n_boot=500)
    assert (ci.point, ci.low, ci.high) == pytest.approx((0.5, 0.5, 0.5))


def test_bootstrap_interval_matches_the_exact_resampling_distribution():
    """With 3 seeds there are 27 equally likely resamples: the percentile interval of many draws
    lands on the exact distribution's 2.5 / 97.5 percentiles (its extremes here: each
    outcome has mass 1/27 > 2.5 %)."""
    x, ref = np.array([10.0, 40.0, 20.0]), np.array([20.0, 20.0, 40.0])
    exact = sorted(x[list(i)].mean() / ref[list(i)].mean() for i in itertools.product(range(3), repeat=3))
    ci = bootstrap_ratio(x, ref, n_boot=40_000, seed=1)
    assert ci.point == pytest.approx(70 / 80)
    assert ci.low == pytest.approx(np.percentile(exact, 2.5, method="inverted_cdf"), abs=1e-9)
    assert ci.high == pytest.approx(np.percentile(exact, 97.5, method="inverted_cdf"), abs=1e-9)
    assert ci.low < ci.point < ci.high
    # the median variant uses medians of both sides
    assert bootstrap_ratio(x, ref, np.median, n_boot=100).point == pytest.approx(20 / 20)


def test_bootstrap_refuses_unpaired_or_degenerate_input():
    with pytest.raises(ValueError, match="paired"):
        bootstrap_ratio([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="reference statistic is 0"):
        bootstrap_ratio([1, 2], [0, 0])
    assert str(RatioCI(0.5, 0.4, 0.6, lower_bound=True)) == "≥ 0.50 [0.40, 0.60]"


def test_search_rows_print_each_ratio_s_numerator_and_denominator():
    """Every ratio is this row's number / evolution's in the same column; evolution's are exactly 1."""
    budget_hits = {
        "evolution": {100: 100, 101: None, 102: None},  # 150-query run: 1 of 3 found
        "guided": {100: 50, 101: 100, 102: 150},
        "slow": {102: None, 100: 60, 101: 90},
        "peer": {100: 40, 101: None, 102: 140},
    }
    long_hits = {"evolution": {100: 100, 101: 200, 102: 300}}  # its long pass found all three
    rows = {r[0]: r for r in search_rows(budget_hits, long_hits, budget=150, long_budget=1000, n_boot=200)}
    evo = rows["evolution"]
    assert evo[1:3] == ["1/3", f"{(100 + 150 + 150) / 3:.1f}"]  # restricted mean @ 150
    assert evo[3] == "1.00 [1.00, 1.00]" and evo[8] == "1.00 [1.00, 1.00]"
    assert evo[4:8] == ["1000", "3/3", "200.0", "200"]  # its long pass: uncensored
    guided = rows["guided"]
    assert guided[1:3] == ["3/3", "100.0"]
    assert guided[3].startswith(f"{100 / (400 / 3):.2f} [")  # restricted means divided, no bound
    assert guided[4:8] == ["150", "3/3", "100.0", "100"]
    assert guided[8] == "0.50 [0.50, 0.50]"  # 100.0 / 200.0, as the two rows print them
    slow = rows["slow"]  # 60, 90, unfound: censored numerator, exact denominator -> a lower bound
    assert slow[6] == "≥ 100.0" and slow[7] == "90" and slow[8].startswith("≥ 0.50")
    # recomputable: the printed means divide to the printed ratio
    for row in rows.values():
        point = float(row[8].lstrip("≥≤ ").split(" ")[0])
        assert point == pytest.approx(float(row[6].lstrip("≥ ")) / float(evo[6]), abs=0.006)
    with pytest.raises(ValueError, match="not paired"):
        search_rows({"evolution": {100: 1, 101: 2}, "x": {100: 1}}, {}, 150, 1000)
    assert search_rows({"x": {100: 1, 101: 2}}, {}, 150, 1000) == []  # no reference row: no ratio


def test_search_rows_bound_the_ratio_by_whichever_side_is_censored():
    budget_hits = {"evolution": {1: 100, 2: None}, "fast": {1: 20, 2: 40}, "lost": {1: None, 2: None}}
    rows = {r[0]: r for r in search_rows(budget_hits, {}, budget=150, long_budget=150, n_boot=100)}
    assert rows["evolution"][6] == "≥ 125.0"
    assert rows["fast"][8].startswith("≤ 0.24")  # 30 / 125: evolution's true mean is larger
    assert rows["lost"][8] == "—"  # both censored: only the restricted means compare
    assert rows["lost"][3].startswith("1.20 ")  # 150 / 125, restricted at the same cap
    with pytest.raises(ValueError, match="bounds nothing"):
        bootstrap_ratio([1, 2], [1, 2], lower_bound=True, upper_bound=True)


def test_best_peer_is_the_lowest_restricted_mean_and_its_ratios_divide_the_printed_numbers():
    hits = {
        "predictor_local_search": {5: 20, 6: 40, 7: 30},
        "tpe": {5: 90, 6: None, 7: 60},  # restricted mean 100, censored
        "bore": {5: 150, 6: 140, 7: 30},  # restricted mean 106.7
        "evolution": {5: 10, 6: 10, 7: 10},  # not a peer: never the best peer
    }
    best, rows = best_peer_rows(hits, ["tpe", "bore", "absent"], budget=150, n_boot=200)
    assert best == "tpe"
    table = {r[0]: r for r in rows}
    assert table["restricted mean @ 150"][1:3] == ["30.0", "100.0"]
    assert table["restricted mean @ 150"][3].startswith("0.30 [")  # exact on both sides: no bound
    assert table["mean"][1:3] == ["30.0", "≥ 100.0"]
    assert table["mean"][3].startswith("≤ 0.30 [")  # the peer's true mean is larger
    assert table["median"][1:3] == ["30", "90"]
    assert table["found"][1:3] == ["3/3", "2/3"]
    both_cut = {"predictor_local_search": {5: None, 6: 10}, "tpe": {5: None, 6: 20}}
    assert {r[0]: r for r in best_peer_rows(both_cut, ["tpe"], 150, n_boot=50)[1]}["mean"][3] == "—"
    assert best_peer_rows(hits, ["absent"], 150) == ("", [])
    with pytest.raises(ValueError, match="not paired"):
        best_peer_rows({"predictor_local_search": {1: 2, 2: 3}, "tpe": {1: 4}}, ["tpe"], 150)


def test_searched_on_says_when_a_search_reads_the_test_column():
    assert searched_on("cifar10-valid/valid_accuracy").startswith("validation")
    label = searched_on("cifar100/test_accuracy")
    assert label.startswith("test") and "an optimisation benchmark, not a held-out accuracy" in label


def test_rendering_refuses_rows_measured_with_other_options_and_labels_legacy_rows(
    nb201_space, nb201_benchmark, tmp_path
):
    import pandas as pd

    from benchmarks.bench_predictors import _tau_table, label_legacy
    from benchmarks.report import LEGACY_LABEL, OptionsMismatch
    from nasearch.compare import CompareConfig, Task, run_compare

    task = Task(nb201_space, nb201_benchmark)
    specs = {"forest": ("random_forest", {"n_estimators": 10})}
    config = CompareConfig(name="t", sizes=[60], seeds=[0, 1], predictors={"forest": {}}, test_subsample=300)
    frame = pd.DataFrame(run_compare(config, specs, tmp_path, task, log=lambda s: None))
    same = label_legacy(frame, config, specs, "t")
    assert list(same["predictor"]) == ["forest", "forest"]
    assert f"| {same['options_hash'][0]} |" in _tau_table(same, {})  # the table shows the hash
    # the table names another setting than the rows were measured with: refused, naming the key
    with pytest.raises(OptionsMismatch, match="n_estimators: row 10, table 300"):
        label_legacy(frame, config, {"forest": ("random_forest", {})}, "t")
    # a changed default is caught too: the rows recorded the resolved defaults
    with pytest.raises(OptionsMismatch, match="max_features"):
        label_legacy(
            frame, config, {"forest": ("random_forest", {"n_estimators": 10, "max_features": 0.9})}, "t"
        )
    old = frame.drop(columns=["options", "options_hash", "version", "commit"])
    legacy = label_legacy(old, config, specs, "t")
    assert list(legacy["predictor"]) == [f"forest ({LEGACY_LABEL})"] * 2
    assert "| - |" in _tau_table(legacy, {})


def test_mark_legacy_labels_a_section_once(tmp_path):
    from benchmarks.report import LEGACY_LABEL, mark_legacy, write_section

    path = tmp_path / "B.md"
    write_section("a", "### A\n\n| x |\n|---|\n| 1 |", path)
    write_section("b", "### B\n\ntext", path)
    assert mark_legacy(["a"], path) == ["a"] and mark_legacy(["a"], path) == []
    text = path.read_text()
    assert text.count(LEGACY_LABEL) == 1 and text.index(LEGACY_LABEL) < text.index("| 1 |")
    assert text.index("### B") > text.index(LEGACY_LABEL)
    with pytest.raises(SystemExit, match="no section 'c'"):
        mark_legacy(["c"], path)


def test_search_tables_refuse_runs_with_other_or_no_options(tmp_path):
    from types import SimpleNamespace

    from benchmarks.bench_optimizers import _trace

    def rep(h, commit="abc"):
        return SimpleNamespace(options_hash=h, commit=commit, version="0.1.0")

    assert _trace([rep("h1"), rep("h1", "def")], tmp_path) == {
        "options_hash": "h1",
        "commit": "abc, def",
        "version": "0.1.0",
    }
    with pytest.raises(SystemExit, match="different options"):
        _trace([rep("h1"), rep("h2")], tmp_path)
    with pytest.raises(SystemExit, match="recorded no options"):
        _trace([rep("h1"), SimpleNamespace(commit="", version="0.1.0")], tmp_path)
