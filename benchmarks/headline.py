"""The README's headline results, generated from the results store behind BENCHMARKS.md (never typed by hand).

``python -m benchmarks.headline`` rewrites the block between ``<!-- headline:start -->`` and
``<!-- headline:end -->`` in README.md; ``--check`` exits 1 when the README's block differs from
what the store gives (the test suite runs the same check). Each headline row is read from a named
section's stored table (``benchmarks/results/<section>.json``, the figures BENCHMARKS.md shows), so
rerunning a benchmark and then this script updates it.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from benchmarks.headline_hardware import hardware_headline
from benchmarks.results import Section, Store

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
START, END = "<!-- headline:start -->", "<!-- headline:end -->"


def section(store: Store, name: str) -> Section:
    """Section ``name`` of the results store (``ValueError`` when it has none)."""
    return store.load(name)


def table(sec: Section, first_header: str, has_column: str) -> list[dict[str, str]]:
    """The rows (header -> cell, as printed) of the first table of ``sec`` whose first header is
    ``first_header`` and which has a column ``has_column``."""
    return sec.table(first_header, has_column)


def titled_table(sec: Section, title: str) -> list[dict[str, str]]:
    """The rows of the first table after the paragraph that opens with ``**title**``."""
    return sec.titled_table(title)


def _row(rows: list[dict[str, str]], name: str) -> dict[str, str]:
    for row in rows:
        if row[next(iter(row))] == name:
            return row
    raise ValueError(f"no row {name!r}")


def headline(store: Store | None = None) -> str:
    """The markdown of the README's headline block: only figures whose settings were chosen without
    the cells or seeds they are reported on (validation-selected defaults, fresh search seeds,
    held-out chips)."""
    store = store or Store()
    leak_free = section(store, LEAK_FREE_NB201)
    random = leak_free_rows(leak_free, "random_held_out")
    paper = leak_free_rows(leak_free, "paper_held_out")
    rows = titled_table(leak_free, "Frozen choice, random_held_out protocol")
    nb101 = leak_free_rows(section(store, LEAK_FREE_NB101), "paper_held_out")
    steps_section = section(store, NB101_STEPS)
    steps = leak_free_rows(steps_section, "paper_held_out")
    nb101.update(steps)
    where_steps = (
        f"; NAS-Bench-101 at {' and '.join(steps)} cells: section `{NB101_STEPS}`, its step budget "
        f"({fact(steps_section, 'result')['chosen']['max_steps']:,}) chosen on validation; at the "
        "other sizes the rows are the earlier choice's, which that section's note says are the same fit (172) or "
        "not yet rescored (424)"
        if steps
        else ""
    )
    out = [
        "Predictor ranking quality: NN-Former's Kendall τ after training on N cells, with its defaults chosen on "
        "the paper's validation block (no test cell read), frozen, then scored once; mean ± sd over 3 fit seeds "
        f"(sections `{LEAK_FREE_NB201}` and `{LEAK_FREE_NB101}`, the frozen choices of "
        f"`select_defaults:nnformer_nb201_pruned` and `select_defaults:nnformer_nb101` rescored{where_steps}). "
        "Every test set "
        "leaves out each cell a selection read, and the paper protocol's starts past the row's own training and "
        "validation cells too, so its two columns score the same cells (NAS-Bench-101: every cell from 5,260 on, "
        "no subset; — : not measured on 3 fit seeds; the leak audit: `python -m benchmarks.defaults.leaks`):",
        "",
        "| table | N | NN-Former paper (GPU) | `nnformer` here (CPU), paper protocol | on cells outside training "
        "and validation | random protocol, test cells no selection read |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        n = r["train cells"]
        free = [paper[n]["τ, all cells"], paper[n]["τ, unseen cells"]] if n in paper else ["—", "—"]
        random_tau = random[n]["τ, all cells"] if n in random else "—"
        out.append(f"| NAS-Bench-201 | {n} | {r['NN-Former paper τ']} | {' | '.join(free)} | {random_tau} |")
    out += [
        f"| NAS-Bench-101 | {n} | {r['NN-Former paper τ']} | {r['τ, all cells']} | {r['τ, unseen cells']} | — |"
        for n, r in nb101.items()
    ]
    out += extra_info_headline(store)
    fresh = section(store, "optimizers_compare_optimizers_nb201_fresh")
    out += peers_headline(section(store, PEERS_SECTION))
    out += out_of_sample(store, fresh)
    out += hardware_headline(store)
    return "\n".join(out)


#: the NB201 default's frozen choice rescored on test sets that leave out every cell a selection read
LEAK_FREE_NB201 = "select_defaults:nnformer_nb201_pruned_leak_free"


def leak_free_rows(sec: Section, protocol: str) -> dict[str, dict[str, str]]:
    """Training size -> the row (as printed) of ``sec``'s frozen table of held-out ``protocol``, for the
    sizes measured on the full 3 fit seeds (a partial seed set is no headline figure)."""
    rows = titled_table(sec, f"Frozen choice, {protocol} protocol")
    return {r["train cells"]: r for r in rows if len(r["fit seeds"].split(",")) >= 3}


#: the NB101 default's frozen choice rescored on every cell past those a selection read (no subset)
LEAK_FREE_NB101 = "select_defaults:nnformer_nb101_leak_free"
#: NB101's step budget, chosen at 4236 cells (the one size where it binds); its frozen rows, where they
#: have 3 fit seeds, stand in for the leak-free section's at their size (the same test cells)
NB101_STEPS = "select_defaults:nnformer_nb101_steps"


#: the extra-information tracks (their own columns, as the papers report them): table name -> section
EXTRA_INFO = {"NAS-Bench-201": "predictors:extra_info_nb201", "NAS-Bench-101": "predictors:extra_info_nb101"}


def extra_info_headline(store: Store) -> list[str]:
    """The extra-information track of each space: the row its validation choice was scored in (the
    first of its table), with the issue's goal as its section states it."""
    out = [
        "",
        "Extra-information track, reported apart as the papers do (sections "
        + " and ".join(f"`{s}`" for s in EXTRA_INFO.values())
        + "): NN-Former may add unlabeled pre-training over all of the space's cells or its zero-cost proxies "
        "as inputs; the choice is made on validation cells, then scored once on 3 fresh fit seeds, on test cells "
        "no selection read (*none*: no candidate beat the plain default on validation, so the figure is the plain "
        "default's on the track's own seeds):",
        "",
        "| track | N | extra information chosen | τ (mean ± sd) | per fit seed | issue #23 goal |",
        "|---|---|---|---|---|---|",
    ]
    for table_name, name in EXTRA_INFO.items():
        sec = section(store, name)
        rows = table(sec, "predictor", "extra information")
        chosen = rows[0]
        tau_header = next(h for h in chosen if h.startswith("tau @ "))
        n = tau_header.split()[2]
        goal = re.search(r"Goal \(issue #23\): >= ([0-9.]+)", sec.markdown())
        if goal is None:
            raise ValueError(f"section {name!r} states no issue #23 goal")
        out.append(
            f"| {table_name} + extra information | {n} | {chosen['extra information']} | {chosen[tau_header]} | "
            f"{chosen['per fit seed']} | ≥ {goal.group(1)} |"
        )
    return out


