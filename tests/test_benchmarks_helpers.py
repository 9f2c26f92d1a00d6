"""The helpers behind BENCHMARKS.md's headline numbers, checked against hand-computed values."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from benchmarks.bench_optimizers import _hits, ratio_rows
from benchmarks.stats import RatioCI, bootstrap_ratio, censor, mean_sd


def test_censor_counts_unfound_seeds_as_the_budget():
    assert censor([3, None, 7], 150).tolist() == [3.0, 150.0, 7.0]
    with pytest.raises(ValueError, match="budget"):
        censor([1], 0)


def test_mean_sd_is_the_population_sd_of_the_finite_values():
    assert mean_sd([1.0, 3.0, None, float("nan")]) == "2.00 ± 1.00"
    assert mean_sd([None]) == "-"


def test_hits_reports_found_mean_of_found_and_censored_mean():
    assert _hits([10, None, 30], 100) == ("2/3", "20", pytest.approx((10 + 100 + 30) / 3))


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


def test_ratio_rows_pair_seeds_and_mark_censored_rows():
    evolution = {100: 100, 101: 200, 102: 300}
    hits = {"guided": {100: 50, 101: 100, 102: 150}, "slow": {102: None, 100: 60, 101: 90}}
    rows = {r[0]: r for r in ratio_rows(hits, evolution, budget=150, long_budget=1000, n_boot=200)}
    assert rows["guided"][1:4] == ["3/3", "100.0", "100"]
    assert rows["guided"][4] == "0.50 [0.50, 0.50]"  # every seed took half evolution's queries
    assert rows["slow"][1:4] == ["2/3", "≥ 100.0", "≥ 90"]  # 60, 90, 150 (unfound)
    assert rows["slow"][4].startswith("≥ 0.50") and rows["slow"][5].startswith("≥ 0.45")
    with pytest.raises(ValueError, match="not paired"):
        ratio_rows({"x": {100: 1, 101: 2}}, evolution, 150, 1000)
    assert ratio_rows(hits, {100: None, 101: 5}, 150, 1000) == []  # evolution incomplete: no ratio


def test_rendering_refuses_rows_measured_with_other_options_and_labels_legacy_rows(nb201_space, nb201_benchmark,
                                                                                     tmp_path):
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
        label_legacy(frame, config, {"forest": ("random_forest", {"n_estimators": 10, "max_features": 0.9})}, "t")
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

    assert _trace([rep("h1"), rep("h1", "def")], tmp_path) == {"options_hash": "h1", "commit": "abc, def",
                                                              "version": "0.1.0"}
    with pytest.raises(SystemExit, match="different options"):
        _trace([rep("h1"), rep("h2")], tmp_path)
    with pytest.raises(SystemExit, match="recorded no options"):
        _trace([rep("h1"), SimpleNamespace(commit="", version="0.1.0")], tmp_path)
