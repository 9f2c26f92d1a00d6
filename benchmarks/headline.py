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


def titled_table(text: str, title: str) -> list[dict[str, str]]:
    """The rows of the first table after the paragraph that opens with ``**title**``."""
    start = text.find(f"**{title}**")
    if start < 0:
        raise ValueError(f"no table titled {title!r}")
    rest = text[start:]
    first = next(line for line in rest.splitlines() if line.startswith("|"))
    return table(rest, _cells(first)[0], _cells(first)[-1])


def _row(rows: list[dict[str, str]], name: str) -> dict[str, str]:
    for row in rows:
        if row[next(iter(row))] == name:
            return row
    raise ValueError(f"no row {name!r}")


def headline(benchmarks: str) -> str:
    """The markdown of the README's headline block: only figures whose settings were chosen without
    the cells or seeds they are reported on (validation-selected defaults, fresh search seeds,
    held-out chips)."""
    nb201 = section(benchmarks, "select_defaults:nnformer_nb201_pruned")
    paper = titled_table(nb201, "Frozen choice, paper protocol")
    random = {r["train cells"]: r for r in titled_table(nb201, "Frozen choice, random protocol")}
    nb101 = titled_table(section(benchmarks, "select_defaults:nnformer_nb101"), "Frozen choice, paper protocol")
    out = [
        "Predictor ranking quality: NN-Former's Kendall τ after training on N cells, with its defaults chosen on "
        "the paper's validation block (no test cell read), frozen, then scored once; mean ± sd over 3 fit seeds "
        "(sections `select_defaults:nnformer_nb201_pruned` and `select_defaults:nnformer_nb101`):",
        "",
        "| table | N | NN-Former paper (GPU) | `nnformer` here (CPU), paper protocol | on cells outside training "
        "and validation | random protocol |",
        "|---|---|---|---|---|---|",
    ]
    out += [f"| NAS-Bench-201 | {r['train cells']} | {r['NN-Former paper τ']} | {r['τ, all cells']} | "
            f"{r['τ, unseen cells']} | {random[r['train cells']]['τ, all cells']} |" for r in paper]
    out += [f"| NAS-Bench-101 | {r['train cells']} | {r['NN-Former paper τ']} | {r['τ, all cells']} | "
            f"{r['τ, unseen cells']} | — |" for r in nb101]
    fresh = section(benchmarks, "optimizers_compare_optimizers_nb201_fresh")
    rel = table(fresh, "optimizer", "mean ÷ evolution [95 % CI]")
    out += [
        "",
        "Search: queries until the NAS-Bench-201 CIFAR-10 optimum is first evaluated, on 40 fresh seeds "
        "(100–139) with the optimizer configs frozen first; ratio to regularized evolution with a paired "
        "bootstrap 95 % interval (≥: some seeds did not find it within 150 queries; section "
        "`optimizers_compare_optimizers_nb201_fresh`):",
        "",
        "| optimizer | found the optimum | mean queries | ÷ regularized evolution's [95 % CI] |",
        "|---|---|---|---|",
    ]
    names = ("predictor_local_search", "predictor_evolution", "local_search", "bayesian", "optuna_tpe", "evolution", "random")
    for name in names:
        row = _row(rel, name)
        out.append(f"| `{name}` | {row['found optimum']} | {row['mean queries']} | {row['mean ÷ evolution [95 % CI]']} |")
    out += out_of_sample(benchmarks, fresh)
    from benchmarks.headline_hardware import hardware_headline

    out += hardware_headline(benchmarks)
    return "\n".join(out)


#: the out-of-sample search sections: the optimizer settings frozen from CIFAR-10's, fresh seeds
OUT_OF_SAMPLE = {
    "NAS-Bench-201 CIFAR-100": "optimizers_nb201_cifar100_fresh",
    "NAS-Bench-201 ImageNet16-120": "optimizers_nb201_imagenet16_fresh",
    "NAS-Bench-101 CIFAR-10": "optimizers_nb101_fresh",
}


def out_of_sample(benchmarks: str, cifar10: str) -> list[str]:
    """The search headline on all four tables: CIFAR-10 (where the settings were made) and the three
    out-of-sample ones, each with the surrogate-guided searches against regularized evolution."""
    out = [
        "",
        "The same optimizer settings, frozen, on fresh seeds of three other tables (out of sample) beside "
        "CIFAR-10: optimum found within 150 queries, mean queries ÷ regularized evolution's [95 % CI] where "
        "evolution's 1000-query pass found it (on NAS-Bench-101's 423,624 cells no search did, so compare the "
        "test accuracy), and the incumbent's test accuracy after 150 queries (sections "
        + ", ".join(f"`{key}`" for key in OUT_OF_SAMPLE.values()) + "):",
        "",
        "| table (seeds) | `predictor_local_search` found | ÷ evolution | `predictor_evolution` found | ÷ evolution "
        "| test accuracy @ 150: `predictor_local_search` / `evolution` |",
        "|---|---|---|---|---|---|",
    ]
    for name, text in [("NAS-Bench-201 CIFAR-10", cifar10),
                       *((n, section(benchmarks, key)) for n, key in OUT_OF_SAMPLE.items())]:
        runs = table(text, "optimizer", "found optimum")
        test = next(h for h in runs[0] if h.startswith("incumbent") and h.endswith("@ 150"))
        try:
            rel = table(text, "optimizer", "mean ÷ evolution [95 % CI]")
        except ValueError:  # evolution never found the optimum: no ratio to report
            rel = []
        seeds = _row(runs, "evolution")["found optimum"].split("/")[1]

        def ratio(optimizer: str, rel: list[dict[str, str]] = rel) -> str:
            return _row(rel, optimizer)["mean ÷ evolution [95 % CI]"] if rel else "—"

        pls, pe = _row(runs, "predictor_local_search"), _row(runs, "predictor_evolution")
        out.append(f"| {name} ({seeds}) | {pls['found optimum']} | {ratio('predictor_local_search')} "
                   f"| {pe['found optimum']} | {ratio('predictor_evolution')} "
                   f"| {pls[test]} / {_row(runs, 'evolution')[test]} |")
    return out


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