#: the search section with the peer libraries in the same run (fresh seeds, frozen invocation)
PEERS_SECTION = "optimizers_compare_optimizers_nb201_peers_7100"


def fact(sec: Section, key: str) -> Any:
    """What search section ``sec`` records about its run under ``data[key]`` (``ValueError`` if absent)."""
    if sec.data is None or key not in sec.data:
        raise ValueError(f"section {sec.name!r} of the results store does not record {key!r}")
    return sec.data[key]


def searched_label(sec: Section) -> str:
    """What a search section searched (its ``searched_on`` record): "validation" or the test column's
    warning."""
    test = fact(sec, "searched_on") == "test"
    return "test: an optimisation benchmark, not a held-out accuracy" if test else "validation"


def peers_headline(sec: Section) -> list[str]:
    """The NB201 CIFAR-10 search table: ours and the peers from one run, every ratio recomputable from
    the two numbers beside it (the row's mean ÷ regularized evolution's mean, whose own ratio is 1.00)."""
    rows = table(sec, "optimizer", "mean ÷ evolution's [95 % CI]")
    budget = next(h for h in rows[0] if h.startswith("found @ ")).removeprefix("found @ ")
    seeds = rows[0][f"found @ {budget}"].split("/")[1]
    first = int(fact(sec, "first_seed") or 0)
    ran = sec.data.get("seeds") if sec.data else None  # the seeds that finished (a cut run: not a block)
    which = seed_ranges(ran) if ran else f"{first}–{first + int(seeds) - 1}"
    out = [
        "",
        f"Search: queries until the NAS-Bench-201 CIFAR-10 optimum is first evaluated, ours and the peer libraries "
        f"(Syne Tune, SMAC: `benchmarks/peers.py`; `optuna_tpe` is Optuna's own TPE sampler behind nasearch's `optuna` "
        f"optimizer) in one run on {seeds} fresh seeds ({which}), "
        f"with the invocation frozen and committed first. Searched on {searched_label(sec)} (200-epoch "
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
        out.append(
            f"| `{row['optimizer']}` | {row[f'found @ {budget}']} | {row[f'restricted mean queries @ {budget}']} "
            f"| {row['mean queries to optimum']} | {row['median queries']} | {row[ratio]} |"
        )
    return out + best_peer_headline(sec, budget)


def seed_ranges(seeds: list[int]) -> str:
    """``[600, 601, 602, 605]`` as "600–602, 605"."""
    runs: list[list[int]] = []
    for seed in sorted(seeds):
        if runs and seed == runs[-1][-1] + 1:
            runs[-1].append(seed)
        else:
            runs.append([seed])
    return ", ".join(f"{r[0]}–{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def best_peer_headline(sec: Section, budget: str) -> list[str]:
    """``predictor_local_search`` against the best peer of the same run (the section's "Against the best
    peer" table: both sides from the same ``budget``-query run, each ratio the two numbers beside it
    divided); nothing for a section measured before that table existed."""
    try:
        rows = titled_table(sec, "Against the best peer")
    except ValueError:
        return []
    _, ours, peer, ratio = list(rows[0])
    stats = {r["statistic"]: r for r in rows}
    mean, restricted = stats["mean"], stats[f"restricted mean @ {budget}"]
    return [
        "",
        f"Against the best peer of that run ({peer}, the peer row with the lowest restricted mean @ {budget}; "
        f"`optuna_tpe` counts as a peer), from the {budget}-query run both had: {ours}'s mean queries "
        f"{mean[ours]} ÷ {peer}'s {mean[peer]} = **{mean[ratio]}**; restricted means {restricted[ours]} ÷ "
        f"{restricted[peer]} = {restricted[ratio]}; medians {stats['median'][ours]} and "
        f"{stats['median'][peer]}; found {stats['found'][ours]} and {stats['found'][peer]} ("
        + (
            "≤: the peer's mean is censored, so the true ratio is lower; "
            if mean[ratio].startswith("≤")
            else ""
        )
        + "brackets: paired bootstrap 95 % interval).",
    ]


#: the out-of-sample search sections: the optimizer settings frozen from CIFAR-10's, fresh seeds
OUT_OF_SAMPLE = {
    "NAS-Bench-201 CIFAR-100": "optimizers_nb201_cifar100_fresh",
    "NAS-Bench-201 ImageNet16-120": "optimizers_nb201_imagenet16_fresh",
    "NAS-Bench-101 CIFAR-10": "optimizers_nb101_fresh",
}


def out_of_sample(store: Store, cifar10: Section) -> list[str]:
    """The search headline on all four tables: CIFAR-10 (where the settings were made) and the three
    out-of-sample ones, each with the surrogate-guided searches against regularized evolution."""
    out = [
        "",
        "The same optimizer settings, frozen, on fresh seeds of three other tables (out of sample) beside "
        "CIFAR-10 (these sections predate the recomputable rows above: their ratios divide a 150-query mean, "
        "unfound seeds counted as 150, by evolution's 1000-query mean): optimum found within 150 queries, mean "
        "queries ÷ regularized evolution's [95 % CI] where evolution's 1000-query pass found it (on "
        "NAS-Bench-101's 423,624 cells no search did, so compare the "
        "test accuracy), and the incumbent's test accuracy after 150 queries (sections "
        + ", ".join(f"`{key}`" for key in OUT_OF_SAMPLE.values())
        + "):",
        "",
        "| table (seeds) | `predictor_local_search` found | ÷ evolution | `predictor_evolution` found | ÷ evolution "
        "| test accuracy @ 150: `predictor_local_search` / `evolution` | searched on |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, sec in [
        ("NAS-Bench-201 CIFAR-10", cifar10),
        *((n, section(store, key)) for n, key in OUT_OF_SAMPLE.items()),
    ]:
        runs = table(sec, "optimizer", "found optimum")
        test = next(h for h in runs[0] if h.startswith("incumbent") and h.endswith("@ 150"))
        try:
            rel = table(sec, "optimizer", "mean ÷ evolution [95 % CI]")
        except ValueError:  # evolution never found the optimum: no ratio to report
            rel = []
        seeds = _row(runs, "evolution")["found optimum"].split("/")[1]

        def ratio(optimizer: str, rel: list[dict[str, str]] = rel) -> str:
            return _row(rel, optimizer)["mean ÷ evolution [95 % CI]"] if rel else "—"

        pls, pe = _row(runs, "predictor_local_search"), _row(runs, "predictor_evolution")
        out.append(
            f"| {name} ({seeds}) | {pls['found optimum']} | {ratio('predictor_local_search')} "
            f"| {pe['found optimum']} | {ratio('predictor_evolution')} "
            f"| {pls[test]} / {_row(runs, 'evolution')[test]} | {searched_label(sec)} |"
        )
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
    new = render(readme, headline(Store()))
    if args.check:
        if new != readme:
            print(
                "README.md's headline block differs from the results store: run python -m benchmarks.headline"
            )
            return 1
        return 0
    README.write_text(new)
    print("README.md headline block rewritten from the results store (benchmarks/results/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
