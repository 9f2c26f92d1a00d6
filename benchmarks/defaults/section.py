"""A selection's BENCHMARKS section: every candidate's validation τ, the choice, the frozen choice's test τ."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.bench_ledgformer import PAPER_TAU as PAPER_LEDGFORMER_NB201
from benchmarks.defaults.protocols import HELD_OUT_PROTOCOLS, PAPER_BLOCK, TEST_METRIC
from benchmarks.defaults.selection import _label

#: NN-Former paper, NB201 paper protocol (the sizes it reports)
PAPER_NB201 = {156: 0.804, 469: 0.860, 781: 0.879, 1563: 0.890}
#: NN-Former paper, NB101 paper protocol
PAPER_NB101 = {172: 0.765, 424: 0.809, 4236: 0.877}
#: space -> (the paper's numbers, cells it scores)
PAPER = {"nasbench201": (PAPER_NB201, "15,625"), "nasbench101": (PAPER_NB101, "423,624")}
#: predictor -> (the name its tables print, space -> (its paper's numbers, cells they score)): a selection's
#: tables set the predictor's own paper beside its figures
PAPERS: dict[str, tuple[str, dict[str, tuple[dict[int, float], str]]]] = {
    "nnformer": ("NN-Former", PAPER),
    "ledgformer": ("LeDG-Former", {"nasbench201": (PAPER_LEDGFORMER_NB201, "15,625")}),
}
#: issue #23's goal per space and training size: the mean τ over ``GOAL_SEEDS`` fit seeds that a leak-free
#: figure of settings chosen without test cells must reach (set on the paper protocol; it must hold under
#: the random protocol with the selection's cells excluded too)
GOAL = {
    "nasbench201": {156: 0.82, 469: 0.87, 781: 0.885, 1563: 0.890},
    "nasbench101": {172: 0.765, 424: 0.809, 4236: 0.880},
}
GOAL_SEEDS = 3
#: predictor -> space -> the goal its leak-free figures are set against (``GOAL`` for NN-Former); issue #23
#: asks LeDG-Former for its paper's level
GOALS: dict[str, dict[str, dict[int, float]]] = {
    "nnformer": GOAL,
    "ledgformer": {"nasbench201": PAPER_LEDGFORMER_NB201},
}


def paper_of(predictor: str, space: str) -> tuple[str, dict[int, float], str]:
    """The name ``predictor``'s tables print, its paper's τ on ``space`` per training size (empty when the
    paper reports none) and the cells they score (NN-Former's paper for a predictor without one)."""
    name, spaces = PAPERS.get(predictor, PAPERS["nnformer"])
    taus, cells = spaces.get(space, ({}, PAPER.get(space, ({}, "the space's"))[1]))
    return name, taus, cells


def report(result: dict[str, Any], command: str) -> str:
    """The BENCHMARKS.md section of one selection: every candidate's validation tau, the choice,
    and (if scored) the frozen choice's test tau beside the paper's."""
    from benchmarks.report import markdown_table

    if result.get("frozen_from"):
        return "\n".join([*rescored_header(result, command), *_frozen_tables(result), *_notes(result)])
    sizes = result["sizes"]
    rows = []
    for sc in sorted(result["scores"], key=lambda x: -x["mean_tau"]):
        chosen = all(sc[k] == v for k, v in result["chosen"].items())
        rows.append(
            [
                _label(sc) + (" **(chosen)**" if chosen else ""),
                *(float({str(k): v for k, v in sc["tau_by_size"].items()}[str(n)]) for n in sizes),
                float(sc["mean_tau"]),
                sc["options_hash"],
            ]
        )
    text = [
        f"### {result['predictor']}: defaults selected on {result['validation']}",
        "",
        f"`{command}`. Kendall τ-b on the training metric (`{result['metric']}`) of the validation cells; the "
        f"fits saw a task whose every column is NaN outside the training and validation cells, so no test cell "
        f"was read. Fit seeds {result['seeds']}; the candidate with the best mean τ over the sizes wins (ties: "
        f"the smaller step budget). Options of every other kind: the predictor's defaults"
        + (f" with {result['base_options']}" if result["base_options"] else "")
        + f". Commit `{result['commit'] or 'none'}`, nasearch {result['version']}, grid hash `{result['grid_hash']}`.",
        *(
            [
                "",
                f"Space `{result['space']}`. Its table has one accuracy column (`{result['metric']}`): training, "
                "validation and test read the same column, on disjoint cells (the selection saw only the training "
                "cells and the validation block; the *unseen* column below scores cells outside both).",
            ]
            if result.get("space", "nasbench201") != "nasbench201"
            and result.get("test_metric") == result["metric"]
            else []
        ),
        "",
        markdown_table(["candidate", *(f"validation τ @ {n}" for n in sizes), "mean", "options hash"], rows),
    ]
    if result.get("test_once"):
        test_rows = [
            [
                r["train_size"],
                r["seed"],
                PAPER_NB201.get(int(r["train_size"]), ""),
                float(r["kendall_tau"]),
                float(r["kendall_tau_unseen"]),
                f"{r['n_test']:,} / {r['n_unseen']:,}",
                r["options_hash"],
            ]
            for r in result["test_once"]
        ]
        text += [
            "",
            "The chosen setting, frozen, scored once on the test cells (paper protocol: train on the first N "
            "cells, the next 1024 are the validation block and leave the test set; test metric "
            "`cifar10/test_accuracy`). *all cells*: every cell but the validation block (the paper's "
            "protocol, training cells included, but 1024 fewer cells than the paper's 15,625); *unseen*: "
            "cells outside training and validation. Its options hash differs from the chosen candidate's only "
            "in protocol, test metric and validation size.",
            "",
            markdown_table(
                [
                    "train cells",
                    "fit seed",
                    "NN-Former paper τ",
                    "τ, all cells",
                    "τ, unseen cells",
                    "cells (all / unseen)",
                    "options hash",
                ],
                test_rows,
            ),
        ]
    return "\n".join([*text, *_frozen_tables(result), *_notes(result)])


def _notes(result: dict[str, Any]) -> list[str]:
    """The notes recorded with ``result`` (``--note``: what the figures mean, e.g. why a goal is missed),
    a paragraph each after the tables."""
    return [line for note in result.get("notes", []) for line in ("", str(note))]


def rescored_header(result: dict[str, Any], command: str) -> list[str]:
    """The head of a section that rescores the frozen choice of ``result['frozen_from']`` (selects nothing)."""
    chosen = ", ".join(f"{k}={v}" for k, v in result["chosen"].items())
    return [
        f"### {result['predictor']}: the frozen choice of `{result['frozen_from']}`, rescored on leak-free "
        "test sets",
        "",
        f"Nothing is selected here: the choice ({chosen}; every other option the predictor's default"
        + (f" with {result['base_options']}" if result["base_options"] else "")
        + f") is the one section `{result['frozen_from']}` selected (commit `{result['commit'] or 'none'}`, grid "
        f"hash `{result['grid_hash']}`), frozen; each fit is that section's fit at the same size and seed, with "
        "the same training and validation cells. Only the test set changes: a held-out protocol's test set "
        "leaves out every cell a stored selection of the space read (the leak audit's `selection_reads`, "
        "`python -m benchmarks.defaults.leaks`). *leaky τ*: the same choice, sizes and fit seeds on the "
        "protocol's own test set, which holds cells the selection read (section "
        f"`{result['frozen_from']}`, its *unseen* column"
        + (
            f", scored on a seeded {result['leaky_subsample']:,}-cell subset of that test set; the held-out "
            "protocols here score every test cell"
            if result.get("leaky_subsample")
            else ""
        )
        + f"). `{command}`.",
    ]


def _frozen_tables(result: dict[str, Any]) -> list[str]:
    """Each protocol's frozen-choice table of ``result`` (paper first), a blank line before each."""
    text = []
    for protocol, rows in sorted(result.get("frozen", {}).items(), key=lambda kv: kv[0] != "paper"):
        table = frozen_table(
            rows,
            protocol,
            result.get("frozen_commands", {}).get(protocol, ""),
            result.get("space", "nasbench201"),
            result.get("test_metric", TEST_METRIC),
            result.get("leaky", {}).get(HELD_OUT_PROTOCOLS.get(protocol, ""), {}),
            result["predictor"],
            _beside(result, protocol),
        )
        if result.get("test_subsample"):
            table = table.replace(
                " τ: Kendall",
                f" The test cells are a seeded {result['test_subsample']:,}-cell subset of those. τ: Kendall",
                1,
            )
        text += ["", table]
    return text


def _beside(result: dict[str, Any], protocol: str) -> Beside | None:
    """The column of ``result['beside']`` (a stored section, read into ``beside_taus`` by ``with_leaky``) on
    ``protocol``, if any."""
    if not result.get("beside_taus", {}).get(protocol):
        return None
    taus = {size: (str(text), str(cells)) for size, (text, cells) in result["beside_taus"][protocol].items()}
    return Beside(result["beside"], str(result.get("beside_name", result["beside"])), taus)


#: what each protocol's frozen-choice table says about its cells
PROTOCOL_TEXT = {
    "paper": (
        "paper protocol: train on the first N cells in official index order; the next 1024 cells pick the "
        "checkpoint and leave the test set; the seed varies only the fit. *all cells*: every cell but the "
        "validation block (the paper's protocol keeps the training cells in the test set); *unseen*: cells "
        "outside training and validation"
    ),
    "random": (
        "random protocol: N training cells and 1024 validation cells (the checkpoint) drawn at random with the "
        "seed, which varies both the cells and the fit; the test set is every other cell, so *all cells* and "
        "*unseen* are the same cells"
    ),
    "paper_held_out": (
        "paper protocol, leak-free: train on the first N cells in official index order; the next 1024 cells "
        "pick the checkpoint; the test cells are the row's *test cells*, from the first cell past both every "
        "cell a stored selection of the space read and the row's own N training and 1024 validation cells; "
        "the seed varies only the fit"
    ),
    "random_held_out": (
        "random protocol, leak-free: the random protocol's N training and 1024 validation cells (drawn "
        "with the seed, which varies both the cells and the fit); the test cells are the row's *test cells* "
        "(from the first cell past every cell a stored selection of the space read) less the training and "
        "validation cells"
    ),
}


def against_goal(taus: list[float], goal: float | None) -> str:
    """``taus``' mean as printed (3 decimals) less ``goal``, signed, with "meets" or "misses"; a dash
    (with the seed count) when there is no goal or fewer than ``GOAL_SEEDS`` seeds."""
    if goal is None:
        return "-"
    if len(taus) < GOAL_SEEDS:
        return f"- ({len(taus)} of {GOAL_SEEDS} seeds)"
    diff = round(round(float(np.mean(taus)), 3) - goal, 3)
    return f"{diff:+.3f} ({'meets' if diff >= 0 else 'misses'})"


def _mean_sd(values: list[float]) -> str:
    """``mean ± sd`` to 3 decimals (sample sd, n-1; just the value for one seed)."""
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{np.mean(values):.3f} ± {np.std(values, ddof=1):.3f}"


def frozen_table(
    rows: list[dict[str, Any]],
    protocol: str,
    command: str = "",
    space: str = "nasbench201",
    test_metric: str = TEST_METRIC,
    leaky: dict[str, str] | None = None,
    predictor: str = "nnformer",
    beside: Beside | None = None,
) -> str:
    """One protocol's test τ of the frozen choice: per size and options hash (in size order: a
    paper_held_out row's first test cell, part of its hash, changes with the size), mean ± sd over the seeds
    measured, beside ``predictor``'s paper's number (its paper protocol; NN-Former's for a predictor
    without one), with the rows' commits; with ``leaky`` (size -> the τ the same choice scored on a test set
    that holds cells a selection read), that τ in a column beside; with ``beside``, another stored
    section's τ on the same test cells; on a held-out (leak-free) protocol, the predictor's goal
    (``GOALS``) and the distance to it."""
    from benchmarks.report import markdown_table

    held_out = protocol in HELD_OUT_PROTOCOLS
    goals = GOALS.get(predictor, GOAL).get(space, {}) if held_out else {}
    name, paper, cells = paper_of(predictor, space)
    last = int(cells.replace(",", "")) - 1 if cells.replace(",", "").isdigit() else 0
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in sorted(rows, key=lambda r: (int(r["train_size"]), r["options_hash"], r["seed"])):
        groups.setdefault((r["options_hash"], int(r["train_size"])), []).append(r)
    table = []
    for (digest, size), group in groups.items():
        taus = [float(r["kendall_tau"]) for r in group]
        unseen = [float(r["kendall_tau_unseen"]) for r in group if r["kendall_tau_unseen"] is not None]
        fit = [float(r["fit_seconds"]) for r in group if r.get("fit_seconds") is not None]
        table.append(
            [
                size,
                paper.get(size, ""),
                _mean_sd(taus),
                _mean_sd(unseen) if unseen else "-",
                *([leaky.get(str(size), "-")] if leaky else []),
                *([beside.at(size, held_out_cells(group[0], last))] if beside else []),
                *([goals.get(size, "-"), against_goal(taus, goals.get(size))] if goals else []),
                ",".join(f"{r['seed']}{'' if r.get('fit_seconds') is not None else '*'}" for r in group),
                f"{np.mean(fit):.0f}" if fit else "-",
                *([held_out_cells(group[0], last)] if held_out else []),
                f"{group[0]['n_test']:,} / {group[0]['n_unseen']:,}",
                digest,
                ", ".join(dict.fromkeys(f"`{r['commit']}`" for r in group)),
            ]
        )
    what = PROTOCOL_TEXT.get(protocol, protocol)
    head = (
        f"**Frozen choice, {protocol} protocol** ({what}; test metric "
        f"`{test_metric}`). τ: Kendall τ-b, mean ± sample sd over the fit seeds listed. The {name} paper's "
        f"numbers are for its paper protocol, on all {cells} cells." + (f" `{command}`." if command else "")
    )
    if beside:
        head += " " + beside.text
    if goals:
        head += (
            f" *issue #23 goal*: the mean τ over {GOAL_SEEDS} fit seeds a leak-free figure must reach; "
            "*τ − goal*: the mean of *τ, all cells* as printed less the goal (≥ 0: met)."
        )
    same = [str(n) for n in sorted({int(r["train_size"]) for r in rows if _unseen_cells_are_held_out(r)})]
    if leaky and same:
        sizes = same[0] if len(same) == 1 else f"{', '.join(same[:-1])} and {same[-1]}"
        head += (
            f" At {sizes} cells the test cells are the paper protocol's *unseen* cells (its "
            "first cell past the row's own validation block is past every cell a selection read too), so "
            "*leaky τ* there scores the same cells as this row, none of them read by a selection."
        )
    if any(r.get("fit_seconds") is None for r in rows):
        head += (
            " *: a row of the first `--score-test` (the selection's run and commit), reused: its τ as that "
            "section printed it (3 decimals), no fit time recorded; fit s is the mean of the other seeds."
        )
    return (
        head
        + "\n\n"
        + markdown_table(
            [
                "train cells",
                f"{name} paper τ",
                "τ, all cells",
                "τ, unseen cells",
                *([f"leaky τ ({HELD_OUT_PROTOCOLS.get(protocol, protocol)} protocol)"] if leaky else []),
                *([beside.header] if beside else []),
                *(["issue #23 goal", "τ − goal"] if goals else []),
                "fit seeds",
                "fit s (mean)",
                *([TEST_CELLS] if held_out else []),
                "cells (all / unseen)",
                "options hash",
                "commit",
            ],
            table,
        )
    )


def _unseen_cells_are_held_out(row: dict[str, Any]) -> bool:
    """Whether a paper_held_out ``row`` tests from just past its own training and validation cells: the
    paper protocol's *unseen* cells at the same size and seed."""
    return (
        row.get("protocol") == "paper_held_out"
        and int(row.get("held_out") or 0) == int(row["train_size"]) + PAPER_BLOCK
    )


#: the column of a held-out protocol's frozen table that gives each row's test cells (``first..last``)
TEST_CELLS = "test cells"


def held_out_cells(row: dict[str, Any], last: int) -> str:
    """A held-out row's test cells as the table prints them: ``first..last`` (its ``held_out`` on)."""
    return f"{int(row['held_out']):,}..{last:,}" if row.get("held_out") else "-"


def command_of(result: dict[str, Any], out: Path) -> str:
    """The invocation that produced ``result``, rebuilt from what it recorded."""
    if result.get("frozen_from"):  # a rescoring: its JSON came from the stored choice
        return f"python -m benchmarks.select_defaults --rebuild-json --from-section {result['frozen_from']} --out {out}"

    def values(key: str) -> str:
        return ",".join(dict.fromkeys(str(sc[key]).lower() for sc in result["scores"]))

    parts = [
        f"--predictor {result['predictor']}",
        f"--procedure {result['procedure']}",
        *([f"--space {result['space']}"] if result.get("space", "nasbench201") != "nasbench201" else []),
        f"--sizes {','.join(map(str, result['sizes']))}",
        f"--seeds {','.join(map(str, result['seeds']))}",
        f"--max-steps {values('max_steps')}",
        f"--rank-weights {values('rank_weight')}",
        f"--pruned {values('prune_graph')}",
    ]
    if result.get("test_once"):
        parts.append("--score-test")
    return "python -m benchmarks.select_defaults " + " ".join(parts) + f" --out {out}"


def frozen_cells(section: Any, column: str) -> dict[str, dict[str, tuple[str, str]]]:
    """Per protocol and training size, ``column`` of a stored selection section's frozen tables (mean ± sd,
    with its fit seeds) and the row's test cells (``-`` where its table has no such column)."""
    import re

    from benchmarks.results import Table

    out: dict[str, dict[str, tuple[str, str]]] = {}
    protocol = ""
    for block in section.blocks:
        if isinstance(block, str):
            found = re.search(r"\*\*Frozen choice, (\w+) protocol\*\*", block)
            protocol = found.group(1) if found else ""
        elif isinstance(block, Table) and protocol and "fit seeds" in block.headers:
            for row in block.rows:
                cell = dict(zip(block.headers, row))
                out.setdefault(protocol, {})[str(cell["train cells"])] = (
                    f"{cell[column]} (seeds {cell['fit seeds']})",
                    str(cell.get(TEST_CELLS, "-")),
                )
    return out


def leaky_taus(section: Any) -> dict[str, dict[str, str]]:
    """Per protocol and training size, the *unseen* τ (mean ± sd, with its fit seeds) of a stored
    selection section's frozen tables: the figures a held-out rescoring stands beside."""
    return {
        protocol: {size: text for size, (text, _) in sizes.items()}
        for protocol, sizes in frozen_cells(section, "τ, unseen cells").items()
    }


@dataclasses.dataclass(frozen=True)
class Beside:
    """Another stored section's *τ, all cells* per training size on one protocol, with each row's test
    cells (``frozen_cells``): a column beside a frozen table, filled where the test cells are the same."""

    #: the section the figures come from
    section: str
    #: the name of the predictor it scored (the column's head)
    name: str
    #: training size -> (τ as that section printed it, with its fit seeds; its row's test cells)
    taus: dict[str, tuple[str, str]]

    @property
    def header(self) -> str:
        """The column's head."""
        return f"{self.name} τ, same test cells"

    @property
    def text(self) -> str:
        """What the column holds, for the table's head."""
        return (
            f"*{self.header}*: *τ, all cells* of section `{self.section}` (its fit seeds) on this protocol, "
            "where its row's test cells are this row's (a dash where they differ or it has no row)."
        )

    def at(self, size: int, cells: str) -> str:
        """The figure at ``size`` when its test cells are ``cells``, else a dash."""
        tau, theirs = self.taus.get(str(size), ("-", ""))
        return tau if theirs == cells else "-"
