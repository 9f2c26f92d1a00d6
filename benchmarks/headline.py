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
    out += peers_headline(section(benchmarks, PEERS_SECTION))
    out += out_of_sample(benchmarks, fresh)
    from benchmarks.headline_hardware import hardware_headline

    out += hardware_headline(benchmarks)
    return "\n".join(out)


#: the search section with the peer libraries in the same run (fresh seeds, frozen invocation)
PEERS_SECTION = "optimizers_compare_optimizers_nb201_peers"


def searched_label(text: str) -> str:
    """What a search section searched, from its "**Searched on ...**" line: "validation" or the
    test column's warning."""
    match = re.search(r"\*\*Searched on (validation|test)", text)
    if match is not None:
        test = match.group(1) == "test"
    else:  # sections rendered before the line existed name their metric
        metric = re.search(r"Search metric `([^`]+)`", text)
        test = metric is None or "test" in metric.group(1).rsplit("/", 1)[-1]
    return "test: an optimisation benchmark, not a held-out accuracy" if test else "validation"


def peers_headline(text: str) -> list[str]:
    """The NB201 CIFAR-10 search table: ours and the peers from one run, every ratio recomputable from
    the two numbers beside it (the row's mean ÷ regularized evolution's mean, whose own ratio is 1.00)."""
    rows = table(text, "optimizer", "mean ÷ evolution's [95 % CI]")
    budget = next(h for h in rows[0] if h.startswith("found @ ")).removeprefix("found @ ")
    seeds = rows[0][f"found @ {budget}"].split("/")[1]
    command = re.search(r"--first-seed (\d+)", text)
    first = int(command.group(1)) if command else 0
    out = [
        "",
        f"Search: queries until the NAS-Bench-201 CIFAR-10 optimum is first evaluated, ours and the peer libraries "
        f"(Syne Tune, SMAC: `benchmarks/peers.py`; `optuna_tpe` is Optuna's own TPE sampler behind nasearch's `optuna` "
        f"optimizer) in one run on {seeds} fresh seeds ({first}–{first + int(seeds) - 1}), "
        f"with the invocation frozen and committed first. Searched on {searched_label(text)} (200-epoch "
        f"`cifar10-valid` validation accuracy; the test accuracy is reported apart). *Mean queries*: from each "
        "optimizer's longest pass (evolution, local and random search also ran 1000 queries; ≥: some seeds never "
        f"found it, a lower bound); ÷ evolution's: this row's mean divided by evolution's, with a paired bootstrap "
        f"95 % interval; *restricted mean @ {budget}*: min(queries, {budget}) averaged, exact for every row "
        f"(section `{PEERS_SECTION}`):",
        "",
        f"| optimizer | found @ {budget} | restricted mean @ {budget} | mean queries | median queries "
        "| mean ÷ evolution's [95 % CI] |",
        "|---|---|---|---|---|---|",
    ]
    ratio = "mean ÷ evolution's [95 % CI]"
    for row in rows:
        out.append(f"| `{row['optimizer']}` | {row[f'found @ {budget}']} | {row[f'restricted mean queries @ {budget}']} "
                   f"| {row['mean queries to optimum']} | {row['median queries']} | {row[ratio]} |")
    return out


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
        "CIFAR-10 (these sections predate the recomputable rows above: their ratios divide a 150-query mean, "
        "unfound seeds counted as 150, by evolution's 1000-query mean): optimum found within 150 queries, mean "
        "queries ÷ regularized evolution's [95 % CI] where evolution's 1000-query pass found it (on NAS-Bench-101's 423,624 cells no search did, so compare the "
        "test accuracy), and the incumbent's test accuracy after 150 queries (sections "
        + ", ".join(f"`{key}`" for key in OUT_OF_SAMPLE.values()) + "):",
        "",
        "| table (seeds) | `predictor_local_search` found | ÷ evolution | `predictor_evolution` found | ÷ evolution "
        "| test accuracy @ 150: `predictor_local_search` / `evolution` | searched on |",
        "|---|---|---|---|---|---|---|",
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
                   f"| {pls[test]} / {_row(runs, 'evolution')[test]} | {searched_label(text)} |")
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
