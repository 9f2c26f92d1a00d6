"""Make the search sections measured before #25 recomputable from their own tables.

Their ratio tables divide each row's mean queries by regularized evolution's 1000-query mean, a figure
printed in another table, while the same row shows evolution's 150-query figure; so evolution's own
ratio reads below 1. Each row's *mean queries* there is a restricted mean @ 150 (a seed that did not
find the optimum counts as 150), an exact statistic: this module puts under each such section a note
with every row's restricted mean divided by evolution's in the same column, and names the denominator
of the old columns. The figures are as measured; only a note is added (``python -m
benchmarks.legacy_ratios``)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.report import BENCHMARKS_MD, mark_sections, store_for
from benchmarks.results import Table
from benchmarks.stats import unmarked

#: the sections whose ratio columns divide by evolution's 1000-query pass
LEGACY_SECTIONS = (
    "optimizers_compare_optimizers_nb201_fresh",
    "optimizers_nb201_cifar100_fresh",
    "optimizers_nb201_imagenet16_fresh",
)
RATIO_HEADER = "mean ÷ evolution [95 % CI]"
MEAN_HEADER = "mean queries"
LONG_HEADERS = ("mean queries (found seeds)", "median queries (unfound = budget)")
REFERENCE = "evolution"


def number(cell: object) -> float:
    """A printed figure without its bound mark (``≥ 112.2`` -> 112.2)."""
    return float(unmarked(cell))


def ratio_table(tables: list[Table]) -> Table:
    """The section's table of queries to the optimum relative to evolution."""
    found = [t for t in tables if RATIO_HEADER in t.headers]
    if len(found) != 1:
        raise ValueError(f"expected one table with {RATIO_HEADER!r}, found {len(found)}")
    return found[0]


def restricted_ratios(table: Table) -> list[tuple[str, str, str, float]]:
    """``(optimizer, its restricted mean, evolution's, as printed; the ratio)`` for each row."""
    rows = table.records()
    reference = next(r for r in rows if r["optimizer"] == REFERENCE)
    bare = str(number(reference[MEAN_HEADER]))
    return [
        (row["optimizer"], str(number(row[MEAN_HEADER])), bare, number(row[MEAN_HEADER]) / float(bare))
        for row in rows
    ]


def note(tables: list[Table]) -> str:
    """The note a legacy section carries: the recomputable ratios and the old columns' denominator."""
    long = next(t for t in tables if tuple(t.headers[2:4]) == LONG_HEADERS)
    evolution = next(r for r in long.records() if r["optimizer"] == REFERENCE)
    ratios = "; ".join(
        f"`{name}` {m} ÷ {d} = {r:.2f}" for name, m, d, r in restricted_ratios(ratio_table(tables))
    )
    return (
        "_Recomputable from the table of queries to the optimum alone (#25): its *mean queries* are restricted "
        "means @ 150 (a seed that did not find the optimum counts as 150; exact as such; the ≥ says the "
        f"uncensored mean is at least that). Each divided by evolution's in the same column: {ratios}. The table's "
        f"*÷ evolution* columns divide by evolution's 1000-query pass instead (mean {evolution[LONG_HEADERS[0]]}, "
        f"median {evolution[LONG_HEADERS[1]]}, the table above it), which is why evolution's own row reads "
        "below 1 there; sections measured since print both sides of each ratio in its row._"
    )


def annotate(path: Path = BENCHMARKS_MD) -> list[str]:
    """Put the note under each legacy section (once) and render BENCHMARKS.md; the sections marked."""
    store = store_for(path)
    marked = []
    for name in LEGACY_SECTIONS:
        tables = [b for b in store.load(name).blocks if isinstance(b, Table)]
        marked += mark_sections([name], note(tables), path)
    return marked


if __name__ == "__main__":
    print("noted:", ", ".join(annotate()) or "nothing new")
