"""The notes that make the search sections measured before #25 recomputable: every ratio they print is
the row's restricted mean over evolution's, both read back from the stored table beside it."""

from __future__ import annotations

import re

import pytest

from benchmarks.legacy_ratios import LEGACY_SECTIONS, MEAN_HEADER, REFERENCE, note, number, ratio_table
from benchmarks.report import BENCHMARKS_MD, store_for
from benchmarks.results import Table


@pytest.mark.parametrize("name", LEGACY_SECTIONS)
def test_each_noted_ratio_is_the_tables_own_numbers_divided(name):
    section = store_for(BENCHMARKS_MD).load(name)
    tables = [b for b in section.blocks if isinstance(b, Table)]
    text = note(tables)
    assert text in section.notes  # applied, and in sync with the stored rows
    rows = {r["optimizer"]: r for r in ratio_table(tables).records()}
    printed = re.findall(r"`(\w+)` ([\d.]+) ÷ ([\d.]+) = (\d+\.\d\d)", text)
    assert {p[0] for p in printed} == set(rows)
    evolution = number(rows[REFERENCE][MEAN_HEADER])
    for optimizer, mean, denominator, ratio in printed:
        assert float(mean) == number(rows[optimizer][MEAN_HEADER]) and float(denominator) == evolution
        assert float(ratio) == pytest.approx(float(mean) / evolution, abs=0.005)
    assert dict((p[0], p[3]) for p in printed)[REFERENCE] == "1.00"
