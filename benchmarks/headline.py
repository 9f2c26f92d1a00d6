"""The README's headline results, generated from BENCHMARKS.md (never typed by hand).

``python -m benchmarks.headline`` rewrites the block between ``<!-- headline:start -->`` and
``<!-- headline:end -->`` in README.md; ``--check`` exits 1 when the README's block differs from
what BENCHMARKS.md gives (the test suite runs the same check). Each headline row is read from a
named section and table of BENCHMARKS.md, so rerunning a benchmark and then this script updates it.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BENCHMARKS = ROOT / "BENCHMARKS.md"
START, END = "<!-- headline:start -->", "<!-- headline:end -->"


def section(text: str, name: str) -> str:
    """The text of BENCHMARKS.md section ``name`` (between its begin/end markers)."""
    match = re.search(rf"<!-- begin {re.escape(name)} -->(.*?)<!-- end {re.escape(name)} -->", text, re.S)
    if match is None:
        raise ValueError(f"BENCHMARKS.md has no section {name!r}")
    return match.group(1)


def table(text: str, first_header: str, has_column: str) -> list[dict[str, str]]:
    """The rows (header -> cell) of the first markdown table in ``text`` whose first header is
    ``first_header`` and which has a column ``has_column``."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        cells = _cells(line)
        if cells and cells[0] == first_header and has_column in cells and i + 1 < len(lines):
            rows = []
            for row_line in lines[i + 2 :]:
                if not row_line.startswith("|"):
                    break
                rows.append(dict(zip(cells, _cells(row_line))))
            return rows
    raise ValueError(f"no table with columns {first_header!r} ... {has_column!r}")


def _cells(line: str) -> list[str]:
    line = line.strip()
    if not line.startswith("|"):
        return []
    return [c.strip() for c in line.strip("|").split("|")]


def _row(rows: list[dict[str, str]], name: str) -> dict[str, str]:
    for row in rows:
        if row[next(iter(row))] == name:
            return row
    raise ValueError(f"no row {name!r}")


def headline(benchmarks: str) -> str:
    """The markdown of the README's headline block."""
    pruned = table(section(benchmarks, "predictors:paper_pruned"), "predictor", "tau @ 156")
    sizes = ["156", "469", "781", "1563"]
    pred_rows = [("NN-Former, the paper's (GPU)", _row(pruned, "NN-Former (paper, GPU)")),
                 ("`nnformer` here (CPU, defaults)", _row(pruned, "nnformer")),
                 ("`gin`", _row(pruned, "gin")), ("`mlp`", _row(pruned, "mlp"))]
    out = [
        "Predictor ranking quality: Kendall τ on all 15,625 NAS-Bench-201 cells after training on the first "
        "N (paper protocol, pruned cells; section `predictors:paper_pruned`):",
        "",
        "| predictor | " + " | ".join(f"N = {s}" for s in sizes) + " |",
        "|---|" + "---|" * len(sizes),
    ]
    out += [f"| {label} | " + " | ".join(row[f"tau @ {s}"] for s in sizes) + " |" for label, row in pred_rows]
    rel = table(section(benchmarks, "optimizers_compare_optimizers_nb201"), "optimizer", "÷ evolution")
    out += [
        "",
        "Search: queries until the NAS-Bench-201 CIFAR-10 optimum is first evaluated, mean over seeds "
        "(≥: some seeds did not find it within the budget; section `optimizers_compare_optimizers_nb201`):",
        "",
        "| optimizer | found the optimum | mean queries | ÷ regularized evolution's |",
        "|---|---|---|---|",
    ]
    names = ("predictor_local_search", "local_search", "bayesian", "predictor_evolution", "evolution", "random")
    for name in names:
        row = _row(rel, name)
        out.append(f"| `{name}` | {row['found optimum']} | {row['mean queries']} | {row['÷ evolution']} |")
    return "\n".join(out)


def render(readme: str, block: str) -> str:
    """``readme`` with its headline block replaced by ``block``."""
    if START not in readme or END not in readme:
        raise ValueError(f"README.md has no {START} ... {END} block")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{block}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    """Rewrite (or, with ``--check``, verify) README.md's headline block."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if README.md's block is stale")
    args = parser.parse_args(argv)
    readme = README.read_text()
    new = render(readme, headline(BENCHMARKS.read_text()))
    if args.check:
        if new != readme:
            print("README.md's headline block differs from BENCHMARKS.md: run python -m benchmarks.headline")
            return 1
        return 0
    README.write_text(new)
    print("README.md headline block rewritten from BENCHMARKS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
